/**
 * ICH speed check (issue 3): `npm run bench:ich-speed [-- --runs 5]`.
 *
 * Writes two uncompressed 512x512 head CT phantom series with a bleed (250 slices of 0.625 mm and 32
 * slices of 5 mm), then runs the offline analysis path of `medge analyze` on each in this process,
 * several times, and prints the time per stage: scan (headers read to group the series), decode
 * (files read + pixel decoding), volume (geometry + HU), analyze (the ICH analyzer). Pinned to one
 * core with `taskset -c 0` when taskset exists (the process re-executes itself under it).
 * Goals: 250 slices under 1 s, 32 slices under 0.2 s, decode + volume + analyze, one core, no GPU.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDefaultRegistry } from '../src/analyzers/default-analyzers.js';
import { analyzeDirectory } from '../src/analyzers/offline.js';
import { createTimedVolumeBuilder } from '../src/analyzers/volume-builder.js';
import { renderHeadPhantom } from '../src/phantom/render.js';
import { writePhantomSeries } from '../src/phantom/write-series.js';
import { formatTable, median } from './lib/table.js';

const PINNED = 'MEDGE_BENCH_PINNED';

async function main(): Promise<void> {
  if (!process.env[PINNED] && spawnSync('taskset', ['-c', '0', 'true']).status === 0) {
    const r = spawnSync('taskset', ['-c', '0', process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, [PINNED]: '1' },
    });
    process.exitCode = r.status ?? 1;
    return;
  }
  const { values } = parseArgs({ options: { runs: { type: 'string' } } });
  const runs = Math.max(1, Number(values.runs ?? 5));
  console.log(`ICH speed check: decode + volume + analyze on ${process.env[PINNED] ? 'one core (taskset -c 0)' : 'an unpinned process (taskset not found)'}, ${runs} runs each, median (min)`);
  const registry = await createDefaultRegistry();
  const dir = await mkdtemp(join(tmpdir(), 'medge-bench-ich-speed-'));
  const rows: Array<Array<string | number>> = [];
  const verdicts: string[] = [];
  try {
    for (const s of [
      { name: '250 x 0.625 mm', slices: 250, thickness: 0.625, goalMs: 1000 },
      { name: '32 x 5 mm', slices: 32, thickness: 5, goalMs: 200 },
    ]) {
      const { volume, truth } = renderHeadPhantom({
        seed: 7,
        sliceThickness: s.thickness,
        coverageMm: s.slices * s.thickness,
        noiseHu: 4,
        bleeds: [{ subtype: 'intraparenchymal', volumeMl: 20, location: 'basal-ganglia', side: 'left' }],
      });
      const seriesDir = join(dir, `${s.slices}`);
      const files = (await writePhantomSeries(volume, truth, { dir: seriesDir, intercept: -1024 })).files.length;
      const samples: { scan: number; decode: number; volume: number; analyze: number; status: string }[] = [];
      for (let i = 0; i < runs + 1; i++) {
        const report = await analyzeDirectory(seriesDir, { registry, buildVolume: createTimedVolumeBuilder() });
        const r = report.series[0]!;
        // The first run warms up the JIT and the page cache; it is not counted.
        if (i > 0) samples.push({ scan: report.scanMs, ...r.timingsMs, status: r.status });
      }
      const col = (k: 'scan' | 'decode' | 'volume' | 'analyze') => samples.map((x) => x[k]);
      const totals = samples.map((x) => x.decode + x.volume + x.analyze);
      const cell = (xs: number[]) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)})`;
      rows.push([`${s.name} (${files} files, ${samples[0]!.status})`, cell(col('scan')), cell(col('decode')), cell(col('volume')), cell(col('analyze')), cell(totals), `< ${s.goalMs}`]);
      verdicts.push(`${s.name}: median ${median(totals).toFixed(0)} ms, goal < ${s.goalMs} ms: ${median(totals) < s.goalMs ? 'PASS' : 'FAIL'}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(formatTable(['series', 'scan ms', 'decode ms', 'volume ms', 'analyze ms', 'total ms', 'goal ms'], rows));
  console.log('total = decode + volume + analyze (the header scan that groups files into series is shown apart)');
  for (const v of verdicts) console.log(v);
  console.log('anchors: RAPID ICH 3.0 under 40 s per case; Siemens syngo.CT Brain Hemorrhage 13.7 s per case');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
