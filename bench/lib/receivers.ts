import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startMedge } from '../../test/helpers/medge-process.js';
import { startOrthanc, orthancJson } from '../../test/helpers/orthanc.js';
import { runStorescu } from '../../test/helpers/storescu.js';
import { curlStow } from './stow.js';

export type ReceiverKind = 'medge' | 'orthanc';

/** A freshly started receiver under test: one process, fresh storage. */
export interface Receiver {
  kind: ReceiverKind;
  pid: number;
  aeTitle: string;
  dicomPort: number;
  /** STOW-RS endpoint: BASE/dicom-web/studies */
  stowUrl: string;
  /** Instances the receiver holds for that series (what it will serve back). */
  countInstances(studyUid: string, seriesUid: string): Promise<number>;
  /** Resolves once the receiver has nothing left to do with what it received (medge: the analysis of the series); false on timeout. */
  settled(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

export const MEDGE_AE = 'MEDGE';
export const ORTHANC_AE = 'ORTHANC';

export interface ReceiverOptions {
  medgeArgs?: string[];
  /**
   * Where the receiver's storage is made, left there on stop for the caller to remove; by default a
   * temporary directory removed on stop. A benchmark keeps its rounds' storage until the end:
   * removing one round's files made every file creation of the next rounds slower for either
   * receiver, Orthanc's more than medge's (create-cost.ts).
   */
  storageParent?: string;
}

export async function startReceiver(kind: ReceiverKind, options: ReceiverOptions = {}): Promise<Receiver> {
  const keep = options.storageParent !== undefined;
  if (kind === 'medge') {
    const dataDir = keep ? await mkdtemp(join(options.storageParent!, 'medge-data-')) : undefined;
    const medge = await startMedge({ dataDir, args: ['--ae-title', MEDGE_AE, ...(options.medgeArgs ?? [])] });
    // The analysis workers warm up on a small phantom after start (about 0.5-1.4 s of CPU): wait
    // for it, so that a round measures receiving and not the node's start-up.
    await warmedUp(medge.httpUrl);
    return {
      kind,
      pid: medge.pid,
      aeTitle: MEDGE_AE,
      dicomPort: medge.dicomPort,
      stowUrl: `${medge.httpUrl}/dicom-web/studies`,
      countInstances: (study, series) => qidoCount(medge.httpUrl, study, series),
      settled: (timeoutMs) => pipelineIdle(medge.httpUrl, timeoutMs),
      async stop() {
        await medge.stop();
        if (!keep) await rm(medge.dataDir, { recursive: true, force: true });
      },
    };
  }
  // StableAge as in Orthanc's defaults, so that the benchmark compares with a stock Orthanc.
  const orthanc = await startOrthanc({ aeTitle: ORTHANC_AE, extraConfig: { StableAge: 60 }, parentDir: options.storageParent, keepDir: keep });
  return {
    kind,
    pid: orthanc.pid,
    aeTitle: ORTHANC_AE,
    dicomPort: orthanc.dicomPort,
    stowUrl: `${orthanc.httpUrl}/dicom-web/studies`,
    countInstances: async (study, series) =>
      (await orthancJson<string[]>(orthanc.httpUrl, '/tools/find', {
        method: 'POST',
        body: JSON.stringify({ Level: 'Instance', Query: { StudyInstanceUID: study, SeriesInstanceUID: series } }),
      })).length,
    // Orthanc stores and indexes before it answers; nothing follows (StableAge only marks the study stable).
    settled: async () => true,
    stop: () => orthanc.stop(),
  };
}

/** C-STORE with storescu (TCP_NODELAY=1), one association per entry of `associations` (files or directories), all at once. */
export async function storescuTo(r: Receiver, associations: string[][]): Promise<void> {
  const runs = await Promise.all(associations.map((paths) => runStorescu({ host: '127.0.0.1', port: r.dicomPort, aec: r.aeTitle, paths })));
  for (const run of runs) {
    if (run.code !== 0) throw new Error(`storescu exited ${run.code ?? run.signal}: ${run.output.slice(-800)}`);
  }
}

/** STOW-RS with curl, one request per multipart body file, one after the other. */
export async function stowTo(r: Receiver, bodies: string[], boundary: string): Promise<void> {
  for (const body of bodies) {
    const res = await curlStow(r.stowUrl, body, boundary);
    if (res.status !== 200 && res.status !== 202) throw new Error(`STOW-RS HTTP ${res.status}: ${res.body.slice(0, 400)}`);
  }
}

/** Number of instances QIDO-RS lists for one series (PS3.18 10.6); 204 and empty mean none. */
export async function qidoCount(httpUrl: string, studyUid: string, seriesUid: string): Promise<number> {
  const res = await fetch(`${httpUrl}/dicom-web/studies/${studyUid}/series/${seriesUid}/instances?limit=100000`, {
    headers: { accept: 'application/dicom+json' },
  });
  const text = await res.text();
  if (res.status === 204 || (res.ok && text.trim() === '')) return 0;
  if (!res.ok) throw new Error(`QIDO-RS HTTP ${res.status}: ${text.slice(0, 200)}`);
  const list = JSON.parse(text) as unknown[];
  return list.length;
}

interface PipelineHealth {
  pipeline?: { tracking?: number; queue?: { receiving?: number; queued?: number; running?: number }; workers?: { state?: string; warmUpMs?: number }[] };
}

/** Whether the node's pipeline has no series receiving, queued or running and every worker is idle, polled until `timeoutMs`. */
async function pipelineIdle(httpUrl: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const p = ((await (await fetch(`${httpUrl}/api/health`)).json()) as PipelineHealth).pipeline;
    const q = p?.queue ?? {};
    if (p && !p.tracking && !q.receiving && !q.queued && !q.running && (p.workers ?? []).every((w) => w.state === 'idle')) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Resolves once every analysis worker of the node reports its warm-up done (GET /api/health), or after 30 s. */
async function warmedUp(httpUrl: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const health = (await (await fetch(`${httpUrl}/api/health`)).json()) as { pipeline?: { workers?: { warmUpMs?: number }[] } };
    const workers = health.pipeline?.workers ?? [];
    if (workers.length > 0 && workers.every((w) => w.warmUpMs !== undefined)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
