import type { BlobStore } from '../store/blob-store.js';
import type { InstanceIndex } from '../store/index-db.js';
import type { Logger } from '../observability/log.js';
import { readFileMeta } from '../dicom/part10.js';
import { parseInstanceHeader } from '../dicom/header.js';

export interface RecoveryReport {
  /** Temporary files of transfers that never finished. */
  temporaryRemoved: number;
  /** Complete files the index did not know (lost index commits): indexed again. */
  reindexed: number;
  /** Files superseded by a newer indexed version of the same instance, or unreadable: removed. */
  orphansRemoved: number;
  /** Index rows whose file is missing or has another size: removed, logged as errors. */
  danglingRowsRemoved: number;
}

/** A series by its UIDs. */
export interface SeriesRef {
  studyInstanceUid: string;
  seriesInstanceUid: string;
}

export interface Recovery extends RecoveryReport {
  /**
   * The series of the instances indexed again, for the pipeline: after a power cut took the index
   * commits of a whole series, nothing else would ever make that series ready for analysis.
   */
  reindexedSeries: SeriesRef[];
}

/**
 * Start-up repair after an unclean stop. The files are the source of truth: a file under its key
 * was fsync'd and renamed complete, so one the index does not know (a crash between commit and
 * index, or an index commit lost with the power) is indexed again. Re-indexing an instance whose
 * sender saw no success is harmless: the sender sends it again and gets 'duplicate'. A file whose
 * instance is already indexed under another key is a superseded or unacknowledged version and is
 * removed. An index row without its file should be impossible; it is removed and logged.
 */
export async function recoverStore(store: BlobStore, index: InstanceIndex, log: Logger): Promise<Recovery> {
  const report: RecoveryReport = { temporaryRemoved: await store.cleanTemporary(), reindexed: 0, orphansRemoved: 0, danglingRowsRemoved: 0 };
  const series = new Map<string, SeriesRef>();
  const rows = new Map(index.allBlobs().map((r) => [r.blobKey, r]));
  for await (const key of store.list()) {
    if (rows.has(key)) continue;
    const indexed = await reindex(store, index, key);
    if (indexed) {
      report.reindexed++;
      series.set(indexed.seriesInstanceUid, indexed);
    } else {
      await store.delete(key);
      report.orphansRemoved++;
    }
  }
  for (const row of rows.values()) {
    const size = (await store.stat(row.blobKey))?.size;
    if (size === row.size) continue;
    log.error({ event: 'index-row-without-file', sop: row.sopInstanceUid, expected: row.size, found: size ?? null }, 'index row points at a missing or partial file; row removed');
    index.deleteInstance(row.sopInstanceUid);
    report.danglingRowsRemoved++;
  }
  if (report.temporaryRemoved || report.reindexed || report.orphansRemoved || report.danglingRowsRemoved) {
    log.warn({ event: 'store-recovered', ...report, series: series.size }, 'store repaired after an unclean stop');
  }
  return { ...report, reindexedSeries: [...series.values()] };
}

/** Indexes a file the index does not know; its series, or undefined when it is not a storable instance or already indexed. */
async function reindex(store: BlobStore, index: InstanceIndex, key: string): Promise<SeriesRef | undefined> {
  let bytes: Buffer;
  try {
    bytes = await store.read(key);
  } catch {
    return undefined;
  }
  const meta = readFileMeta(bytes);
  if (!meta) return undefined;
  let parsed;
  try {
    parsed = parseInstanceHeader(bytes, meta.transferSyntaxUid, bytes.length);
  } catch {
    return undefined;
  }
  if (parsed.kind !== 'ok') return undefined;
  const h = parsed.header;
  if (!h.sopInstanceUid || !h.sopClassUid || !h.studyInstanceUid || !h.seriesInstanceUid) return undefined;
  if (index.getInstance(h.sopInstanceUid)) return undefined;
  index.record({
    ...h,
    sopInstanceUid: h.sopInstanceUid,
    sopClassUid: h.sopClassUid,
    studyInstanceUid: h.studyInstanceUid,
    seriesInstanceUid: h.seriesInstanceUid,
    transferSyntaxUid: meta.transferSyntaxUid,
    blobKey: key,
    size: bytes.length,
    datasetOffset: meta.datasetOffset,
    receivedAt: (await store.stat(key))?.modifiedAt ?? Date.now(),
    protocol: 'recovered',
    callingAe: meta.sourceAeTitle ?? null,
    associationId: null,
    remoteAddress: null,
  });
  return { studyInstanceUid: h.studyInstanceUid, seriesInstanceUid: h.seriesInstanceUid };
}
