/**
 * Ingest while analysing, and the time an analysis takes through the pipeline. In process: the
 * pipeline (worker threads, shipped ICH analyzer) and the DIMSE SCP over the real ingest, fs store
 * and SQLite index; dcmtk's storescu (TCP_NODELAY=1) as the sender.
 *
 * 1. Latency: phantom head CTs with a 5 mL bleed at 5 mm (30 slices) and 0.625 mm (240 slices), sent
 *    with storescu, ready on the association's release: ready -> 'analysis-finished' and last instance
 *    -> 'analysis-finished', with where the worker's time went (read files, build volume, analyzer).
 * 2. Throughput: storescu 200 instances of another series into an idle node, then into a node whose
 *    worker analyses a backlog of 0.625 mm head CTs for the whole transfer; instances/s and the ratio.
 *    Fresh node and storage per measurement; rounds alternate which condition goes first; medians.
 *
 * Goals (issue 4): ingest under analysis >= 80 % of idle; alert < 1 s after the last instance (p95).
 * Run: `npm run bench:ingest-analysis [-- --rounds 3 --runs 5 --nice idle,10,0 --backlog 4]`
 * (`idle`: the worker thread in SCHED_IDLE at nice 10; a number: that nice value alone).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG } from '../src/config/schema.js';
import { parseInstanceHeader } from '../src/dicom/header.js';
import { readFileMeta } from '../src/dicom/part10.js';
import { writeSyntheticCtSeries } from '../src/dicom/synthetic/ct-series.js';
import { createDimseServer, type DimseServer } from '../src/dimse/scp.js';
import { createLogger } from '../src/observability/log.js';
import { ingestFiles, recordEvents, startPipelineNode, writeHeadSeries, type TestNode } from '../src/pipeline/int-test-support.js';
import { WORKER_NICE } from '../src/pipeline/pipeline.js';
import { runStorescu } from '../test/helpers/storescu.js';
import { formatTable, median } from './lib/table.js';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '5' },
    nice: { type: 'string', default: `idle,${WORKER_NICE},0` },
    backlog: { type: 'string', default: '4' },
    skip: { type: 'string', default: '' },
  },
});

const BLEED = [{ subtype: 'intraparenchymal' as const, volumeMl: 5, location: 'basal-ganglia' as const }];
/** Long timers: in this benchmark only the association's release makes a series ready. */
const TIMERS = { quietMs: 600_000, geometrySettleMs: 600_000 };

interface Node extends TestNode {
  server: DimseServer;
  port: number;
}

/** A worker scheduling setting: 'idle' (SCHED_IDLE, nice WORKER_NICE) or a nice value alone. */
type Setting = 'idle' | number;

async function startNode(dir: string, setting: Setting): Promise<Node> {
  const node = await startPipelineNode(dir, { config: TIMERS, workerNice: setting === 'idle' ? WORKER_NICE : setting, workerSchedIdle: setting === 'idle' });
  const server = createDimseServer({
    config: { ...DEFAULT_CONFIG.dicom, host: '127.0.0.1', port: 0, aeTitle: 'MEDGE' },
    ingest: node.ingest, db: node.index.db, events: node.events, metrics: node.metrics, log: createLogger('silent'),
  });
  const { port } = await server.start();
  const close = node.close;
  return { ...node, server, port, close: async () => (await server.stop(), await close()) };
}

/**
 * A copy of a series under new Series and SOP Instance UIDs of the same lengths (the last digits
 * changed), so that each run is a new series and no instance is a duplicate of an earlier run.
 */
