import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { MedgeError, toMedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import { storeFiles, type StoreFileResult } from '../dimse/scu.js';
import type { DicomUser } from '../config/schema.js';
import type { ScuTlsOptions } from '../dimse/scu-association.js';
import { statusHex } from '../dimse/status.js';
import { CONVERTIBLE } from '../dimse/scu-convert.js';
import { STORAGE_SOP_CLASSES } from '../dicom/sop-classes.js';
import { tlsProblem } from '../util/tls-problems.js';
import type { InstanceOutcome, PreparedInstance, UplinkSender } from './uplink-sender.js';

export interface DimseSenderOptions {
  host: string;
  port: number;
  calledAe: string;
  callingAe: string;
  tls?: ScuTlsOptions;
  /** A User Identity to present (PS3.7 D.3.3.7). */
  user?: DicomUser;
  timeoutMs?: number;
  /** Where de-identified copies are written for the time of a send (the SCU streams files). */
  tmpDir: string;
  log?: Logger;
}

const NO_CONTEXT = 'MEDGE_ERR_DIMSE_NO_CONTEXT';
/** Instances per association (PS3.8: one association per batch; the SCU re-associates if it is lost). */
const DIMSE_BATCH = 32;
/** Codes of a lost or refused association: the batch failed as a whole. */
const LINK_CODES = new Set(['MEDGE_ERR_DIMSE_CONNECT', 'MEDGE_ERR_DIMSE_TIMEOUT', 'MEDGE_ERR_DIMSE_ABORTED', 'MEDGE_ERR_DIMSE_PDU', 'MEDGE_ERR_DIMSE_REJECTED']);

/**
 * A DIMSE C-STORE destination (PS3.4 B) over the node's SCU, byte for byte from disk (results in
 * their compressed copy, or uncompressed where the peer refuses its syntax). There is no
 * C-FIND in the SCU, so exists() cannot tell (null): an instance whose previous attempt ended
 * without an answer is sent again, and the archive keeps one copy (Orthanc answers success for a
 * re-sent instance and keeps the first; PS3.4 B.2.3 leaves duplicates to the SCP).
 */
export function createDimseSender(o: DimseSenderOptions): UplinkSender {
  const target = `${o.calledAe}@${o.host}:${o.port}${o.tls ? ' (TLS)' : ''}`;
  /**
   * SOP class | transfer syntax pairs the peer refused while it took the SOP class uncompressed:
   * later results go uncompressed at once. A SOP class refused in every syntax is not recorded,
   * so that once the peer accepts it (retry after a change of its configuration) results go
   * compressed again.
   */
  const refused = new Set<string>();
  const refusalKey = (b: PreparedInstance) => `${b.payload.sopClass}|${b.transferSyntaxUid}`;

  async function send(dir: string, entries: { b: PreparedInstance; data: PreparedInstance['part10'] }[]): Promise<{ results: Map<PreparedInstance, StoreFileResult>; bytes: number }> {
    const files: string[] = [];
    for (const { b, data } of entries) {
      if (Buffer.isBuffer(data)) {
        await mkdir(dir, { recursive: true });
        const file = join(dir, `${b.item.id}-${files.length}.dcm`);
        await writeFile(file, data);
        files.push(file);
      } else files.push(data.path);
    }
    const { results, summary } = await storeFiles({ host: o.host, port: o.port, calledAe: o.calledAe, callingAe: o.callingAe, tls: o.tls, user: o.user, timeoutMs: o.timeoutMs, log: o.log, files });
    const lost = results.filter((r) => !r.ok && r.error && LINK_CODES.has(r.error.code));
    if (lost.length === results.length && results.length > 0) throw linkError(lost[0]!, target);
    const byFile = new Map(results.map((r) => [r.file, r]));
    return { results: new Map(entries.map((e, i) => [e.b, byFile.get(files[i]!)!])), bytes: summary.bytes };
  }

  return {
    type: 'dimse',
    target,
    maxBatch: DIMSE_BATCH,
    async store(batch) {
      const dir = join(o.tmpDir, randomUUID());
      try {
        // A compressed result is proposed in its own syntax (the SCU proposes each file's syntax,
        // PS3.8 9.3.2.2); when the peer accepts no context for it, the uncompressed file follows.
        const first = batch.map((b) => ({ b, data: b.uncompressed && refused.has(refusalKey(b)) ? b.uncompressed : b.part10 }));
        const { results, bytes } = await send(dir, first);
        let total = bytes;
        const again = first.filter(({ b, data }) => b.uncompressed && data !== b.uncompressed && results.get(b)?.error?.code === NO_CONTEXT);
        if (again.length > 0) {
          o.log?.info({ event: 'uplink-dimse-uncompressed', target, items: again.length }, 'the peer refused the compressed transfer syntax; results sent uncompressed');
          try {
            const second = await send(dir, again.map(({ b }) => ({ b, data: b.uncompressed! })));
            for (const [b, r] of second.results) {
              results.set(b, r);
              if (r.error?.code !== NO_CONTEXT) refused.add(refusalKey(b));
            }
            total += second.bytes;
          } catch (err) {
            // The first association's outcomes stand; only these are retried.
            for (const { b } of again) results.set(b, { file: '', ok: false, error: toMedgeError(err), bytes: 0 });
          }
        }
        const sentUncompressed = new Set(first.filter(({ b, data }) => data === b.uncompressed).map(({ b }) => b).concat(again.map(({ b }) => b)));
        const outcomes = batch.map((b): InstanceOutcome => {
          const r = results.get(b);
          const outcome = outcomeOf(b, r, target);
          // No accepted context: no C-STORE was sent, no byte of it left.
          if (r?.error?.code === NO_CONTEXT) return { ...outcome, bytes: 0 };
          return sentUncompressed.has(b) ? { ...outcome, bytes: b.uncompressed!.length } : outcome;
        });
        return { outcomes, bytesSent: total };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    exists: async () => null,
    close: () => undefined,
  };
}

function outcomeOf(b: PreparedInstance, r: StoreFileResult | undefined, target: string): InstanceOutcome {
  const id = b.item.id;
  if (!r) return { id, status: 'failed', retryable: true, reason: `${target}: no result for this instance` };
  if (r.ok) return { id, status: 'stored' };
  const e = r.error;
  const sopClass = sopClassName(b.payload.sopClass);
  if (r.status !== undefined) {
    // PS3.4 Annex B.2.3: A7xx out of resources may pass; A9xx, Cxxx, 0122 (SOP class not supported), 0124 (refused) will not.
    const retryable = (r.status & 0xff00) === 0xa700;
    return { id, status: 'failed', retryable, reason: `${target} refused the instance of SOP class ${sopClass}: C-STORE status ${statusHex(r.status)}${e?.fields.errorComment ? ` (${String(e.fields.errorComment)})` : ''}` };
  }
  if (e?.code === NO_CONTEXT) {
    // The SCU offers every SOP class in Explicit and Implicit VR Little Endian besides the file's
    // own syntax (PS3.8 9.3.2.2), so an uncompressed file without a context means the peer
    // rejected the SOP class itself (PS3.8 9.3.3.2 result 3, abstract syntax not supported).
    const ts = String(e.fields.transferSyntaxUid ?? '');
    const reason = CONVERTIBLE.has(ts)
      ? `${target} refuses SOP class ${sopClass}: no accepted presentation context for it, even in Explicit or Implicit VR Little Endian`
      : `${target} accepts SOP class ${sopClass} in no transfer syntax this file can be sent in: no accepted presentation context for ${ts}, and the node does not convert it`;
    return { id, status: 'failed', retryable: false, reason };
  }
  return { id, status: 'failed', retryable: true, reason: `${target}: ${e?.message ?? 'failed'}` };
}

/** A SOP class UID with its dcmtk name where it is a standard storage class (UIDs only: no patient data). */
function sopClassName(uid: string): string {
  const name = STORAGE_SOP_CLASSES.get(uid);
  return name ? `${uid} (${name})` : uid;
}

/** The association could not carry the batch: a retryable network error, or a refusal a person must fix. */
function linkError(r: StoreFileResult, target: string): MedgeError {
  const e = r.error!;
  const cause = e.cause as NodeJS.ErrnoException | undefined;
  const code = cause?.code ?? '';
  // A handshake that cannot succeed without a change of configuration, explained.
  const tls = tlsProblem(code) ?? (/certificate|SSL|TLS/i.test(cause?.message ?? '') ? `TLS failed (${cause!.message.trim()})` : undefined);
  if (tls) return new MedgeError('MEDGE_ERR_UPLINK_TLS', `TLS with ${target} failed: ${tls} [${code}]`, { target, tlsCode: code, retryable: false }, e);
  if (e.code === 'MEDGE_ERR_DIMSE_REJECTED') {
    return new MedgeError('MEDGE_ERR_UPLINK_REJECTED', `${target} rejected the association: ${e.message}; check the called and calling AE titles, and the destination's user if the archive requires a DICOM user identity`, { target, retryable: false, destinationLevel: true }, e);
  }
  return new MedgeError('MEDGE_ERR_UPLINK_NETWORK', `${target}: ${e.message}; retried later`, { target, retryable: true }, e);
}
