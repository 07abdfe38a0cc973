import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MedgeError } from '../errors.js';
import type { IngestOutcome } from '../ingest/types.js';
import { stowAnswer } from './stow-response.js';
import { FAILURE_REASON, failureReasonOf } from './stow-failure.js';
import type { PartResult } from './stow-part.js';
import type { DicomwebUrls } from './urls.js';

const urls: DicomwebUrls = {
  study: (s) => `http://h/dicom-web/studies/${s}`,
  series: (s, se) => `http://h/dicom-web/studies/${s}/series/${se}`,
  instance: (s, se, i) => `http://h/dicom-web/studies/${s}/series/${se}/instances/${i}`,
};
const stored = (sop: string, status: IngestOutcome['status'] = 'stored'): PartResult => ({
  ok: true,
  outcome: { status, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: sop, studyInstanceUid: '1.1', seriesInstanceUid: '1.1.1', transferSyntaxUid: '1.2.840.10008.1.2.1', size: 10, receivedAt: 0 },
});
const failed = (code: MedgeError['code'], sop?: string): PartResult => {
  const error = new MedgeError(code, 'x');
  return { ok: false, reason: failureReasonOf(error), error, sopClassUid: sop ? '1.2.3' : undefined, sopInstanceUid: sop };
};

test('all stored (duplicates included): 200, ReferencedSOPSequence with Retrieve URLs', () => {
  const a = stowAnswer([stored('1.1.1.1'), stored('1.1.1.2', 'duplicate')], urls);
  assert.equal(a.status, 200);
  assert.deepEqual(a.body['00081190'], { vr: 'UR', Value: ['http://h/dicom-web/studies/1.1'] });
  const refs = a.body['00081199']!.Value as any[];
  assert.equal(refs.length, 2);
  assert.deepEqual(refs[1], {
    '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
    '00081155': { vr: 'UI', Value: ['1.1.1.2'] },
    '00081190': { vr: 'UR', Value: ['http://h/dicom-web/studies/1.1/series/1.1.1/instances/1.1.1.2'] },
  });
  assert.equal(a.body['00081198'], undefined);
});

test('some failed: 202; none stored: 409; only a full disk: 507', () => {
  const mixed = stowAnswer([stored('1'), failed('MEDGE_ERR_INGEST_NOT_DICOM')], urls);
  assert.equal(mixed.status, 202);
  assert.deepEqual(mixed.body['00081198']!.Value, [{ '00081197': { vr: 'US', Value: [0xc000] } }]);
  assert.equal(stowAnswer([failed('MEDGE_ERR_INGEST_PARSE', '9.9'), failed('MEDGE_ERR_STORE_DISK_FULL')], urls).status, 409);
  const full = stowAnswer([failed('MEDGE_ERR_STORE_DISK_FULL', '9.9')], urls, '5.5');
  assert.equal(full.status, 507);
  assert.deepEqual(full.body['00081190'], { vr: 'UR', Value: ['http://h/dicom-web/studies/5.5'] });
  assert.deepEqual((full.body['00081198']!.Value as any[])[0]['00081155'], { vr: 'UI', Value: ['9.9'] });
});

test('failure reasons per error (PS3.18 Table I.2-2)', () => {
  const reason = (code: MedgeError['code']) => failureReasonOf(new MedgeError(code, 'x'));
  assert.equal(reason('MEDGE_ERR_STORE_DISK_FULL'), FAILURE_REASON.outOfResources);
  assert.equal(reason('MEDGE_ERR_INGEST_NOT_DICOM'), 0xc000);
  assert.equal(reason('MEDGE_ERR_INGEST_PARSE'), 0xc000);
  assert.equal(reason('MEDGE_ERR_INGEST_SOP_CLASS'), 0x0122);
  assert.equal(reason('MEDGE_ERR_DICOMWEB_STUDY_MISMATCH'), 0xa900);
  assert.equal(reason('MEDGE_ERR_STORE_IO'), 0x0110);
});