async function copyWithNewUids(files: string[], outDir: string, run: number): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const tail = (uid: string) => uid.slice(0, -5) + String(run % 100_000).padStart(5, '0');
  const out: string[] = [];
  for (const [i, f] of files.entries()) {
    const buf = await readFile(f);
    const meta = readFileMeta(buf)!;
    const parsed = parseInstanceHeader(buf, meta.transferSyntaxUid, buf.length);
    if (parsed.kind !== 'ok') throw new Error(`cannot parse ${f}`);
    let text = buf.toString('latin1');
    for (const uid of [parsed.header.seriesInstanceUid!, parsed.header.sopInstanceUid!]) text = text.split(uid).join(tail(uid));
    const path = join(outDir, `${String(i).padStart(4, '0')}.dcm`);
    await writeFile(path, Buffer.from(text, 'latin1'));
    out.push(path);
  }
  return out;
}

async function send(node: Node, files: string[]): Promise<number> {
  const run = await runStorescu({ host: '127.0.0.1', port: node.port, aec: 'MEDGE', paths: files });
  if (run.code !== 0) throw new Error(`storescu exited ${run.code}: ${run.output.slice(-600)}`);
  return run.ms;
}

async function latency(work: string, runs: number): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const thickness of [5, 0.625]) {
    const series = await writeHeadSeries(join(work, `head-${thickness}`), { thickness, bleeds: BLEED });
    const node = await startNode(join(work, `latency-node-${thickness}`), WORKER_NICE);
    const samples: { readyToFinished: number; lastToFinished: number; read: number; volume: number; analyzer: number; other: number }[] = [];
    try {
      const finished = recordEvents(node.events, 'analysis-finished');
      for (let run = 0; run <= runs; run++) {
        const dir = join(work, `latency-${thickness}-${run}`);
        const files = await copyWithNewUids(series.files, dir, run + 1);
        await send(node, files);
        const [a] = await finished.waitFor((x) => x.instanceCount === files.length);
        finished.seen.length = 0;
        // The worker's timings come with the end of the job, after the result objects are built.
        while (node.pipeline.status().lastRun?.seriesInstanceUid !== a.seriesInstanceUid) await new Promise((r) => setTimeout(r, 20));
        const t = node.pipeline.status().lastRun!;
        const s = {
          readyToFinished: a.finishedAt - a.readyAt!, lastToFinished: a.finishedAt - a.lastReceivedAt, read: t.readMs, volume: t.volumeMs, analyzer: a.elapsedMs,
          other: a.finishedAt - a.readyAt! - t.readMs - t.volumeMs - a.elapsedMs,
        };
        console.log(`${thickness} mm run ${run}${run === 0 ? ' (cold worker)' : ''}: ${a.status}, ${t.slices} slices, ready->finished ${s.readyToFinished} ms ` +
          `(read ${s.read.toFixed(0)}, volume ${s.volume.toFixed(0)}, analyzer ${s.analyzer.toFixed(0)}, rest ${s.other.toFixed(0)}), last instance->finished ${s.lastToFinished} ms`);
        if (run > 0) samples.push(s);
        await rm(dir, { recursive: true, force: true });
      }
    } finally {
      await node.close();
    }
    const col = (k: keyof (typeof samples)[number]) => median(samples.map((s) => s[k]));
    const p95 = (k: keyof (typeof samples)[number]) => [...samples.map((s) => s[k])].sort((x, y) => x - y)[Math.min(samples.length - 1, Math.ceil(0.95 * samples.length) - 1)]!;
    rows.push([`${thickness} mm (${series.files.length} slices)`, col('readyToFinished'), p95('readyToFinished'), col('lastToFinished'), p95('lastToFinished'), col('read'), col('volume'), col('analyzer'), col('other')]);
  }
  console.log(`\nlatency, warm worker, ${runs} runs: medians (p95 = the worst of few runs), ms\n`);
  console.log(formatTable(['series', 'ready->finished', 'p95', 'last inst->finished', 'p95', 'read files', 'build volume', 'analyzer', 'rest (queue, transfer)'], rows));
  console.log('\ngoal (whole product): alert < 1000 ms after the last instance, p95');
}

