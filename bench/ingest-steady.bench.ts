/**
 * Ingest by a node that keeps running: one medge and one stock Orthanc 1.10, each started once per
 * mode, receive the same synthetic 200-slice CT series again and again under new UIDs, C-STORE on
 * one association (storescu) or STOW-RS (curl). medge analyses each series after it (in a worker
 * thread of the same process); the next series is sent once the receiver has settled, as a CT
 * scanner sends a patient's next series.
 *
 * `npm run bench:ingest` starts a fresh process per round (the issue's measurement, where V8 also
 * compiles the hot path each round and no analysis has run yet); this one shows what a node that
 * has been running for a while does: per series, and medians over the series after the first.
 * Run: `npm run bench:ingest-steady [-- --series 6 --modes one,stow --work DIR]`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeSyntheticCtSeries } from '../src/dicom/synthetic/ct-series.js';
import { fileCreationMicros } from './lib/create-cost.js';
import { pageCacheWriteMsPerMb } from './lib/page-cache-cost.js';
import { cpuSeconds, sampleRss, statusMb } from './lib/proc-stats.js';
import { startReceiver, storescuTo, stowTo, type Receiver, type ReceiverKind } from './lib/receivers.js';
import { reissueSeries } from './lib/reissue-uids.js';
import { newBoundary, writeMultipartBody } from './lib/stow.js';
import { formatTable, median } from './lib/table.js';

type Mode = 'one' | 'stow';
const MODE_LABEL: Record<Mode, string> = { one: 'C-STORE, 1 association', stow: 'STOW-RS' };
const SLICES = 200;
const STOW_BATCH = 50;

interface Copy {
  dir: string;
  studyUid: string;
  seriesUid: string;
  stowBodies: string[];
  boundary: string;
}

interface Row {
  kind: ReceiverKind;
  mode: Mode;
  index: number;
  ips: number;
  cpu: number;
  /** Peak RSS during the transfer, MB. */
  rssPeak: number;
  /** RSS once settled (medge: analysed), MB. */
  rssAfter: number | undefined;
}

const { values: opts } = parseArgs({
  options: {
    series: { type: 'string', default: '6' },
    modes: { type: 'string', default: 'one,stow' },
    /** Workload and receivers' storage; a new temporary directory (removed at the end) by default. */
    work: { type: 'string' },
  },
});

async function main(): Promise<void> {
  const count = Number(opts.series);
  if (!Number.isInteger(count) || count < 2) throw new Error('--series must be an integer of at least 2');
  const modes = opts.modes!.split(',') as Mode[];
  const work = opts.work ?? (await mkdtemp(join(tmpdir(), 'medge-bench-steady-')));
  try {
    const copies = await prepare(work, count);
    const storage = join(work, 'storage');
    await mkdir(storage, { recursive: true });
    console.log(`workload: ${count} copies of a ${SLICES}-slice 512x512 CT series under new UIDs; in the storage directory, ` +
      `creating a file: ${fileCreationMicros(storage).toFixed(0)} us, new page-cache data: ${pageCacheWriteMsPerMb(storage).toFixed(2)} CPU ms per MB`);
    const rows: Row[] = [];
    for (const mode of modes) {
      for (const kind of ['medge', 'orthanc'] as ReceiverKind[]) {
        const receiver = await startReceiver(kind, { storageParent: storage });
        try {
          for (const [index, copy] of copies.entries()) {
            const row = await measure(receiver, mode, index, copy);
            rows.push(row);
            console.log(`${MODE_LABEL[mode].padEnd(24)} ${kind.padEnd(7)} series ${index + 1}: ${row.ips.toFixed(0)} inst/s, ${row.cpu.toFixed(2)} CPU s, ` +
              `peak RSS ${row.rssPeak.toFixed(0)} MB, ${row.rssAfter === undefined ? 'did not settle' : `RSS settled ${row.rssAfter.toFixed(0)} MB`}`);
          }
        } finally {
          await receiver.stop();
        }
      }
    }
    report(rows, modes);
  } finally {
    if (!opts.work) await rm(work, { recursive: true, force: true });
  }
}

async function prepare(work: string, count: number): Promise<Copy[]> {
  const base = join(work, 'base');
  await writeSyntheticCtSeries({ dir: base, slices: SLICES, rows: 512, columns: 512, seed: 42 });
  const boundary = newBoundary();
  const copies: Copy[] = [];
  for (let i = 0; i < count; i++) {
    const dir = join(work, `copy-${i}`);
    const s = await reissueSeries(base, dir, 1000 + i);
    const stowBodies: string[] = [];
    for (let j = 0; j < s.files.length; j += STOW_BATCH) {
      const body = join(work, `copy-${i}-stow-${stowBodies.length}.bin`);
      await writeMultipartBody(s.files.slice(j, j + STOW_BATCH), body, boundary);
      stowBodies.push(body);
    }
    copies.push({ dir, studyUid: s.studyInstanceUid, seriesUid: s.seriesInstanceUid, stowBodies, boundary });
  }
  return copies;
}

async function measure(r: Receiver, mode: Mode, index: number, copy: Copy): Promise<Row> {
  const sampler = sampleRss(r.pid);
  const cpu0 = cpuSeconds(r.pid);
  const started = performance.now();
  if (mode === 'one') await storescuTo(r, [[copy.dir]]);
  else await stowTo(r, copy.stowBodies, copy.boundary);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(r.pid) - cpu0;
  const rssPeak = sampler.stop();
  const stored = await r.countInstances(copy.studyUid, copy.seriesUid);
  if (stored !== SLICES) throw new Error(`${r.kind} holds ${stored} of ${SLICES} instances of series ${index + 1}`);
  const settled = await r.settled(60_000);
  return { kind: r.kind, mode, index, ips: SLICES / seconds, cpu, rssPeak, rssAfter: settled ? statusMb(r.pid, 'VmRSS') : undefined };
}

function report(rows: Row[], modes: Mode[]): void {
  const steady = (kind: ReceiverKind, mode: Mode) => rows.filter((r) => r.kind === kind && r.mode === mode && r.index > 0);
  console.log('\nmedians over the series after the first (the node has received and analysed before); RSS: largest\n');
  console.log(formatTable(['mode', 'medge/s', 'orthanc/s', 'ratio', 'medge CPU s', 'orthanc CPU s', 'CPU ratio', 'medge peak RSS MB', 'orthanc peak RSS MB'], modes.map((mode) => {
    const m = steady('medge', mode);
    const o = steady('orthanc', mode);
    if (!m.length || !o.length) return [MODE_LABEL[mode]];
    const mi = median(m.map((r) => r.ips));
    const oi = median(o.map((r) => r.ips));
    const mc = median(m.map((r) => r.cpu));
    const oc = median(o.map((r) => r.cpu));
    return [MODE_LABEL[mode], mi, oi, mi / oi, mc, oc, mc / oc, Math.max(...m.map((r) => r.rssPeak)), Math.max(...o.map((r) => r.rssPeak))];
  })));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
