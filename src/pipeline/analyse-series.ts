import type { NodeEvents } from '../events/node-events.js';
import type { Ingest } from '../ingest/types.js';
import type { Logger } from '../observability/log.js';
import type { BlobStore } from '../store/blob-store.js';
import type { Db } from '../store/index-db.js';
import type { AnalysisStore } from './analysis-store.js';
import type { Clock } from './clock.js';
import type { PipelineMetrics } from './pipeline-metrics.js';
import type { ClaimedSeries, SeriesQueue } from './series-queue.js';
import type { AnalysisRecord, StoredResult } from './types.js';
import type { JobEnd, JobMessage, WorkerPool } from './worker-pool.js';
import type { AnalysisMessage, JobInstance, ResultsMessage } from './worker-protocol.js';

export interface AnalyseDeps {
  db: Db;
  store: BlobStore;
  ingest: Ingest;
  events: NodeEvents;
  pool: WorkerPool;
  queue: SeriesQueue;
  analyses: AnalysisStore;
  metrics: PipelineMetrics;
  log: Logger;
  clock: Clock;
  /** Where the worker's time went on the last series (read files, build volume), ms. */
  onTimings?: (t: RunTimings) => void;
  /** Whether instances of the series are arriving now (it is being tracked again). */
  receiving(seriesInstanceUid: string): boolean;
}

export interface RunTimings {
  seriesInstanceUid: string;
  readMs: number;
  volumeMs: number;
  slices: number;
}

/** A worker crash is retried once (the second run counts as attempt 2). */
const MAX_ATTEMPTS = 2;

/**
 * Runs one claimed series on a reserved worker: records each analysis as the worker posts it
 * (superseding the previous one of the series and analyzer) and tells 'analysis-finished' at once,
 * then stores the result objects through the one ingest path (protocol 'local') and tells
 * 'results-stored'. A blown time limit is recorded as a failed analysis and the other analyzers run
 * on a fresh worker; a crashed worker's series is retried once.
 */
