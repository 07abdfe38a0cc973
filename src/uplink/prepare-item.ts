import { MedgeError, toMedgeError } from '../errors.js';
import type { OutboxItem } from '../alerts/outbox.js';
import type { BlobStore } from '../store/blob-store.js';
import type { InstanceIndex } from '../store/index-db.js';
import type { Deidentifier } from '../dicom/deid/index.js';
import { compressForSend } from '../dicom/transcode.js';
import type { Logger } from '../observability/log.js';
import type { AlertPayload, InstancePayload } from './uplink-item.js';
import type { PreparedAlert, PreparedInstance } from './uplink-sender.js';

/** De-identification as the uplink needs it: whole instances, and single UIDs (for alert notices). */
export interface UplinkDeid {
  deidentifier: Deidentifier;
  /** The replacement of one UID, recorded in the mapping table (the original when UIDs are retained). */
  replaceUid(uid: string): string;
}

export interface PrepareDeps {
  index: InstanceIndex;
  store: BlobStore;
  /** Present for a destination whose privacy is `deidentified`. */
  deid?: UplinkDeid;
  /** The destination's compressResults (default true): results leave losslessly compressed. */
  compressResults?: boolean;
  /** Told when a result could not be compressed (it is then sent as stored). */
  log?: Logger;
}

/** Item kinds that are the node's own results (docs/results.md), compressed when the destination allows it. */
const RESULT_KINDS: ReadonlySet<string> = new Set(['sr', 'seg', 'key-image']);

/**
 * The bytes of an instance item as they will leave: the stored file itself (streamed from disk) for
 * an identified destination; a de-identified copy made just before sending (PS3.15 Annex E, its
 * mapping recorded first) otherwise; for a result (SR, SEG, key image) a losslessly compressed copy
 * of either unless the destination says compressResults: false. Throws MEDGE_ERR_STORE_NOT_FOUND when the instance is no
 * longer stored, MEDGE_ERR_DEID_* when it cannot be de-identified: both park the item.
 */
export async function prepareInstance(item: OutboxItem, payload: InstancePayload, deps: PrepareDeps): Promise<PreparedInstance> {
  const row = deps.index.getInstance(payload.sop);
  if (!row) throw new MedgeError('MEDGE_ERR_STORE_NOT_FOUND', `instance ${payload.sop} is no longer in the store`, { sopInstanceUid: payload.sop });
  const compress = deps.compressResults !== false && RESULT_KINDS.has(payload.kind);
  const sent = { study: payload.study, series: payload.series, sop: payload.sop };
  if (!deps.deid) {
    if (deps.store.localPath && !compress) return { item, payload, part10: { path: deps.store.localPath(row.blobKey), size: row.size }, sent, bytes: row.size };
    const bytes = await deps.store.read(row.blobKey);
    return compress ? compressed({ item, payload, part10: bytes, sent, bytes: bytes.length }, deps.log) : { item, payload, part10: bytes, sent, bytes: bytes.length };
  }
  const original = await deps.store.read(row.blobKey);
  // De-identification first: it reads the stored Explicit VR Little Endian dataset; the compressed
  // copy is made from its output, so what leaves is both de-identified and compressed.
  const out = deps.deid.deidentifier.deidentify(original);
  const prepared = { item, payload, part10: out.part10, sent: { study: out.studyInstanceUid, series: out.seriesInstanceUid, sop: out.sopInstanceUid }, bytes: out.part10.length };
  return compress ? compressed(prepared, deps.log) : prepared;
}

/**
 * The result as it leaves: a lossless compressed copy (src/dicom/transcode.ts), the uncompressed
 * bytes kept for a DIMSE peer that refuses the compressed syntax. A result that cannot be
 * compressed goes as it is: compression saves bytes, it never holds a result back.
 */
function compressed(p: PreparedInstance & { part10: Buffer }, log: Logger | undefined): PreparedInstance {
  try {
    const out = compressForSend(p.part10);
    if (!out) return p;
    return { ...p, part10: out.part10, bytes: out.part10.length, transferSyntaxUid: out.transferSyntaxUid, uncompressed: p.part10 };
  } catch (err) {
    log?.warn({ event: 'uplink-compress-failed', item: p.item.id, kind: p.payload.kind, err: toMedgeError(err).message }, 'a result could not be compressed; sent uncompressed');
    return p;
  }
}

/**
 * An alert notice as JSON (docs/uplink.md "Alerts"): what changed, the rule, the severity and the
 * finding's summary (no patient data), with the study and series under their replacement UIDs
 * when de-identified.
 */
export function prepareAlert(item: OutboxItem, payload: AlertPayload, deid: UplinkDeid | undefined, nodeAe: string): PreparedAlert {
  const uid = (u: string) => (deid ? deid.replaceUid(u) : u);
  const doc = {
    type: 'medge-alert',
    version: 1,
    node: nodeAe,
    alertId: payload.alertId,
    revision: payload.revision,
    change: payload.change,
    rule: payload.rule,
    severity: payload.severity,
    state: payload.state,
    summary: payload.summary,
    studyInstanceUid: uid(payload.study),
    seriesInstanceUid: uid(payload.series),
    at: new Date(payload.at).toISOString(),
  };
  const body = Buffer.from(JSON.stringify(doc), 'utf8');
  return { item, payload, body, bytes: body.length };
}

/** Why an item cannot be prepared, for the parked reason. */
export function prepareFailure(err: unknown): string {
  const e = toMedgeError(err);
  return `${e.message} [${e.code}]`;
}
