import { Worker } from 'node:worker_threads';
import { MedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import type { Clock, TimerHandle } from './clock.js';
import type { AnalyzerInfo, DoneMessage, JobRequest, PhaseMessage, WorkerInit, WorkerMessage } from './worker-protocol.js';

/** Slack on a phase's limit for the message that announced it to cross threads, ms. */
const WATCHDOG_GRACE_MS = 50;
/** A worker that dies before it is ready (an analyzer import that crashes) is restarted after this, ms. */
const RESPAWN_DELAY_MS = 1000;

/** How a job ended. */
export type JobEnd =
  | { kind: 'done'; timings: DoneMessage['timings'] }
  /** The worker ran past the phase's limit and was terminated (a fresh one replaces it). */
  | { kind: 'timeout'; phase: PhaseMessage['phase']; analyzerId?: string; limitMs: number; elapsedMs: number }
  /** The worker thread died (MEDGE_ERR_PIPELINE_WORKER). */
  | { kind: 'crashed'; error: string }
  | { kind: 'stopped' };

/** Messages of a running job other than phases and the end: analyses and results. */
export type JobMessage = Exclude<WorkerMessage, { type: 'ready' } | { type: 'warm' } | PhaseMessage | DoneMessage>;

export interface WorkerPoolDeps {
  size: number;
  init: WorkerInit;
  clock: Clock;
  log: Logger;
  /** A worker became free (started, or finished a job): the pipeline takes the next series. */
  onIdle: () => void;
  /** Default: the compiled analysis-worker.js beside this file. */
  workerUrl?: URL;
}

export interface WorkerPool {
  /** Starts every worker and resolves once all are ready (analyzers loaded); throws MEDGE_ERR_PIPELINE_WORKER when one cannot start. */
  start(): Promise<void>;
  /** Reserves a free worker for one job (preparing it may take a while), or undefined when none is free. */
  reserve(): number | undefined;
  /** Runs a job on the reserved worker; `onMessage` gets its analyses and results as they come. */
  run(worker: number, job: Omit<JobRequest, 'type' | 'jobId'>, onMessage: (m: JobMessage) => void): Promise<JobEnd>;
  /** Gives back a reservation that was not used. */
  release(worker: number): void;
  /** The analyzers the workers loaded, and those that failed to load (as the first worker reported them). */
  analyzers(): { loaded: AnalyzerInfo[]; loadFailures: { id: string; error: string }[] };
  status(): { id: number; state: Slot['state']; series?: string; phase?: string; analyzerId?: string; busyMs?: number; nice: number | null; schedIdle: boolean; restarts: number; warmUpMs?: number }[];
  /** Terminates every worker; a running job ends as 'stopped'. */
  stop(): Promise<void>;
}

interface Slot {
  id: number;
  worker?: Worker;
  state: 'starting' | 'idle' | 'reserved' | 'busy' | 'stopped';
  job?: { request: JobRequest; onMessage: (m: JobMessage) => void; resolve: (end: JobEnd) => void; startedAt: number };
  phase?: { message: PhaseMessage; at: number; timer: TimerHandle };
  nice: number | null;
  schedIdle?: boolean;
  restarts: number;
  /** How long the last warm-up took, ms (-1: it failed). */
  warmUpMs?: number;
  ready?: () => void;
  /** While the pool starts: fails start() when the worker dies before it is ready (house style 6). */
  failStart?: (err: Error) => void;
}

/**
 * `size` analysis worker threads (worker_threads), each loading the analyzers itself. Ingest stays
 * on the main thread: analysing never blocks it. A worker is held to each phase's time limit (the
 * analyzer manifest's timeLimitMs while an analyzer runs) by a watchdog here: past it the worker is
 * terminated, which is the only way to stop a JavaScript loop, and replaced by a fresh one.
 */
export function createWorkerPool(deps: WorkerPoolDeps): WorkerPool {
  const url = deps.workerUrl ?? new URL('./analysis-worker.js', import.meta.url);
  const slots: Slot[] = Array.from({ length: deps.size }, (_, id) => ({ id, state: 'starting' as const, nice: null, restarts: 0 }));
  let info: { loaded: AnalyzerInfo[]; loadFailures: { id: string; error: string }[] } = { loaded: [], loadFailures: [] };
  let nextJobId = 1;
  let stopping = false;

  function spawn(slot: Slot, initial = false): Promise<void> {
    slot.state = 'starting';
    const worker = new Worker(url, { workerData: deps.init });
    slot.worker = worker;
    let wasReady = false;
    const ready = new Promise<void>((resolve, reject) => {
      slot.ready = resolve;
      // A worker restarted later (after a time limit or a crash) is retried instead.
      slot.failStart = initial ? reject : undefined;
    });
    worker.on('message', (m: WorkerMessage) => {
      if (slot.worker !== worker) return;
      if (m.type === 'ready') {
        wasReady = true;
        if (slot.id === 0 || info.loaded.length === 0) info = { loaded: m.analyzers, loadFailures: m.loadFailures };
        slot.nice = m.nice;
        slot.schedIdle = m.schedIdle;
        slot.state = 'idle';
        slot.ready?.();
        slot.failStart = undefined;
        deps.onIdle();
        return;
      }
      if (m.type === 'warm') {
        slot.warmUpMs = m.ms;
        deps.log.debug({ worker: slot.id, ms: Math.round(m.ms) }, 'analysis worker warmed up');
        return;
      }
      const job = slot.job;
      if (!job || m.jobId !== job.request.jobId) return;
      if (m.type === 'phase') return watch(slot, m);
      if (m.type === 'done') return end(slot, { kind: 'done', timings: m.timings }, 'idle');
      try {
        job.onMessage(m);
      } catch (err) {
        // Recording failed (the index): the job goes on; the error must not end the process.
        deps.log.error({ worker: slot.id, series: job.request.seriesInstanceUid, err: (err as Error).message }, 'an analysis message could not be handled');
      }
    });
    const died = (why: string) => {
      if (slot.worker !== worker || stopping) return;
      if (slot.failStart) {
        slot.worker = undefined;
        slot.state = 'stopped';
        slot.failStart(new MedgeError('MEDGE_ERR_PIPELINE_WORKER', `an analysis worker could not start: ${why}`, { worker: slot.id }));
        return;
      }
      deps.log.error({ worker: slot.id, code: 'MEDGE_ERR_PIPELINE_WORKER', err: why, series: slot.job?.request.seriesInstanceUid }, 'analysis worker died');
      slot.worker = undefined;
      end(slot, { kind: 'crashed', error: why }, 'starting');
      slot.restarts++;
      const again = () => {
        if (!stopping) void spawn(slot);
      };
      if (wasReady) again();
      else deps.clock.setTimer(RESPAWN_DELAY_MS, again);
    };
    worker.on('error', (err) => died(err instanceof Error ? err.message : String(err)));
    worker.on('exit', (code) => died(`the worker thread exited with code ${code}`));
    return ready;
  }

  function watch(slot: Slot, message: PhaseMessage): void {
    if (slot.phase) deps.clock.clearTimer(slot.phase.timer);
    const at = deps.clock.now();
    const timer = deps.clock.setTimer(message.limitMs + WATCHDOG_GRACE_MS, () => {
      const worker = slot.worker;
      slot.worker = undefined;
      end(slot, { kind: 'timeout', phase: message.phase, analyzerId: message.analyzerId, limitMs: message.limitMs, elapsedMs: deps.clock.now() - at }, 'starting');
      slot.restarts++;
      void worker?.terminate().finally(() => {
        if (!stopping) void spawn(slot);
      });
    });
    slot.phase = { message, at, timer };
  }

  function end(slot: Slot, how: JobEnd, next: Slot['state']): void {
    if (slot.phase) deps.clock.clearTimer(slot.phase.timer);
    slot.phase = undefined;
    const job = slot.job;
    slot.job = undefined;
    slot.state = next;
    job?.resolve(how);
    if (next === 'idle') deps.onIdle();
  }

  return {
    async start() {
      try {
        await Promise.all(slots.map((s) => spawn(s, true)));
      } catch (err) {
        await this.stop();
        throw err;
      }
    },
    reserve() {
      const slot = slots.find((s) => s.state === 'idle');
      if (!slot) return undefined;
      slot.state = 'reserved';
      return slot.id;
    },
    release(id) {
      const slot = slots[id]!;
      // No onIdle: the caller gives a reservation back because there is nothing to run.
      if (slot.state === 'reserved') slot.state = 'idle';
    },
    run(id, job, onMessage) {
      const slot = slots[id]!;
      // The worker may have died or the pool stopped since the reservation.
      if (slot.state !== 'reserved' || !slot.worker) return Promise.resolve<JobEnd>(stopping ? { kind: 'stopped' } : { kind: 'crashed', error: 'the reserved worker is gone' });
      const request: JobRequest = { type: 'job', jobId: nextJobId++, ...job };
      slot.state = 'busy';
      return new Promise<JobEnd>((resolve) => {
        slot.job = { request, onMessage, resolve, startedAt: deps.clock.now() };
        const transfer = [...new Set(job.instances.flatMap((i) => (i.bytes ? [i.bytes.buffer as ArrayBuffer] : [])))];
        slot.worker!.postMessage(request, transfer);
      });
    },
    analyzers: () => info,
    status: () =>
      slots.map((s) => ({
        id: s.id,
        state: s.state,
        ...(s.job ? { series: s.job.request.seriesInstanceUid, busyMs: deps.clock.now() - s.job.startedAt } : {}),
        ...(s.phase ? { phase: s.phase.message.phase, ...(s.phase.message.analyzerId ? { analyzerId: s.phase.message.analyzerId } : {}) } : {}),
        nice: s.nice,
        schedIdle: s.schedIdle ?? false,
        restarts: s.restarts,
        ...(s.warmUpMs !== undefined ? { warmUpMs: Math.round(s.warmUpMs) } : {}),
      })),
    async stop() {
      stopping = true;
      await Promise.all(
        slots.map(async (s) => {
          const worker = s.worker;
          s.worker = undefined;
          end(s, { kind: 'stopped' }, 'stopped');
          s.ready?.();
          await worker?.terminate();
        }),
      );
    },
  };
}
