import { attribute, attributeFromString, type DicomJsonDataset } from './dicom-json.js';
import { FAILURE_REASON } from './stow-failure.js';
import type { PartResult } from './stow-part.js';
import type { DicomwebUrls } from './urls.js';

/** Tags of the Store Instances Response Module (PS3.18 Annex I, Table I.1-1). */
const TAG = {
  RetrieveURL: '00081190',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  FailureReason: '00081197',
} as const;

export interface StowAnswer {
  status: number;
  body: DicomJsonDataset;
}

/**
 * The HTTP status and application/dicom+json body of a STOW-RS response (PS3.18 10.5.3,
 * Table 10.5.3-1): 200 when every instance was stored (a duplicate counts as stored), 202 when
 * some were, 409 when none was. When none was and every failure was a full disk, 507 (RFC 4918
 * 11.5) tells the sender that retrying later may work, where 409 says the request itself is at
 * fault. `targetStudy` is the study of the URL (POST /studies/{study}), if any.
 */
export function stowAnswer(results: PartResult[], urls: DicomwebUrls, targetStudy?: string): StowAnswer {
  const stored = results.filter((r): r is Extract<PartResult, { ok: true }> => r.ok);
  const failed = results.filter((r): r is Extract<PartResult, { ok: false }> => !r.ok);
  const body: DicomJsonDataset = {};

  const studies = new Set(stored.map((r) => r.outcome.studyInstanceUid));
  const study = targetStudy ?? (studies.size === 1 ? [...studies][0] : undefined);
  if (study) body[TAG.RetrieveURL] = attributeFromString('UR', urls.study(study));

  if (failed.length > 0) {
    body[TAG.FailedSOPSequence] = attribute(
      'SQ',
      failed.map((f) => {
        const item: DicomJsonDataset = {};
        // Known only when the part began with a readable file meta information (PS3.10 7.1).
        if (f.sopClassUid) item[TAG.ReferencedSOPClassUID] = attributeFromString('UI', f.sopClassUid);
        if (f.sopInstanceUid) item[TAG.ReferencedSOPInstanceUID] = attributeFromString('UI', f.sopInstanceUid);
        item[TAG.FailureReason] = attribute('US', [f.reason]);
        return item;
      }),
    );
  }
  if (stored.length > 0) {
    body[TAG.ReferencedSOPSequence] = attribute(
      'SQ',
      stored.map(({ outcome: o }) => ({
        [TAG.ReferencedSOPClassUID]: attributeFromString('UI', o.sopClassUid),
        [TAG.ReferencedSOPInstanceUID]: attributeFromString('UI', o.sopInstanceUid),
        [TAG.RetrieveURL]: attributeFromString('UR', urls.instance(o.studyInstanceUid, o.seriesInstanceUid, o.sopInstanceUid)),
      })),
    );
  }

  let status = 200;
  if (failed.length > 0) {
    const allDiskFull = failed.every((f) => f.reason === FAILURE_REASON.outOfResources);
    status = stored.length > 0 ? 202 : allDiskFull ? 507 : 409;
  }
  return { status, body };
}