async function throughput(work: string, rounds: number, niceValues: Setting[], backlog: number): Promise<void> {
  const target = await writeSyntheticCtSeries({ dir: join(work, 'target'), slices: 200, rows: 512, columns: 512, seed: 42, seriesDescription: 'CT ABDOMEN' });
  const head = await writeHeadSeries(join(work, 'head-backlog'), { thickness: 0.625, bleeds: BLEED });
  const backlogDirs: string[][] = [];
  for (let i = 0; i < backlog; i++) backlogDirs.push(await copyWithNewUids(head.files, join(work, `backlog-${i}`), 500 + i));
  const results: { nice: Setting; idle: number[]; busy: number[]; analysedDuring: number[] } [] = niceValues.map((nice) => ({ nice, idle: [], busy: [], analysedDuring: [] }));
  let n = 0;
  for (let round = 1; round <= rounds; round++) {
    for (const r of results) {
      const order: ('idle' | 'busy')[] = round % 2 ? ['idle', 'busy'] : ['busy', 'idle'];
      for (const condition of order) {
        const dir = join(work, `node-${n++}`);
        const node = await startNode(dir, r.nice);
        try {
          let analysed = 0;
          // The worker warms up after it starts (worker-warm-up.ts): measure after that, in both conditions.
          while (node.pipeline.status().workers.some((w) => w.warmUpMs === undefined)) await new Promise((res) => setTimeout(res, 20));
          if (condition === 'busy') {
            for (const [i, files] of backlogDirs.entries()) await ingestFiles(node.ingest, files, { protocol: 'dimse', associationId: `backlog-${i}`, callingAe: 'BENCH' });
            const started = recordEvents(node.events, 'analysis-started');
            for (let i = 0; i < backlogDirs.length; i++) node.events.emit('association-released', { associationId: `backlog-${i}`, callingAe: 'BENCH', instances: head.files.length });
            await started.waitFor();
            const finished = recordEvents(node.events, 'analysis-finished');
            const ms = await send(node, target.files);
            const busy = node.pipeline.status().workers.some((w) => w.state === 'busy');
            analysed = finished.seen.length;
            if (!busy) console.log('  warning: the backlog ran out before the transfer ended; raise --backlog');
            r.busy.push(target.files.length / (ms / 1000));
          } else {
            const ms = await send(node, target.files);
            r.idle.push(target.files.length / (ms / 1000));
          }
          if (condition === 'busy') r.analysedDuring.push(analysed);
          const last = condition === 'busy' ? r.busy.at(-1)! : r.idle.at(-1)!;
          console.log(`round ${round} nice ${r.nice} ${condition === 'idle' ? 'idle          ' : 'under analysis'} ${last.toFixed(1)} instances/s` +
            (condition === 'busy' ? `, ${analysed} analyses finished during the transfer` : '') + `, load ${loadavg()[0]!.toFixed(2)}`);
        } finally {
          await node.close();
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
  }
  console.log(`\ningest of ${target.files.length} instances (storescu, one association), medians of ${rounds} rounds; ${cpus().length} CPUs\n`);
  // Also the median of each round's own ratio: on a shared machine the load drifts between rounds more than within one.
  console.log(formatTable(['worker nice', 'idle inst/s', 'under analysis inst/s', 'ratio of medians', 'median of round ratios', 'goal', 'verdict'], results.map((r) => {
    const ratio = median(r.busy) / median(r.idle);
    const paired = median(r.busy.map((b, i) => b / r.idle[i]!));
    return [String(r.nice), median(r.idle), median(r.busy), ratio, paired, '>= 0.8', ratio >= 0.8 ? 'PASS' : 'FAIL'];
  })));
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'medge-bench-analysis-'));
  console.log(`${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  try {
    const skip = new Set(opts.skip!.split(',').filter(Boolean));
    if (!skip.has('latency')) await latency(work, Number(opts.runs));
    if (!skip.has('throughput')) await throughput(work, Number(opts.rounds), opts.nice!.split(',').map((v): Setting => (v === 'idle' ? 'idle' : Number(v))), Number(opts.backlog));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
