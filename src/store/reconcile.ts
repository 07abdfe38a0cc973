import type { BlobStore } from './blob-store.js';
import type { InstanceIndex } from './index-db.js';
import type { Logger } from '../observability/log.js';

export interface ReconcileReport {
  temporaryRemoved: number;
  orphanBlobsRemoved: number;
  danglingRowsRemoved: number;
}

/**
 * Start-up repair after a crash. A blob is committed before its index row, so a crash between
 * the two leaves a file nobody acknowledged: it is removed (the sender saw no success and sends
 * again). An index row whose file is missing or shorter than recorded should be impossible; if
 * found, the row is removed and logged as an error so the count is visible.
 */
export async function reconcileStore(store: BlobStore, index: InstanceIndex, log: Logger): Promise<ReconcileReport> {
  const temporaryRemoved = await store.cleanTemporary();
  const rows = new Map(index.allBlobs().map((r) => [r.blobKey, r]));
  let orphanBlobsRemoved = 0;
  for await (const key of store.list()) {
    if (rows.has(key)) continue;
    await store.delete(key);
    orphanBlobsRemoved++;
  }
  let danglingRowsRemoved = 0;
  for (const row of rows.values()) {
    const size = await store.size(row.blobKey);
    if (size === row.size) continue;
    log.error({ event: 'index-row-without-file', sop: row.sopInstanceUid, expected: row.size, found: size ?? null }, 'index row points at a missing or partial file; row removed');
    index.deleteInstance(row.sopInstanceUid);
    danglingRowsRemoved++;
  }
  const report = { temporaryRemoved, orphanBlobsRemoved, danglingRowsRemoved };
  if (temporaryRemoved || orphanBlobsRemoved || danglingRowsRemoved) log.warn({ event: 'store-reconciled', ...report }, 'store repaired after an unclean stop');
  return report;
}
