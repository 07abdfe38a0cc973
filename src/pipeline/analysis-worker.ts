/**
 * An analysis worker thread (started by worker-pool.ts). It loads the analyzers once, then for each
 * job reads the series' files itself into a buffer kept between jobs (file-arena.ts; synchronous
 * reads: the files are in the page cache right after ingest, and the wait costs this thread
 * alone), builds the volume, runs every applicable analyzer and posts each analysis at once
 * (findings without masks: what an alert needs), then builds the result objects from the masks it
 * kept and posts their bytes, transferred. Before each phase it
 * tells the main thread the time the phase may take: the main thread terminates a worker that runs
 * past it (a pure-JS loop cannot be interrupted from inside).
 */
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { DEFAULT_ANALYZER_LOADERS } from '../analyzers/default-analyzers.js';
import { reportFinding } from '../analyzers/offline.js';
import { createAnalyzerRegistry, loadAnalyzers, type AnalyzerLoader } from '../analyzers/registry.js';
import type { Analyzer } from '../analyzers/types.js';
import { isMedgeError } from '../errors.js';
import { buildVolume } from '../imaging/build-volume.js';
import { VolumeArena } from '../imaging/volume-arena.js';
import type { Volume } from '../imaging/volume.js';
import { buildResults } from '../results/build-results.js';
import type { ResultKind } from './types.js';
import type { AnalysisMessage, JobRequest, WorkerInit, WorkerMessage } from './worker-protocol.js';
import { FileArena } from './file-arena.js';
import { warmUp } from './worker-warm-up.js';

/** Reading and building the volume of one series may take this long, ms (a 1000-slice series takes about 2 s). */
export const VOLUME_LIMIT_MS = 60_000;
/** Building the result objects of one analysis may take this long, ms. */
export const RESULTS_LIMIT_MS = 30_000;

const port = parentPort!;
const init = workerData as WorkerInit;
/** The voxel arrays of the last volume, reused by the next job (one job at a time per worker). */
const arena = new VolumeArena();
/** The bytes of the last series' files, likewise. */
const files = new FileArena();
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

const nice = lowerPriority(init.nice);
const schedIdle = init.schedIdle && idleClass();
const { analyzers, loadFailures } = await loadAnalyzers(loaders(init));
const registry = createAnalyzerRegistry(analyzers, { loadFailures });
post({
  type: 'ready',
  analyzers: registry.analyzers().map((a) => ({ id: a.manifest.id, version: a.manifest.version, modalities: a.manifest.modalities, timeLimitMs: a.manifest.timeLimitMs })),
  loadFailures: registry.entries().flatMap((e) => (e.state === 'load-failed' ? [{ id: e.id, error: e.error }] : [])),
  nice,
  schedIdle,
});
// An exception here is a bug: it ends the thread, and the pool reports MEDGE_ERR_PIPELINE_WORKER.
port.on('message', (job: JobRequest) => void run(job).catch((err) => setImmediate(() => { throw err; })));
if (init.warmUp) {
  // After 'ready': a job that comes meanwhile is queued on the port and runs warm right after.
  await warmUp(registry, init.softwareVersion).then(
    (ms) => post({ type: 'warm', ms }),
    () => post({ type: 'warm', ms: -1 }),
  );
}

async function run(job: JobRequest): Promise<void> {
  try {
    await runJob(job);
  } finally {
    arena.release();
  }
}

