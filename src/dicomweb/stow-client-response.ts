import type { DicomJsonDataset } from './dicom-json.js';

/** Tags of the Store Instances Response Module (PS3.18 Annex I, Table I.1-1). */
const TAG = {
  RetrieveURL: '00081190',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  ReferencedSOPInstanceUID: '00081155',
  FailureReason: '00081197',
  WarningReason: '00081196',
} as const;

/** Failure Reason groups (PS3.18 Table I.2-2, PS3.4 Annex GG.4): A7xx out of resources. */
const OUT_OF_RESOURCES_MASK = 0xff00;
const OUT_OF_RESOURCES = 0xa700;
/** 0110 Processing failure: the destination had a transient problem as often as not. */
const PROCESSING_FAILURE = 0x0110;

export type StowInstanceStatus = 'stored' | 'warning' | 'failed';

export interface StowOutcome {
  sopInstanceUid: string;
  status: StowInstanceStatus;
  /** The HTTP status of the whole request. */
  httpStatus: number;
  /** Why it failed or warned, for a person (no patient data: codes and UIDs only). */
  reason?: string;
  /** Failure Reason (0008,1197) as the destination gave it. */
  failureReason?: number;
  /** Warning Reason (0008,1196) as the destination gave it. */
  warningReason?: number;
  /** For a failed instance: whether sending it again later may succeed. */
  retryable?: boolean;
  /** Retrieve URL (0008,1190) of a stored instance, when given. */
  retrieveUrl?: string;
}

/** Failure Reason meanings (PS3.4 Annex GG.4, PS3.18 Table I.2-2) for the reason text. */
function failureText(code: number): string {
  const hex = code.toString(16).toUpperCase().padStart(4, '0');
  if ((code & OUT_OF_RESOURCES_MASK) === OUT_OF_RESOURCES) return `out of resources at the destination (${hex})`;
  if ((code & 0xff00) === 0xa900) return `data set does not match the SOP class (${hex})`;
  if ((code & 0xf000) === 0xc000) return `the destination cannot understand the instance (${hex})`;
  if (code === PROCESSING_FAILURE) return `processing failure at the destination (${hex})`;
  if (code === 0x0122) return `SOP class not supported by the destination (${hex})`;
  if (code === 0x0124) return `not authorized to store this instance (${hex})`;
  if (code === 0xc122 || code === 0x0112) return `transfer syntax or instance refused (${hex})`;
  return `failure reason ${hex}`;
}

function uidOf(item: DicomJsonDataset): string | undefined {
  const v = item[TAG.ReferencedSOPInstanceUID]?.Value?.[0];
  return typeof v === 'string' ? v.trim() : undefined;
}

function numberOf(item: DicomJsonDataset, tag: string): number | undefined {
  const v = item[tag]?.Value?.[0];
  if (typeof v === 'number') return v;
  // Lenient read (house style 2): some servers write a US value as a decimal string.
  if (typeof v === 'string' && /^\d+$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

function items(ds: DicomJsonDataset, tag: string): DicomJsonDataset[] {
  const value = ds[tag]?.Value;
  return Array.isArray(value) ? (value.filter((x) => x && typeof x === 'object') as DicomJsonDataset[]) : [];
}

/** Whether a parsed body is a Store Instances Response at all (has one of its sequences). */
export function isStowResponse(body: unknown): body is DicomJsonDataset {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return false;
  const ds = body as DicomJsonDataset;
  return TAG.ReferencedSOPSequence in ds || TAG.FailedSOPSequence in ds;
}

/**
 * One outcome per instance sent, in the order sent (PS3.18 10.5.3): each UID is looked up in the
 * Referenced SOP Sequence (stored, or warning when the item has a Warning Reason) and the Failed
 * SOP Sequence (failed with its Failure Reason). An instance in neither is reported failed and
 * retryable: the destination did not say, so the sender must check before it trusts either way.
 */
export function outcomesFromResponse(body: DicomJsonDataset, sent: readonly string[], httpStatus: number): StowOutcome[] {
  const stored = new Map<string, DicomJsonDataset>();
  for (const item of items(body, TAG.ReferencedSOPSequence)) {
    const uid = uidOf(item);
    if (uid) stored.set(uid, item);
  }
  const failed = new Map<string, DicomJsonDataset>();
  for (const item of items(body, TAG.FailedSOPSequence)) {
    const uid = uidOf(item);
    if (uid) failed.set(uid, item);
  }
  return sent.map((sopInstanceUid): StowOutcome => {
    const f = failed.get(sopInstanceUid);
    if (f) {
      const failureReason = numberOf(f, TAG.FailureReason);
      const retryable = failureReason !== undefined && ((failureReason & OUT_OF_RESOURCES_MASK) === OUT_OF_RESOURCES || failureReason === PROCESSING_FAILURE);
      return { sopInstanceUid, status: 'failed', httpStatus, failureReason, retryable, reason: failureReason === undefined ? 'the destination refused it without a reason' : failureText(failureReason) };
    }
    const s = stored.get(sopInstanceUid);
    if (s) {
      const warningReason = numberOf(s, TAG.WarningReason);
      const url = s[TAG.RetrieveURL]?.Value?.[0];
      const retrieveUrl = typeof url === 'string' ? url : undefined;
      if (warningReason !== undefined) {
        const hex = warningReason.toString(16).toUpperCase().padStart(4, '0');
        return { sopInstanceUid, status: 'warning', httpStatus, warningReason, reason: `stored with warning ${hex} (PS3.18 Table I.2-1)`, retrieveUrl };
      }
      return { sopInstanceUid, status: 'stored', httpStatus, retrieveUrl };
    }
    // A failed part whose UID the destination could not read is listed without one.
    return { sopInstanceUid, status: 'failed', httpStatus, retryable: true, reason: 'the answer of the destination does not mention this instance' };
  });
}
