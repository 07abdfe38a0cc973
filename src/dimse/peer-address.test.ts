import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePeerAddress } from './peer-address.js';
import { isMedgeError } from '../errors.js';

test('AE@host:port, with IPv6 in brackets', () => {
  assert.deepEqual(parsePeerAddress('PACS@10.0.0.5:104'), { aeTitle: 'PACS', host: '10.0.0.5', port: 104 });
  assert.deepEqual(parsePeerAddress('MEDGE@[::1]:10104'), { aeTitle: 'MEDGE', host: '::1', port: 10104 });
  for (const bad of ['PACS@host', 'host:104', 'A_TITLE_LONGER_THAN_16@h:1', 'P@h:0', 'P@h:70000', '@h:104']) {
    assert.throws(() => parsePeerAddress(bad), (e) => isMedgeError(e, 'MEDGE_ERR_CLI_USAGE'), bad);
  }
});
