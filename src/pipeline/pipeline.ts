import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MedgeConfig } from '../config/schema.js';
import type { NodeEventMap, NodeEvents } from '../events/node-events.js';
import type { SeriesRef } from '../ingest/recover.js';
import type { Ingest } from '../ingest/types.js';
import type { Logger } from '../observability/log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { BlobStore } from '../store/blob-store.js';
import type { Db, InstanceIndex } from '../store/index-db.js';
import { createSeriesAnalyser, type RunTimings } from './analyse-series.js';
import { AnalysisStore } from './analysis-store.js';
import { systemClock, type Clock } from './clock.js';
import { createPipelineMetrics } from './pipeline-metrics.js';
import { createPriorityJudge } from './priority.js';
import { SeriesQueue } from './series-queue.js';
import { createSeriesTracker, transferKey } from './series-tracker.js';
import { createWorkerPool } from './worker-pool.js';
import type { AnalyzerModule } from './worker-protocol.js';

/**
 * Nice value of the analysis threads: ingest on the main thread (nice 0) gets the CPU first when both
 * want it, the analyses get what is left (see bench/ingest-under-analysis.bench.ts for the effect).
 */
export const WORKER_NICE = 10;
/** Whether analysis threads run in SCHED_IDLE (measured in bench/ingest-under-analysis.bench.ts). */
export const WORKER_SCHED_IDLE = true;

export interface PipelineDeps {
  db: Db;
  index: InstanceIndex;
  store: BlobStore;
  ingest: Ingest;
  events: NodeEvents;
  config: MedgeConfig['pipeline'];
  log: Logger;
  metrics: MetricsRegistry;
  clock?: Clock;
  /** Analyzer plugin modules instead of the shipped analyzers (tests, integrators). */
  analyzerModules?: AnalyzerModule[];
  /** Nice value of the worker threads, 0 to 19; default WORKER_NICE. */
  workerNice?: number;
  /** Worker threads in Linux's SCHED_IDLE class (see worker-protocol.ts); default from config.workerPriority. */
  workerSchedIdle?: boolean;
  /** Run each worker's analysis once on a small phantom at start; default: with the shipped analyzers. */
  warmUp?: boolean;
  /** Written into the result objects; default the package version. */
  softwareVersion?: string;
  /**
   * Series whose instances start-up recovery indexed again (recover.ts): those the pipeline has no
   * state for are tracked as if their instances had just arrived, and become ready by the
   * restart timer (`quietMs`). Their 'instance-stored' events were lost with the index commits.
   */
  recoveredSeries?: SeriesRef[];
}

export interface PipelineStatus {
  running: boolean;
  /** Series being received (tracked for completeness) now. */
  tracking: number;
  queue: { receiving: number; queued: number; running: number };
  workers: ReturnType<ReturnType<typeof createWorkerPool>['status']>;
  analyzers: ReturnType<ReturnType<typeof createWorkerPool>['analyzers']>;
  /** Where the worker's time went on the last series analysed (reading files, building the volume), ms. */
  lastRun?: RunTimings;
}

export interface Pipeline {
  /**
   * Requeues what a previous run left queued or running, resumes series left receiving, starts the
   * workers; throws MEDGE_ERR_PIPELINE_WORKER when they cannot start.
   */
  start(): Promise<void>;
  /** Stops listening, terminates the workers; a running analysis is queued again for the next start. */
  stop(): Promise<void>;
  status(): PipelineStatus;
}

