import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAccept, parseMediaType } from './media-type.js';

test('STOW-RS Content-Types as senders write them (quoted, unquoted, spacing, case)', () => {
  assert.deepEqual(parseMediaType('multipart/related; type="application/dicom"; boundary=abc123'), {
    essence: 'multipart/related',
    params: { type: 'application/dicom', boundary: 'abc123' },
  });
  assert.deepEqual(parseMediaType('Multipart/Related;type=application/dicom;Boundary="a;b=c \\"q\\""')!.params, { type: 'application/dicom', boundary: 'a;b=c "q"' });
  assert.equal(parseMediaType('multipart/related ; boundary=X')!.params.boundary, 'X', 'boundary case kept');
  assert.equal(parseMediaType(''), undefined);
  assert.equal(parseMediaType('nonsense'), undefined);
});

test('Accept headers: ranges, parameters and q-values, best first', () => {
  const ranges = parseAccept('application/json;q=0.5, multipart/related; type="application/dicom"; transfer-syntax=*, */*;q=0.1, text/html;q=0');
  assert.deepEqual(ranges.map((r) => r.essence), ['multipart/related', 'application/json', '*/*']);
  assert.equal(ranges[0]!.params['transfer-syntax'], '*');
  assert.deepEqual(parseAccept(undefined), []);
});
