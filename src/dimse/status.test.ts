import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dimseStatusFor, isFailureStatus, Status } from './status.js';
import { MedgeError } from '../errors.js';

test('one mapper from MedgeError codes to DIMSE status (PS3.4 B.2.3, PS3.7 C)', () => {
  const cases: [ConstructorParameters<typeof MedgeError>[0], number][] = [
    ['MEDGE_ERR_STORE_DISK_FULL', 0xa700],
    ['MEDGE_ERR_INGEST_PARSE', 0xc000],
    ['MEDGE_ERR_INGEST_NOT_DICOM', 0xc000],
    ['MEDGE_ERR_INGEST_MISSING_UID', 0xc000],
    ['MEDGE_ERR_INGEST_UID_MISMATCH', 0xa900],
    ['MEDGE_ERR_INGEST_SOP_CLASS', 0x0122],
    ['MEDGE_ERR_DIMSE_IDENTIFIER', 0xa900],
    ['MEDGE_ERR_STORE_IO', 0x0110],
    ['MEDGE_ERR_INTERNAL', 0x0110],
  ];
  for (const [code, status] of cases) assert.equal(dimseStatusFor(new MedgeError(code, 'm')).status, status, code);
  assert.equal(dimseStatusFor(new Error('boom')).status, Status.ProcessingFailure);
});

test('error comment is at most 64 characters of LO-safe text', () => {
  const s = dimseStatusFor(new MedgeError('MEDGE_ERR_INGEST_PARSE', `element (7FE0,0010) length\\${'x'.repeat(100)}\n`));
  assert.ok(s.errorComment!.length <= 64);
  assert.doesNotMatch(s.errorComment!, /[\\\n]/);
});

test('failure classification', () => {
  for (const ok of [0x0000, 0xff00, 0xff01, 0xfe00, 0xb000, 0xb007]) assert.equal(isFailureStatus(ok), false, ok.toString(16));
  for (const bad of [0xa700, 0xa900, 0xc000, 0x0110, 0x0122]) assert.equal(isFailureStatus(bad), true, bad.toString(16));
});
