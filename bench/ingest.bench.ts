/**
 * Ingest benchmark: medge against a stock Orthanc 1.10 on the same machine, same files, same
 * clients. Modes: C-STORE on one association (storescu), on four parallel associations, and
 * STOW-RS (curl). Each round starts a fresh receiver with fresh storage, so that VmHWM is that
 * round's peak; every round's storage stays until the end of the run (lib/create-cost.ts says why).
 * Run with `npm run bench:ingest [-- --rounds 3 --slices 200 --stow-batch 50 --work DIR]`.
 *
 * Anchors (DESIGN.md): Orthanc 110 instances/s on one association, 185/s on four, STOW-RS 67-82/s.
 */
import { link, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeSyntheticCtSeries, type SyntheticCtSeries } from '../src/dicom/synthetic/ct-series.js';
import { fileCreationMicros, SLOW_CREATION_US } from './lib/create-cost.js';
import { pageCacheWriteMsPerMb, SLOW_PAGE_CACHE_MS_PER_MB } from './lib/page-cache-cost.js';
import { cpuSeconds, sampleRss, statusMb } from './lib/proc-stats.js';
import { startReceiver, storescuTo, stowTo, type Receiver, type ReceiverKind } from './lib/receivers.js';
import { newBoundary, writeMultipartBody } from './lib/stow.js';
import { formatTable, fmt, median } from './lib/table.js';

type Mode = 'one' | 'four' | 'stow';
const MODE_LABEL: Record<Mode, string> = { one: 'C-STORE, 1 association', four: 'C-STORE, 4 associations', stow: 'STOW-RS' };

interface Workload {
  series: SyntheticCtSeries;
  seriesDir: string;
  splitDirs: string[];
  stowBodies: string[];
  boundary: string;
  /** Where each round's receiver storage is made (removed with the workload at the end). */
  storage: string;
}

