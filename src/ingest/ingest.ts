import { MedgeError, toMedgeError } from '../errors.js';
import { buildFileMeta } from '../dicom/part10.js';
import type { BlobStore } from '../store/blob-store.js';
import type { InstanceIndex } from '../store/index-db.js';
import type { NodeEvents } from '../events/node-events.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { Logger } from '../observability/log.js';
import { formatBytes, Session } from './ingest-session.js';
import type { DimseDatasetMeta, Ingest, IngestContext, IngestSession } from './types.js';
export interface IngestDeps {
  store: BlobStore;
  index: InstanceIndex;
  events: NodeEvents;
  metrics: MetricsRegistry;
  log: Logger;
  /** Refuse new instances when free disk space is below this, bytes. */
  minFreeBytes: number;
  /** Clock, ms since the epoch (house style 7). */
  now?: () => number;
}

/**
 * The one ingest path (house style 2): bytes are streamed to a temporary blob while they arrive,
 * then the header is parsed, the blob committed durably and the instance indexed, all before the
 * returned promise resolves, so that the caller's success answer is only ever sent for an instance
 * that is safe (house style 5).
 */
export function createIngest(deps: IngestDeps): Ingest {
  const now = deps.now ?? Date.now;
  const received = deps.metrics.counter('medge_instances_received_total', 'Instances received and stored, by protocol and outcome');
  const bytesIn = deps.metrics.counter('medge_bytes_received_total', 'Bytes of instances received, by protocol');
  const errors = deps.metrics.counter('medge_ingest_errors_total', 'Instances refused, by protocol and error code');

  function checkDisk(): void {
    const free = deps.store.freeBytes();
    if (free < deps.minFreeBytes) {
      throw new MedgeError(
        'MEDGE_ERR_STORE_DISK_FULL',
        `free disk space ${formatBytes(free)} is below the configured floor store.minFreeBytes = ${formatBytes(deps.minFreeBytes)}; free space or lower the floor`,
        { freeBytes: free, minFreeBytes: deps.minFreeBytes },
      );
    }
  }

  /** When each instance between the start of its commit and the end of its indexing began it. */
  const publishing = new Set<{ since: number }>();
  const startPublishing = (): (() => void) => {
    const entry = { since: now() };
    publishing.add(entry);
    return () => publishing.delete(entry);
  };

  async function begin(ctx: IngestContext, dimse: DimseDatasetMeta | undefined): Promise<IngestSession> {
    try {
      checkDisk();
    } catch (err) {
      errors.inc({ protocol: ctx.protocol, code: (err as MedgeError).code });
      throw err;
    }
    // A C-STORE waits for its instance before the next can come, and its bytes are views into the
    // association's read buffer; a STOW-RS part does not wait, and its chunks are its own.
    const writer = await deps.store.begin(dimse ? { waitingTransfer: `${ctx.protocol}:${ctx.associationId ?? ''}` } : { ownedChunks: true });
    const session = new Session(writer, ctx, dimse, now(), checkDisk, startPublishing);
    if (dimse) {
      // Written with the first dataset bytes (one write fewer per instance).
      session.prefix(
        buildFileMeta({
          mediaStorageSopClassUid: dimse.sopClassUid,
          mediaStorageSopInstanceUid: dimse.sopInstanceUid,
          transferSyntaxUid: dimse.transferSyntaxUid,
          sourceAeTitle: ctx.callingAe ?? undefined,
        }),
      );
    }
    return {
      write: (chunk) => session.writev([chunk]),
      writev: (chunks) => session.writev(chunks),
      abort: () => session.abort(),
      finish: async () => {
        try {
          const outcome = await session.finish(deps);
          received.inc({ protocol: ctx.protocol, outcome: outcome.status });
          bytesIn.inc({ protocol: ctx.protocol }, outcome.size);
          if (outcome.status !== 'duplicate') deps.events.emit('instance-stored', outcome, ctx);
          deps.log.debug({ assoc: ctx.associationId, study: outcome.studyInstanceUid, sop: outcome.sopInstanceUid, status: outcome.status, bytes: outcome.size }, 'instance stored');
          return outcome;
        } catch (err) {
          const e = toMedgeError(err);
          errors.inc({ protocol: ctx.protocol, code: e.code });
          deps.log.warn({ assoc: ctx.associationId, code: e.code, err: e.message }, 'instance refused');
          throw e;
        }
      },
    };
  }

  const ingest: Ingest = {
    beginPart10: (ctx) => begin(ctx, undefined),
    beginDataset: (meta, ctx) => begin(ctx, meta),
    async storePart10(bytes, ctx) {
      const session = await ingest.beginPart10(ctx);
      try {
        await session.writev([bytes]);
      } catch (err) {
        await session.abort();
        throw err;
      }
      return session.finish();
    },
    publishingSince() {
      let since: number | undefined;
      for (const entry of publishing) since = Math.min(since ?? entry.since, entry.since);
      return since;
    },
  };
  return ingest;
}