/**
 * The analysis pipeline (DESIGN.md, data flow): instance-stored -> series tracker (completeness) ->
 * persisted priority queue (series_state) -> worker threads -> analyses (superseding) ->
 * 'analysis-finished' -> result objects through ingest -> 'results-stored'.
 */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const clock = deps.clock ?? systemClock;
  const { events, log } = deps;
  const queue = new SeriesQueue(deps.db);
  const analyses = new AnalysisStore(deps.db);
  const metrics = createPipelineMetrics(deps.metrics, () => queue.counts().queued);
  const judge = createPriorityJudge(deps.config);
  const knownStmt = deps.db.prepare(
    `SELECT sop_uid AS sopInstanceUid, image_position AS imagePosition, image_orientation AS imageOrientation, received_at AS receivedAt
     FROM instances WHERE series_uid = ? AND protocol != 'local'`,
  );
  let running = false;
  let lastRun: RunTimings | undefined;
  const inFlight = new Set<Promise<void>>();

  const tracker = createSeriesTracker({
    clock,
    quietMs: deps.config.quietMs,
    geometrySettleMs: deps.config.geometrySettleMs,
    requestGraceMs: deps.config.requestGraceMs,
    known: (series) => knownStmt.all(series) as ReturnType<Parameters<typeof createSeriesTracker>[0]['known']>,
    onReceiving(track, first) {
      const p = first ? judge(first.outcome.signals, first.ctx.callingAe) : { priority: 0, reason: null };
      queue.receiving(track.studyInstanceUid, track.seriesInstanceUid, p.priority, p.reason);
    },
    onReady(r) {
      const { lastReceivedAt, ...ready } = r;
      const state = queue.ready(ready);
      metrics.readyWait.observe({ trigger: r.trigger }, Math.max(0, r.readyAt - lastReceivedAt) / 1000);
      log.info({ study: r.studyInstanceUid, series: r.seriesInstanceUid, trigger: r.trigger, instances: r.instances, state, waitMs: r.readyAt - lastReceivedAt }, 'series ready');
      events.emit('series-ready', ready);
      pump();
    },
  });

  const pool = createWorkerPool({
    size: deps.config.workers,
    init: {
      analyzerModules: deps.analyzerModules,
      softwareVersion: deps.softwareVersion ?? packageVersion(),
      nice: deps.workerNice ?? (deps.config.workerPriority === 'normal' ? 0 : WORKER_NICE),
      schedIdle: deps.workerSchedIdle ?? (deps.config.workerPriority ? deps.config.workerPriority === 'idle' : WORKER_SCHED_IDLE),
      // Only the shipped analyzers are warmed up: a plugin under test may loop or crash on purpose.
      warmUp: deps.warmUp ?? deps.analyzerModules === undefined,
    },
    clock,
    log,
    onIdle: () => pump(),
  });

  const analyse = createSeriesAnalyser({
    db: deps.db, store: deps.store, ingest: deps.ingest, events, pool, queue, analyses, metrics, log, clock,
    receiving: (series) => tracker.tracking(series),
    onTimings: (t) => (lastRun = t),
  });

  /** Starts the highest-priority queued series on each free worker. */
  function pump(): void {
    while (running) {
      const worker = pool.reserve();
      if (worker === undefined) return;
      const claimed = queue.claim(clock.now());
      if (!claimed) return pool.release(worker);
      const job = analyse(claimed, worker)
        .catch((err: unknown) => {
          log.error({ series: claimed.seriesInstanceUid, code: 'MEDGE_ERR_PIPELINE_WORKER', err: (err as Error).message }, 'analysis of a series failed');
          // Left 'running' if even this fails (the index is gone): the next start queues it again.
          guard('ending a failed run', () => queue.finish(claimed.seriesInstanceUid, clock.now(), tracker.tracking(claimed.seriesInstanceUid)))();
        })
        .finally(() => {
          inFlight.delete(job);
          pump();
        });
      inFlight.add(job);
    }
  }

  // A listener's exception would reach the emitter (ingest, the SCP): log it here instead.
  const guard = <A extends unknown[]>(what: string, fn: (...args: A) => void) => (...args: A) => {
    try {
      fn(...args);
    } catch (err) {
      log.error({ code: 'MEDGE_ERR_PIPELINE_WORKER', err: (err as Error).message }, `pipeline: ${what} failed`);
    }
  };
  const onStored = guard<NodeEventMap['instance-stored']>('tracking an instance', (outcome, ctx) => {
    // Results the node made itself are never analysed; a duplicate changes nothing.
    if (ctx.protocol === 'local' || outcome.status === 'duplicate') return;
    tracker.instance(outcome, ctx);
  });
  const onReleased = guard<NodeEventMap['association-released']>('an association release', (info) =>
    tracker.released(transferKey('dimse', info.associationId), 'association-released'),
  );
  const onRequest = guard<NodeEventMap['request-complete']>('the end of a STOW-RS request', (info) =>
    tracker.released(transferKey('stow', info.requestId), 'request-complete'),
  );

  function unsubscribe(): void {
    events.off('instance-stored', onStored);
    events.off('association-released', onReleased);
    events.off('request-complete', onRequest);
  }

  return {
    async start() {
      const recovered = queue.recover();
      events.on('instance-stored', onStored);
      events.on('association-released', onReleased);
      events.on('request-complete', onRequest);
      for (const r of recovered.receiving) tracker.resume(r.studyInstanceUid, r.seriesInstanceUid);
      const recent = recentEnough(deps.recoveredSeries ?? [], deps.config.analyseRecoveredWithinHours, log);
      const untracked = recent.filter((r) => !queue.get(r.seriesInstanceUid));
      for (const r of untracked) tracker.resume(r.studyInstanceUid, r.seriesInstanceUid);
      try {
        await pool.start();
      } catch (err) {
        unsubscribe();
        tracker.stop();
        throw err;
      }
      const { loaded, loadFailures } = pool.analyzers();
      for (const f of loadFailures) log.error({ analyzer: f.id, err: f.error }, 'analyzer failed to load');
      log.info({ workers: deps.config.workers, analyzers: loaded.map((a) => `${a.id} ${a.version}`), requeued: recovered.requeued, resumed: recovered.receiving.length, recovered: untracked.length }, 'pipeline started');
      running = true;
      pump();
    },
    async stop() {
      running = false;
      unsubscribe();
      tracker.stop();
      await pool.stop();
      await Promise.allSettled([...inFlight]);
    },
    status: () => ({ running, tracking: tracker.size(), queue: queue.counts(), workers: pool.status(), analyzers: pool.analyzers(), ...(lastRun ? { lastRun } : {}) }),
  };
}

/** The version in package.json (dist/src/pipeline -> the package root), or 'unknown'. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version?: string };
    return pkg.version ? `medge ${pkg.version}` : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The re-indexed series received within `hours` (SeriesRef.lastReceivedAt); the others are logged
 * once and left unanalysed.
 */
function recentEnough(series: SeriesRef[], hours: number, log: Logger): SeriesRef[] {
  const since = Date.now() - hours * 3_600_000;
  const recent = hours > 0 ? series.filter((s) => s.lastReceivedAt >= since) : [];
  const old = series.length - recent.length;
  if (old > 0) {
    log.warn(
      { event: 'recovered-series-not-analysed', series: old, analyseRecoveredWithinHours: hours },
      `${old} series indexed again at start were received longer ago than pipeline.analyseRecoveredWithinHours: they stay unanalysed`,
    );
  }
  return recent;
}