interface Sample {
  kind: ReceiverKind;
  mode: Mode;
  round: number;
  seconds: number;
  cpu: number;
  rssMb: number;
  stored: number;
  /** CPU seconds until the receiver had nothing left to do (medge: the series analysed too), informational. */
  cpuSettled: number | undefined;
  /** Peak RSS (VmHWM) by then, MB, informational. */
  rssSettledMb: number | undefined;
}

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    slices: { type: 'string', default: '200' },
    'stow-batch': { type: 'string', default: '50' },
    modes: { type: 'string', default: 'one,four,stow' },
    only: { type: 'string' },
    /** Workload and receivers' storage; a new temporary directory (removed at the end) by default. */
    work: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  const rounds = Number(opts.rounds);
  const modes = opts.modes!.split(',') as Mode[];
  const kinds: ReceiverKind[] = opts.only ? [opts.only as ReceiverKind] : ['medge', 'orthanc'];
  const work = opts.work ?? (await mkdtemp(join(tmpdir(), 'medge-bench-')));
  try {
    const t0 = performance.now();
    const w = await prepare(work, Number(opts.slices), Number(opts['stow-batch']));
    console.log(`workload: ${w.series.files.length} CT slices 512x512, ${(w.series.bytes / 1e6).toFixed(1)} MB, ` +
      `STOW in ${w.stowBodies.length} request(s) of ${opts['stow-batch']}; prepared in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const creationBefore = fileCreationMicros(w.storage);
    const pageCacheBefore = pageCacheWriteMsPerMb(w.storage);
    console.log(`storage: ${w.storage}; creating a file there: ${creationBefore.toFixed(0)} us${creationWarning(creationBefore)}`);
    console.log(`new page-cache data: ${pageCacheBefore.toFixed(2)} CPU ms per MB${pageCacheNote(pageCacheBefore)}`);
    const samples: Sample[] = [];
    const broken = new Map<ReceiverKind, string>();
    for (let round = 1; round <= rounds; round++) {
      for (const mode of modes) {
        // Alternate who goes first so that page cache and disk state favour neither.
        const order = round % 2 ? kinds : [...kinds].reverse();
        for (const kind of order) {
          if (broken.has(kind)) continue;
          try {
            const s = await measure(kind, mode, round, w);
            samples.push(s);
            console.log(`round ${round} ${kind.padEnd(7)} ${MODE_LABEL[mode].padEnd(24)} ${fmt(w.series.files.length / s.seconds)} inst/s, ` +
              `${fmt(s.cpu)} CPU s, ${fmt(s.rssMb)} MB peak RSS, ${s.stored} stored`);
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err);
            console.log(`round ${round} ${kind} ${MODE_LABEL[mode]}: FAILED: ${message.split('\n').slice(0, 6).join(' | ')}`);
            if (/did not write|exited before|did not answer|exited early/.test(message)) broken.set(kind, message.split('\n')[0]!);
          }
        }
      }
    }
    report(samples, w, modes, broken);
    const creationAfter = fileCreationMicros(w.storage);
    const pageCacheAfter = pageCacheWriteMsPerMb(w.storage);
    console.log(`\ncreating a file in the storage directory: ${creationBefore.toFixed(0)} us before the rounds, ${creationAfter.toFixed(0)} us after${creationWarning(Math.max(creationBefore, creationAfter))}`);
    console.log(`new page-cache data: ${pageCacheBefore.toFixed(2)} CPU ms per MB before the rounds, ${pageCacheAfter.toFixed(2)} after${pageCacheNote(Math.max(pageCacheBefore, pageCacheAfter))}`);
  } finally {
    if (!opts.keep && !opts.work) await rm(work, { recursive: true, force: true });
  }
}

async function prepare(work: string, slices: number, batch: number): Promise<Workload> {
  const seriesDir = join(work, 'series');
  const series = await writeSyntheticCtSeries({ dir: seriesDir, slices, rows: 512, columns: 512, seed: 42 });
  const splitDirs = [0, 1, 2, 3].map((i) => join(work, 'split', String(i)));
  for (const d of splitDirs) await mkdir(d, { recursive: true });
  // Round-robin, hard links: the same bytes, four directories.
  await Promise.all(series.files.map((f, i) => link(f, join(splitDirs[i % 4]!, basename(f)))));
  const boundary = newBoundary();
  const stowBodies: string[] = [];
  for (let i = 0; i < series.files.length; i += batch) {
    const body = join(work, `stow-${stowBodies.length}.bin`);
    await writeMultipartBody(series.files.slice(i, i + batch), body, boundary);
    stowBodies.push(body);
  }
  const storage = join(work, 'storage');
  await mkdir(storage, { recursive: true });
  return { series, seriesDir, splitDirs, stowBodies, boundary, storage };
}

async function measure(kind: ReceiverKind, mode: Mode, round: number, w: Workload): Promise<Sample> {
  const receiver = await startReceiver(kind, { storageParent: w.storage });
  const sampler = sampleRss(receiver.pid);
  try {
    const cpu0 = cpuSeconds(receiver.pid);
    const started = performance.now();
    await send(receiver, mode, w);
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(receiver.pid) - cpu0;
    const rssMb = sampler.stop();
    const stored = await receiver.countInstances(w.series.studyUid, w.series.seriesUid);
    if (stored !== w.series.files.length) throw new Error(`${kind} holds ${stored} of ${w.series.files.length} instances after ${mode}`);
    const settled = await receiver.settled(60_000);
    const cpuSettled = settled ? cpuSeconds(receiver.pid) - cpu0 : undefined;
    const rssSettledMb = settled ? statusMb(receiver.pid, 'VmHWM') : undefined;
    return { kind, mode, round, seconds, cpu, rssMb, stored, cpuSettled, rssSettledMb };
  } finally {
    sampler.stop();
    await receiver.stop();
  }
}

async function send(r: Receiver, mode: Mode, w: Workload): Promise<void> {
  if (mode === 'stow') return stowTo(r, w.stowBodies, w.boundary);
  return storescuTo(r, (mode === 'one' ? [w.seriesDir] : w.splitDirs).map((d) => [d]));
}

function report(samples: Sample[], w: Workload, modes: Mode[], broken: Map<ReceiverKind, string>): void {
  const n = w.series.files.length;
  const mb = w.series.bytes / 1e6;
  const stat = (kind: ReceiverKind, mode: Mode) => {
    const s = samples.filter((x) => x.kind === kind && x.mode === mode);
    if (!s.length) return undefined;
    const seconds = median(s.map((x) => x.seconds));
    const settled = s.map((x) => x.cpuSettled).filter((x): x is number => x !== undefined);
    const rssSettled = s.map((x) => x.rssSettledMb).filter((x): x is number => x !== undefined);
    return {
      ips: n / seconds, mbs: mb / seconds, cpu: median(s.map((x) => x.cpu)), rss: Math.max(...s.map((x) => x.rssMb)), rounds: s.length,
      cpuSettled: settled.length ? median(settled) : undefined, rssSettled: rssSettled.length ? Math.max(...rssSettled) : undefined,
    };
  };
  const rows = modes.map((mode) => {
    const m = stat('medge', mode);
    const o = stat('orthanc', mode);
    return [MODE_LABEL[mode], m?.ips, o?.ips, m && o ? m.ips / o.ips : undefined, m?.mbs, o?.mbs, m?.cpu, o?.cpu,
      m && o ? m.cpu / o.cpu : undefined, m?.rss, o?.rss, `${m?.rounds ?? 0}/${o?.rounds ?? 0}`];
  });
  console.log(`\nmedians over rounds; ${n} instances, ${mb.toFixed(1)} MB; CPU = receiver's user+system seconds; RSS = peak (VmHWM / 50 ms VmRSS samples)\n`);
  console.log(formatTable(['mode', 'medge/s', 'orthanc/s', 'ratio', 'medge MB/s', 'orthanc MB/s', 'medge CPU s', 'orthanc CPU s', 'CPU ratio', 'medge RSS MB', 'orthanc RSS MB', 'rounds m/o'], rows));
  console.log('\nanchors (DESIGN.md): Orthanc 110/s on one association, 185/s on four, STOW-RS 67-82/s; storescp 820/s');
  const anchors: Record<Mode, number> = { one: 110, four: 185, stow: 82 };
  console.log(formatTable(['mode', 'medge/s', 'anchor/s', 'medge / anchor', 'medge CPU s until settled', 'medge peak RSS MB until settled'], modes.map((mode) => {
    const m = stat('medge', mode);
    return [MODE_LABEL[mode], m?.ips, anchors[mode], m ? m.ips / anchors[mode] : undefined, m?.cpuSettled, m?.rssSettled];
  })));
  console.log('(the goals below are against the same-run Orthanc; "until settled" is informational: the node also analyses what it received,\n' +
    'after the transfer, in a worker thread of the same process; `npm run bench:ingest-steady` shows a node that goes on receiving series)');
  const ratio = (mode: Mode) => {
    const m = stat('medge', mode);
    const o = stat('orthanc', mode);
    return m && o ? m.ips / o.ips : undefined;
  };
  const cpuRatios = modes.map((mode) => {
    const m = stat('medge', mode);
    const o = stat('orthanc', mode);
    return m && o ? m.cpu / o.cpu : undefined;
  });
  const rssMax = Math.max(...samples.filter((s) => s.kind === 'medge').map((s) => s.rssMb));
  const verdict = (v: number | undefined, ok: (v: number) => boolean) => (v === undefined || !Number.isFinite(v) ? 'n/a' : ok(v) ? 'PASS' : 'FAIL');
  const goals: Array<[string, number | undefined, string]> = [
    ['2x Orthanc on one association', ratio('one'), verdict(ratio('one'), (v) => v >= 2)],
    ['1.5x Orthanc on four associations', ratio('four'), verdict(ratio('four'), (v) => v >= 1.5)],
    ['2x Orthanc on STOW-RS', ratio('stow'), verdict(ratio('stow'), (v) => v >= 2)],
    ['under half of Orthanc\'s CPU (worst mode)', worst(cpuRatios), verdict(worst(cpuRatios), (v) => v < 0.5)],
    ['medge peak RSS under 200 MB', Number.isFinite(rssMax) ? rssMax : undefined, verdict(Number.isFinite(rssMax) ? rssMax : undefined, (v) => v < 200)],
  ];
  console.log(`\n${formatTable(['goal', 'measured', 'verdict'], goals)}`);
  for (const [kind, why] of broken) console.log(`\n${kind} could not be measured: ${why}`);
}

function creationWarning(us: number): string {
  if (us <= SLOW_CREATION_US) return '';
  return ` (over ${SLOW_CREATION_US} us: the filesystem skips recently freed inodes, see bench/lib/create-cost.ts; ` +
    'the figures then depend on what was removed nearby in the last minutes: use --work DIR elsewhere, or wait)';
}

function pageCacheNote(msPerMb: number): string {
  if (msPerMb <= SLOW_PAGE_CACHE_MS_PER_MB) return '';
  return ` (over ${SLOW_PAGE_CACHE_MS_PER_MB}: a slow phase of this machine, both receivers pay it per byte stored; see bench/lib/page-cache-cost.ts)`;
}

function worst(values: Array<number | undefined>): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length ? Math.max(...defined) : undefined;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
