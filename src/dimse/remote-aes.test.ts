import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMedgeError } from '../errors.js';
import { hostOf, loadRemoteAes } from './remote-aes.js';

test('remote AEs are found by AE title (padding ignored) with their TLS files read; the host defaults to the requester\'s address', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-remote-aes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'ca.pem'), 'CA PEM');
  const table = await loadRemoteAes([{ aeTitle: 'WS1', port: 104 }, { aeTitle: 'PACS', port: 2762, host: 'pacs.local', tls: { caFile: join(dir, 'ca.pem') } }]);
  assert.equal(table.find('WS1 ')?.port, 104);
  assert.equal(table.find('NOBODY'), undefined);
  assert.equal(table.find('PACS')?.tls?.ca?.toString(), 'CA PEM');
  assert.equal(hostOf(table.find('WS1')!, '::ffff:10.0.0.8'), '10.0.0.8');
  assert.equal(hostOf(table.find('PACS')!, '10.0.0.8'), 'pacs.local');
  await assert.rejects(loadRemoteAes([{ aeTitle: 'PACS', port: 2762, tls: { caFile: join(dir, 'missing.pem') } }]),
    (err) => isMedgeError(err, 'MEDGE_ERR_CONFIG_FILE') && /dicom\.remoteAes entry PACS: cannot read the CA file .*missing\.pem \(ENOENT\)/.test(err.message));
});
