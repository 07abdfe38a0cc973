import type { BlobStore } from '../store/blob-store.js';
import type { BlobRow, InstanceIndex } from '../store/index-db.js';
import type { StoreMarks } from '../store/store-marks.js';
import type { Logger } from '../observability/log.js';
import { readFileMeta } from '../dicom/part10.js';
import { parseInstanceHeader } from '../dicom/header.js';
import { mapInGroups } from '../util/map-in-groups.js';

/**
 * After a crash, directories changed up to this long before the mark are checked too: the kernel
 * stamps a directory with a coarse clock, and a wall clock stepped back by the time service while
 * the node ran would stamp files before the mark (a step the next mark would have caught). ms.
 */
export const MARK_MARGIN_MS = 10 * 60_000;
/** Index rows read per query when every row is checked. */
const ROW_PAGE = 1000;
/** Sizes asked of the store at once (the filesystem store answers from libuv's thread pool). */
const STAT_BATCH = 32;
/** A long check says how far it got this often, ms. */
const PROGRESS_EVERY_MS = 10_000;

/**
 * What a start checked: 'none' after a clean stop; 'changed' after a crash, only the directories
 * changed since the store's consistency mark (store-marks.ts) and the rows received since; 'all'
 * when asked (store.checkAllAtStart) or for a store without a mark (new, or from before marks).
 */
export type CheckScope = 'none' | 'changed' | 'all';

export interface RecoveryReport {
  scope: CheckScope;
  /** Temporary files of transfers that never finished. */
  temporaryRemoved: number;
  /** Complete files the index did not know (lost index commits): indexed again. */
  reindexed: number;
  /** Files superseded by a newer indexed version of the same instance: removed. */
  orphansRemoved: number;
  /** Files that cannot be read as an instance: moved to DATA/quarantine, logged as errors. */
  quarantined: number;
  /** Index rows whose file is missing or has another size: removed, logged as errors. */
  danglingRowsRemoved: number;
  /** Instance files and index rows looked at. */
  filesChecked: number;
  rowsChecked: number;
  /** How long the check took, ms. */
  ms: number;
}

/** A series with instances indexed again, and when the newest of them was received (its file's mtime). */
export interface SeriesRef {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  lastReceivedAt: number;
}

export interface Recovery extends RecoveryReport {
  /**
   * The series of the instances indexed again, for the pipeline: after a power cut took the index
   * commits of a whole series, nothing else would ever make that series ready for analysis.
   */
  reindexedSeries: SeriesRef[];
}

export interface RecoverOptions {
  marks: StoreMarks;
  /** Check every file and row whatever the mark says (after restoring a backup or removing files by hand). */
  checkAll?: boolean;
  /** Wall clock, ms since the epoch: the clock that stamps the store's directories. */
  now?: () => number;
}

/**
 * Start-up repair. The files are the source of truth: a file under its key was fsync'd and renamed
 * complete, so one the index does not know (a crash between commit and index, or an index commit
 * lost with the power) is indexed again. Re-indexing an instance whose sender saw no success is
 * harmless: the sender sends it again and gets 'duplicate'. A file whose instance is already
 * indexed under another key is a superseded or unacknowledged version and is removed; one that
 * cannot be read as an instance (a disk error, a file put there by hand) is moved to
 * DATA/quarantine, never deleted. An index row without its file should be impossible; it is
 * removed and logged.
 *
 * Only what a crash can have touched is checked: nothing after a clean stop, the directories
 * changed since the consistency mark after a crash, so that a store of millions of instances
 * starts in a second instead of listing every file. Ends by writing a new mark.
 */
export async function recoverStore(store: BlobStore, index: InstanceIndex, log: Logger, options: RecoverOptions): Promise<Recovery> {
  const now = options.now ?? Date.now;
  const started = now();
  const mark = options.marks.read();
  const scope: CheckScope = options.checkAll || !mark ? 'all' : mark.cleanStop ? 'none' : 'changed';
  const since = scope === 'changed' ? mark!.consistentBefore - MARK_MARGIN_MS : undefined;
  const report: RecoveryReport = {
    scope, temporaryRemoved: await store.cleanTemporary(), reindexed: 0, orphansRemoved: 0, quarantined: 0, danglingRowsRemoved: 0, filesChecked: 0, rowsChecked: 0, ms: 0,
  };
  const series = new Map<string, SeriesRef>();
  const progress = progressLogger(log, report);

  if (scope !== 'none') {
    for await (const key of store.list(since === undefined ? undefined : { changedSince: since })) {
      report.filesChecked++;
      progress();
      if (isIndexedAs(index, key)) continue;
      const found = await reindex(store, index, key);
      if (found.kind === 'reindexed') {
        report.reindexed++;
        const seen = series.get(found.series.seriesInstanceUid);
        if (!seen || seen.lastReceivedAt < found.series.lastReceivedAt) series.set(found.series.seriesInstanceUid, found.series);
      } else if (found.kind === 'superseded') {
        await store.delete(key);
        report.orphansRemoved++;
      } else if (found.kind === 'unreadable') {
        const path = await store.quarantine(key);
        report.quarantined++;
        log.error({ event: 'store-file-quarantined', key, path, reason: found.reason }, 'a stored file cannot be read as an instance; moved aside for a person to look at');
      }
    }
    const check = (rows: BlobRow[]) => checkRows(store, index, log, rows, report, progress);
    if (since !== undefined) await check(index.blobsReceivedSince(since));
    else for (let page = index.blobsPage('', ROW_PAGE); page.length > 0; page = index.blobsPage(page.at(-1)!.sopInstanceUid, ROW_PAGE)) await check(page);
  }

  // Every file renamed before `started` has been checked or was vouched for by the old mark, and
  // its row is now durable with this commit.
  options.marks.write({ cleanStop: false, consistentBefore: started }, now());
  report.ms = now() - started;
  const repaired = report.temporaryRemoved || report.reindexed || report.orphansRemoved || report.quarantined || report.danglingRowsRemoved;
  if (repaired) log.warn({ event: 'store-recovered', ...report, series: series.size }, 'store repaired after an unclean stop');
  else log.info({ event: 'store-checked', ...report }, scope === 'none' ? 'clean stop before: store not checked' : 'store checked: files and index agree');
  return { ...report, reindexedSeries: [...series.values()] };
}