async function runJob(job: JobRequest): Promise<void> {
  const { jobId } = job;
  post({ type: 'phase', jobId, phase: 'volume', limitMs: VOLUME_LIMIT_MS });
  const t0 = performance.now();
  // A file replaced by a newer version since the job was made is gone: that newer version makes
  // the series ready again, and this run goes on without it.
  const onDisk = job.instances.filter((i) => !i.bytes);
  const read = files.read(onDisk.map((i) => i.path!));
  const instances: { sopInstanceUid: string; part10: Buffer }[] = [];
  for (const [k, i] of onDisk.entries()) if (read[k]) instances.push({ sopInstanceUid: i.sopInstanceUid, part10: read[k]! });
  for (const i of job.instances) {
    if (i.bytes) instances.push({ sopInstanceUid: i.sopInstanceUid, part10: Buffer.from(i.bytes.buffer, i.bytes.byteOffset, i.bytes.byteLength) });
  }
  const t1 = performance.now();
  let volume: Volume;
  try {
    volume = await buildVolume(instances, { allocate: (n) => arena.acquire(n) });
  } catch (err) {
    const { status, reason } = unbuildable(err);
    const todo = registry.analyzers().filter((a) => !job.skip.includes(a.manifest.id));
    if (todo.length === 0 && job.skip.length === 0) post(analysis(jobId, null, { status: 'failed', reason: 'no analyzer is loaded' }));
    for (const a of todo) post(analysis(jobId, a, { status, reason }));
    post({ type: 'done', jobId, timings: { readMs: t1 - t0, volumeMs: performance.now() - t1, slices: 0 } });
    return;
  }
  const timings = { readMs: t1 - t0, volumeMs: performance.now() - t1, slices: volume.dims[2] };
  const sources = new Map(instances.map((i) => [i.sopInstanceUid, i.part10]));
  for (const v of registry.applicable(volume)) {
    const a = v.analyzer;
    if (job.skip.includes(a.manifest.id)) continue;
    if (!v.ok) {
      post(analysis(jobId, a, { status: v.failed ? 'failed' : 'not-applicable', reason: v.reason }));
      continue;
    }
    post({ type: 'phase', jobId, phase: 'analyze', analyzerId: a.manifest.id, limitMs: a.manifest.timeLimitMs });
    const r = registry.run(a, volume);
    post({
      ...analysis(jobId, a, { status: r.result.status, reason: r.result.reason }),
      findings: r.result.findings.map(reportFinding),
      ...(r.result.midlineShiftMm !== undefined ? { midlineShiftMm: Math.round(r.result.midlineShiftMm * 10) / 10 } : {}),
      elapsedMs: r.elapsedMs,
    });
    if (r.result.status !== 'positive' && r.result.status !== 'negative') continue;
    post({ type: 'phase', jobId, phase: 'results', analyzerId: a.manifest.id, limitMs: RESULTS_LIMIT_MS });
    try {
      const built = buildResults({ volume, sources, analyzer: { id: a.manifest.id, version: a.manifest.version }, result: r.result, now: new Date(job.now), softwareVersion: init.softwareVersion });
      const objects: { kind: ResultKind; bytes: Uint8Array }[] = [];
      const transfer: ArrayBuffer[] = [];
      for (const [kind, buf] of [['sr', built.sr], ['seg', built.seg], ['key-image', built.keyImage]] as const) {
        if (!buf) continue;
        const bytes = ownBuffer(buf);
        objects.push({ kind, bytes });
        transfer.push(bytes.buffer as ArrayBuffer);
      }
      post({ type: 'results', jobId, analyzerId: a.manifest.id, objects }, transfer);
    } catch (err) {
      const code = isMedgeError(err) ? err.code : 'MEDGE_ERR_RESULTS_BUILD';
      post({ type: 'results-failed', jobId, analyzerId: a.manifest.id, code, message: err instanceof Error ? err.message : String(err) });
    }
  }
  post({ type: 'done', jobId, timings });
}

function analysis(jobId: number, a: Analyzer | null, r: { status: AnalysisMessage['status']; reason?: string }): AnalysisMessage {
  return {
    type: 'analysis',
    jobId,
    analyzerId: a?.manifest.id ?? null,
    analyzerVersion: a?.manifest.version ?? null,
    status: r.status,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    findings: [],
    elapsedMs: 0,
  };
}

/** A series without image slices is for no image analyzer; one whose slices cannot be read has failed. */
function unbuildable(err: unknown): { status: AnalysisMessage['status']; reason: string } {
  if (isMedgeError(err, 'MEDGE_ERR_IMAGING_NO_SLICES')) {
    const excluded = (err.fields.excluded ?? []) as { reason: string }[];
    const broken = excluded.some((e) => /cannot be decoded|not a readable/.test(e.reason));
    return { status: broken ? 'failed' : 'not-applicable', reason: 'no image slice to analyse' };
  }
  return { status: 'failed', reason: `the volume could not be built: ${err instanceof Error ? err.message : String(err)}` };
}

/** Bytes that own their whole ArrayBuffer, so that transferring them detaches nothing else (pooled Buffers share one). */
function ownBuffer(buf: Buffer): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) return buf;
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return copy;
}

function loaders(o: WorkerInit): AnalyzerLoader[] {
  if (!o.analyzerModules) return [...DEFAULT_ANALYZER_LOADERS];
  return o.analyzerModules.map((m) => ({
    id: `${m.url}#${m.exportName ?? 'default'}`,
    load: async () => (await import(m.url))[m.exportName ?? 'default'] as Analyzer,
  }));
}

/**
 * Lowers this thread's CPU priority (Linux: setpriority on a thread id affects that thread only), so
 * that the main thread's ingest wins when both want a core. Returns the nice value, or null.
 */
/** This thread into the SCHED_IDLE class (sched(7)); false when chrt is missing or refused. */
function idleClass(): boolean {
  try {
    const tid = readlinkSync('/proc/thread-self').split('/').pop()!;
    return spawnSync('chrt', ['--idle', '--pid', '0', tid], { stdio: 'ignore', timeout: 5000 }).status === 0;
  } catch {
    return false;
  }
}

function lowerPriority(value: number): number | null {
  if (!value) return null;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, value);
    return getPriority(tid);
  } catch {
    return null;
  }
}
