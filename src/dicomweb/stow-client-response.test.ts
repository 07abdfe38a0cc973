import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStowResponse, outcomesFromResponse } from './stow-client-response.js';
import { stowAnswer } from './stow-response.js';
import { FAILURE_REASON } from './stow-failure.js';
import type { DicomwebUrls } from './urls.js';

const urls: DicomwebUrls = {
  study: (s) => `http://x/dicom-web/studies/${s}`,
  series: (s, se) => `http://x/dicom-web/studies/${s}/series/${se}`,
  instance: (s, se, i) => `http://x/dicom-web/studies/${s}/series/${se}/instances/${i}`,
} as DicomwebUrls;

const stored = (uid: string) => ({ ok: true as const, outcome: { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: uid, studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4' } });

test("medge's own STOW answer (202: one stored, one disk full, one study mismatch) reads back as three outcomes in the order sent", () => {
  const answer = stowAnswer(
    [
      stored('1.1'),
      { ok: false, sopInstanceUid: '1.2', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', reason: FAILURE_REASON.outOfResources },
      { ok: false, sopInstanceUid: '1.3', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', reason: FAILURE_REASON.studyMismatch },
    ] as never,
    urls,
  );
  assert.equal(answer.status, 202);
  const body = JSON.parse(JSON.stringify(answer.body));
  assert.ok(isStowResponse(body));
  const out = outcomesFromResponse(body, ['1.3', '1.1', '1.2'], answer.status);
  assert.deepEqual(out.map((o) => [o.sopInstanceUid, o.status, o.retryable]), [['1.3', 'failed', false], ['1.1', 'stored', undefined], ['1.2', 'failed', true]]);
  assert.match(out[0]!.reason!, /does not match the SOP class \(A900\)/);
  assert.match(out[2]!.reason!, /out of resources at the destination \(A700\)/);
  assert.equal(out[1]!.retrieveUrl, 'http://x/dicom-web/studies/1.2.3/series/1.2.3.4/instances/1.1');
  assert.equal(out[1]!.httpStatus, 202);
});

test('a Warning Reason (0008,1196) in a referenced item is a warning; an instance the answer does not name fails as retryable', () => {
  const body = {
    '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['2.1'] }, '00081196': { vr: 'US', Value: [0xb000] } }] },
    '00081198': { vr: 'SQ', Value: [{ '00081197': { vr: 'US', Value: ['272'] } }] },
  };
  const out = outcomesFromResponse(body, ['2.1', '2.2'], 202);
  assert.equal(out[0]!.status, 'warning');
  assert.equal(out[0]!.warningReason, 0xb000);
  assert.match(out[0]!.reason!, /B000/);
  assert.deepEqual([out[1]!.status, out[1]!.retryable], ['failed', true]);
  assert.match(out[1]!.reason!, /does not mention/);
});

test('a body with neither sequence is not a Store Instances Response', () => {
  assert.equal(isStowResponse({ '00081190': { vr: 'UR', Value: ['x'] } }), false);
  assert.equal(isStowResponse([]), false);
  assert.equal(isStowResponse(null), false);
  assert.equal(isStowResponse({ '00081198': { vr: 'SQ' } }), true);
});
