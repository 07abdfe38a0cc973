/**
 * Time to alert (issue 4): storescu sends a head CT with a bleed to a running medge node, 20 times
 * for each of a 5 mm (about 32 slices) and a 0.625 mm (about 240 slices) series, alternating, each
 * time under new UIDs (a new study). Prints, p50 and p95:
 * - time-to-alert: alert dispatched minus last instance received (both from the node's timeline);
 * - scan-to-alert: alert dispatched minus the moment storescu started (the first instance sent);
 * - transfer: storescu's wall time; scan-to-alert must stay within transfer + 1 s;
 * beside the anchors: Orthanc's 60 s StableAge, MONAI's 5 s, cleared products' 13.7 s and 40 s,
 * the product brief's 1 to 5 s. Run with `npm run bench:alert [-- --runs 20]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { renderHeadPhantom } from '../src/phantom/render.js';
import { writePhantomSeries } from '../src/phantom/write-series.js';
import { startMedge, type MedgeProcess } from '../test/helpers/medge-process.js';
import { runStorescu } from '../test/helpers/storescu.js';
import { reissueSeries } from './lib/reissue-uids.js';
import { formatTable } from './lib/table.js';

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '20' }, keep: { type: 'boolean', default: false } } });

interface Case {
  label: string;
  thickness: number;
  dir: string;
  slices: number;
}

interface Sample {
  timeToAlertMs: number;
  scanToAlertMs: number;
  transferMs: number;
}

/** What GET /api/studies/{uid} answers, as far as the benchmark reads it. */
interface StudyTimeline {
  timeline?: { lastReceivedAt?: string | null; alerts?: { dispatchedAt?: string | null }[] };
}

async function main(): Promise<void> {
  const runs = Number(opts.runs);
  const work = await mkdtemp(join(tmpdir(), 'medge-bench-alert-'));
  let node: MedgeProcess | undefined;
  try {
    const cases: Case[] = [];
    for (const [label, thickness] of [['5 mm', 5], ['0.625 mm', 0.625]] as const) {
      const dir = join(work, `phantom-${thickness}`);
      const { volume, truth } = renderHeadPhantom({ seed: 7, sliceThickness: thickness, noiseHu: 4, bleeds: [{ subtype: 'intraparenchymal', volumeMl: 8 }] });
      const w = await writePhantomSeries(volume, truth, { dir, intercept: -1024 });
      cases.push({ label, thickness, dir, slices: w.files.length });
    }
    node = await startMedge({ dataDir: join(work, 'data'), env: { MEDGE_LOG_LEVEL: 'warn' } });
    process.stderr.write(`medge on DICOM port ${node.dicomPort}, HTTP ${node.httpPort}; ${runs} runs per series\n`);

    const samples = new Map<string, Sample[]>(cases.map((c) => [c.label, []]));
    // One warm-up per case (JIT, page cache, worker start), not counted.
    for (let run = 0; run <= runs; run++) {
      for (const c of cases) {
        const s = await sendAndTime(node, c, work, run * 2 + (c.thickness === 5 ? 0 : 1));
        if (run > 0) samples.get(c.label)!.push(s);
        process.stderr.write(`\r${c.label} run ${run}/${runs}: time-to-alert ${s.timeToAlertMs.toFixed(0)} ms   `);
      }
    }
    process.stderr.write('\n');
    const rows = cases.map((c) => {
      const s = samples.get(c.label)!;
      const tta = s.map((x) => x.timeToAlertMs);
      const sta = s.map((x) => x.scanToAlertMs);
      const over = s.map((x) => x.scanToAlertMs - x.transferMs);
      return [
        `${c.label} (${c.slices} slices)`,
        pct(tta, 50), pct(tta, 95), pct(sta, 50), pct(sta, 95), pct(s.map((x) => x.transferMs), 50), pct(over, 95),
      ];
    });
    process.stdout.write(`\nTime to alert, ms (${runs} runs each; storescu -> medge on loopback)\n\n`);
    process.stdout.write(formatTable(['series', 'time-to-alert p50', 'p95', 'scan-to-alert p50', 'p95', 'transfer p50', '(scan-to-alert - transfer) p95'], rows) + '\n');
    process.stdout.write('\nGoals: time-to-alert p95 < 1000 ms for both, p50 < 300 ms for 5 mm; scan-to-alert <= transfer + 1000 ms.\n');
    process.stdout.write('Anchors: Orthanc StableAge 60 000 ms before a study is even called stable; MONAI gateway 5 000 ms;\n');
    process.stdout.write('cleared products 13 700 ms (syngo.CT Brain Hemorrhage) to 40 000 ms (RAPID ICH) processing; product brief 1 000 to 5 000 ms.\n');
  } finally {
    await node?.stop();
    if (!opts.keep) await rm(work, { recursive: true, force: true });
  }
}

async function sendAndTime(node: MedgeProcess, c: Case, work: string, run: number): Promise<Sample> {
  const copy = await reissueSeries(c.dir, join(work, 'runs', `${run}`), run);
  const sentAt = Date.now();
  const r = await runStorescu({ host: '127.0.0.1', port: node.dicomPort, aec: 'MEDGE', paths: copy.files });
  if (r.code !== 0) throw new Error(`storescu failed (${r.code}):\n${r.output}`);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${node.httpUrl}/api/studies/${copy.studyInstanceUid}`);
    if (res.ok) {
      const body = (await res.json()) as StudyTimeline;
      const dispatched = body.timeline?.alerts?.[0]?.dispatchedAt;
      const last = body.timeline?.lastReceivedAt;
      if (dispatched && last) {
        await rm(join(work, 'runs', `${run}`), { recursive: true, force: true });
        const d = Date.parse(dispatched);
        return { timeToAlertMs: d - Date.parse(last), scanToAlertMs: d - sentAt, transferMs: r.ms };
      }
    }
    await delay(20);
  }
  throw new Error(`no alert for ${c.label} run ${run} within 60 s:\n${node.output().slice(-4000)}`);
}

/** Nearest-rank percentile. */
function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