/**
 * Whether the index points at this very key, found without reading the file when the key ends in
 * `<SOP Instance UID>-<suffix>.dcm` (blob-key.ts); reindex() reads any other.
 */
function isIndexedAs(index: InstanceIndex, key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dash = name.lastIndexOf('-');
  return dash > 0 && index.getInstance(name.slice(0, dash))?.blobKey === key;
}

/** Removes the rows whose file is missing or has another size than indexed. */
async function checkRows(store: BlobStore, index: InstanceIndex, log: Logger, rows: BlobRow[], report: RecoveryReport, progress: () => void): Promise<void> {
  const sizes = await mapInGroups(rows, STAT_BATCH, async (row) => (await store.stat(row.blobKey))?.size);
  rows.forEach((row, j) => {
    report.rowsChecked++;
    if (sizes[j] === row.size) return;
    log.error({ event: 'index-row-without-file', sop: row.sopInstanceUid, expected: row.size, found: sizes[j] ?? null }, 'index row points at a missing or partial file; row removed');
    index.deleteInstance(row.sopInstanceUid);
    report.danglingRowsRemoved++;
  });
  progress();
}

/** Logs how far a long check got, every PROGRESS_EVERY_MS. */
function progressLogger(log: Logger, report: RecoveryReport): () => void {
  const started = performance.now();
  let next = started + PROGRESS_EVERY_MS;
  return () => {
    const t = performance.now();
    if (t < next) return;
    next = t + PROGRESS_EVERY_MS;
    log.info({ event: 'store-check-progress', scope: report.scope, filesChecked: report.filesChecked, rowsChecked: report.rowsChecked, seconds: Math.round((t - started) / 1000) }, 'checking the store against the index');
  };
}

/** What a file the index does not point at turned out to be. */
type Found = { kind: 'indexed' } | { kind: 'reindexed'; series: SeriesRef } | { kind: 'superseded' } | { kind: 'unreadable'; reason: string };

/**
 * Indexes a file the index does not know. 'indexed': the index already points at this key;
 * 'superseded': its instance is indexed under another key (the caller removes it); 'unreadable':
 * not a storable instance (the caller moves it aside).
 */
async function reindex(store: BlobStore, index: InstanceIndex, key: string): Promise<Found> {
  let bytes: Buffer;
  try {
    bytes = await store.read(key);
  } catch (err) {
    return { kind: 'unreadable', reason: `cannot read it: ${(err as Error).message}` };
  }
  const meta = readFileMeta(bytes);
  if (!meta) return { kind: 'unreadable', reason: 'no PS3.10 file meta' };
  let parsed;
  try {
    parsed = parseInstanceHeader(bytes, meta.transferSyntaxUid, bytes.length);
  } catch (err) {
    return { kind: 'unreadable', reason: `its dataset does not parse: ${(err as Error).message}` };
  }
  if (parsed.kind !== 'ok') return { kind: 'unreadable', reason: 'its dataset header does not end' };
  const h = parsed.header;
  if (!h.sopInstanceUid || !h.sopClassUid || !h.studyInstanceUid || !h.seriesInstanceUid) return { kind: 'unreadable', reason: 'it lacks a SOP, study or series UID' };
  const existing = index.getInstance(h.sopInstanceUid);
  if (existing) return existing.blobKey === key ? { kind: 'indexed' } : { kind: 'superseded' };
  const receivedAt = (await store.stat(key))?.modifiedAt ?? Date.now();
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
    receivedAt,
    protocol: 'recovered',
    callingAe: meta.sourceAeTitle ?? null,
    associationId: null,
    remoteAddress: null,
  });
  return { kind: 'reindexed', series: { studyInstanceUid: h.studyInstanceUid, seriesInstanceUid: h.seriesInstanceUid, lastReceivedAt: receivedAt } };
}