export function createSeriesAnalyser(deps: AnalyseDeps): (claimed: ClaimedSeries, worker: number) => Promise<void> {
  const { clock, log } = deps;
  const instancesOf = deps.db.prepare(
    `SELECT sop_uid AS sopInstanceUid, blob_key AS blobKey, received_at AS receivedAt FROM instances WHERE series_uid = ? AND protocol != 'local'`,
  );
  const modalityOf = deps.db.prepare(`SELECT modality FROM series WHERE series_uid = ?`).pluck();
  /** Analyzers already recorded for a series whose run was cut short, so that its next run skips them. */
  const skips = new Map<string, string[]>();

  return async function analyse(c, worker) {
    const series = c.seriesInstanceUid;
    const skip = skips.get(series) ?? [];
    skips.delete(series);
    const rows = instancesOf.all(series) as { sopInstanceUid: string; blobKey: string; receivedAt: number }[];
    const modality = (modalityOf.get(series) as string | null | undefined) ?? '';
    const todo = deps.pool.analyzers().loaded.filter((a) => a.modalities.includes(modality) && !skip.includes(a.id));
    if (rows.length === 0 || todo.length === 0) {
      deps.pool.release(worker);
      deps.queue.finish(series, clock.now(), deps.receiving(series));
      log.debug({ series, modality, instances: rows.length }, 'no analyzer for this series');
      return;
    }
    let instances: JobInstance[];
    try {
      instances = await jobInstances(deps.store, rows);
    } catch (err) {
      deps.pool.release(worker);
      throw err;
    }
    const base = {
      studyInstanceUid: c.studyInstanceUid,
      seriesInstanceUid: series,
      instanceCount: rows.length,
      lastReceivedAt: rows.reduce((m, r) => Math.max(m, r.receivedAt), 0),
      readyAt: c.readyAt,
      readyTrigger: c.readyTrigger,
      startedAt: c.startedAt,
      priority: c.priority,
    };
    if (c.queuedAt !== null) deps.metrics.queueWait.observe({}, Math.max(0, c.startedAt - c.queuedAt) / 1000);
    deps.events.emit('analysis-started', { studyInstanceUid: c.studyInstanceUid, seriesInstanceUid: series, startedAt: c.startedAt });

    const recorded = new Set(skip);
    const pending: Promise<void>[] = [];
    const record = (m: Omit<AnalysisMessage, 'type' | 'jobId'>): AnalysisRecord => {
      const a = deps.analyses.record({ ...base, ...m, finishedAt: clock.now() });
      if (m.analyzerId) recorded.add(m.analyzerId);
      deps.metrics.analyses.inc({ status: a.status });
      if (m.elapsedMs > 0) deps.metrics.duration.observe({ analyzer: m.analyzerId ?? '' }, m.elapsedMs / 1000);
      if (a.readyAt !== null) deps.metrics.readyToFinished.observe({ analyzer: m.analyzerId ?? '' }, (a.finishedAt - a.readyAt) / 1000);
      log.info({ study: a.studyInstanceUid, series, analysis: a.id, analyzer: a.analyzerId, status: a.status, findings: a.findings.length, supersedes: a.supersedes, ms: Math.round(a.elapsedMs) }, 'analysis finished');
      deps.events.emit('analysis-finished', a);
      return a;
    };
    const ids = new Map<string, number>();
    const onMessage = (m: JobMessage) => {
      if (m.type === 'analysis') {
        const { type: _t, jobId: _j, ...rest } = m;
        const a = record(rest);
        if (m.analyzerId) ids.set(m.analyzerId, a.id);
      } else if (m.type === 'results') {
        const id = ids.get(m.analyzerId);
        if (id !== undefined) pending.push(storeResults(deps, c.studyInstanceUid, id, m));
      } else {
        deps.metrics.results.inc({ outcome: 'failed' });
        log.warn({ series, analyzer: m.analyzerId, code: m.code, err: m.message }, 'result objects not built; the analysis stands');
      }
    };

    const end: JobEnd = await deps.pool.run(worker, { seriesInstanceUid: series, instances, skip, now: clock.now() }, onMessage);
    let again = false;
    if (end.kind === 'done') {
      deps.metrics.volume.observe({}, (end.timings.readMs + end.timings.volumeMs) / 1000);
      deps.onTimings?.({ seriesInstanceUid: series, ...end.timings });
      log.debug({ series, ...end.timings }, 'series analysed');
    } else if (end.kind === 'timeout') {
      const what = end.phase === 'analyze' ? `analyzer ${end.analyzerId}` : end.phase === 'volume' ? 'reading and building the volume' : `building the results of ${end.analyzerId}`;
      const reason = `MEDGE_ERR_PIPELINE_TIMEOUT: ${what} ran past its time limit of ${end.limitMs} ms and was stopped after ${end.elapsedMs} ms`;
      log.error({ series, code: 'MEDGE_ERR_PIPELINE_TIMEOUT', phase: end.phase, analyzer: end.analyzerId, limitMs: end.limitMs, ms: end.elapsedMs }, 'analysis stopped at its time limit');
      const stopped = end.phase === 'volume' ? todo.filter((a) => !recorded.has(a.id)) : end.phase === 'analyze' ? todo.filter((a) => a.id === end.analyzerId) : [];
      for (const a of stopped) record({ analyzerId: a.id, analyzerVersion: a.version, status: 'failed', reason, findings: [], elapsedMs: end.elapsedMs });
      if (end.phase === 'results' && end.analyzerId) recorded.add(end.analyzerId);
      again = todo.some((a) => !recorded.has(a.id));
    } else if (end.kind === 'crashed') {
      const left = todo.filter((x) => !recorded.has(x.id));
      if (left.length === 0) {
        // It died building results after the last analysis: nothing to analyse again.
      } else if (c.attempts < MAX_ATTEMPTS) again = true;
      else {
        const reason = `MEDGE_ERR_PIPELINE_WORKER: the analysis worker failed twice on this series (${end.error})`;
        for (const a of left) record({ analyzerId: a.id, analyzerVersion: a.version, status: 'failed', reason, findings: [], elapsedMs: 0 });
      }
    }
    await Promise.allSettled(pending);
    if (end.kind === 'stopped' || again) {
      skips.set(series, [...recorded]);
      deps.queue.requeue(series);
    } else {
      deps.queue.finish(series, clock.now(), deps.receiving(series));
    }
  };
}

/** The files for the worker to read, or their bytes (each in a buffer of its own, to be transferred) when the store keeps no files. */
async function jobInstances(store: BlobStore, rows: { sopInstanceUid: string; blobKey: string }[]): Promise<JobInstance[]> {
  if (store.localPath) return rows.map((r) => ({ sopInstanceUid: r.sopInstanceUid, path: store.localPath!(r.blobKey) }));
  return Promise.all(
    rows.map(async (r) => {
      const buf = await store.read(r.blobKey);
      return { sopInstanceUid: r.sopInstanceUid, bytes: Uint8Array.prototype.slice.call(buf) };
    }),
  );
}

/** Stores the result objects of one analysis as instances of its study, then records and tells them. */
async function storeResults(deps: AnalyseDeps, studyInstanceUid: string, analysisId: number, m: ResultsMessage): Promise<void> {
  const results: StoredResult[] = [];
  for (const o of m.objects) {
    try {
      const out = await deps.ingest.storePart10(Buffer.from(o.bytes.buffer, o.bytes.byteOffset, o.bytes.byteLength), { protocol: 'local' });
      results.push({ kind: o.kind, sopInstanceUid: out.sopInstanceUid, sopClassUid: out.sopClassUid, seriesInstanceUid: out.seriesInstanceUid });
      deps.metrics.results.inc({ outcome: 'stored' });
    } catch (err) {
      deps.metrics.results.inc({ outcome: 'failed' });
      deps.log.error({ study: studyInstanceUid, analysis: analysisId, kind: o.kind, code: (err as { code?: string }).code, err: (err as Error).message }, 'result object refused by ingest');
    }
  }
  if (results.length === 0) return;
  deps.analyses.setResults(analysisId, results);
  deps.events.emit('results-stored', { analysisId, studyInstanceUid, results });
}
