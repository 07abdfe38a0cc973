/**
 * Test-only wiring for the pipeline's integration tests and benchmark: the real ingest, fs blob
 * store and SQLite index in a directory, the pipeline over them, and a phantom head CT with a bleed.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_CONFIG, type MedgeConfig } from '../config/schema.js';
import { NodeEvents, type NodeEventMap } from '../events/node-events.js';
import { createIngest } from '../ingest/ingest.js';
import { recoverStore } from '../ingest/recover.js';
import type { Ingest, IngestContext } from '../ingest/types.js';
import { createLogger } from '../observability/log.js';
import { MetricsRegistry } from '../observability/metrics.js';
import { renderHeadPhantom } from '../phantom/render.js';
import type { BleedSpec } from '../phantom/types.js';
import { writePhantomSeries, type WrittenSeries } from '../phantom/write-series.js';
import { createFsBlobStore } from '../store/fs-blob-store.js';
import { InstanceIndex, openIndexDb } from '../store/index-db.js';
import { StoreMarks } from '../store/store-marks.js';
import { createPipeline, type Pipeline, type PipelineDeps } from './pipeline.js';
import type { AnalyzerModule } from './worker-protocol.js';

export interface TestNode {
  dir: string;
  index: InstanceIndex;
  ingest: Ingest;
  events: NodeEvents;
  metrics: MetricsRegistry;
  pipeline: Pipeline;
  deps: PipelineDeps;
  /** Stops the pipeline and closes the index (the directory stays, for a restart). */
  close(): Promise<void>;
}

export interface TestNodeOptions {
  config?: Partial<MedgeConfig['pipeline']>;
  analyzerModules?: AnalyzerModule[];
  workerNice?: number;
  workerSchedIdle?: boolean;
  /** Run the store's start-up recovery first, as the node does, and hand its series to the pipeline. */
  recover?: boolean;
}

/** The node's parts over `dir` (created or reopened), pipeline started. */
export async function startPipelineNode(dir: string, o: TestNodeOptions = {}): Promise<TestNode> {
  await mkdir(join(dir, 'store'), { recursive: true });
  const events = new NodeEvents();
  const metrics = new MetricsRegistry();
  const log = createLogger(process.env.MEDGE_TEST_LOG ?? 'silent');
  const index = new InstanceIndex(openIndexDb(join(dir, 'index.sqlite')));
  const store = createFsBlobStore(join(dir, 'store'));
  const ingest = createIngest({ store, index, events, metrics, log, minFreeBytes: 0 });
  const recovered = o.recover ? (await recoverStore(store, index, log, { marks: new StoreMarks(index.db) })).reindexedSeries : undefined;
  const deps: PipelineDeps = {
    db: index.db, index, store, ingest, events, log, metrics,
    recoveredSeries: recovered,
    config: { ...DEFAULT_CONFIG.pipeline, ...o.config },
    analyzerModules: o.analyzerModules,
    workerNice: o.workerNice,
    workerSchedIdle: o.workerSchedIdle,
  };
  const pipeline = createPipeline(deps);
  await pipeline.start();
  return {
    dir, index, ingest, events, metrics, pipeline, deps,
    async close() {
      await pipeline.stop();
      index.close();
    },
  };
}

/** Module of a test analyzer (test-analyzers.ts) or the shipped ICH analyzer, for `analyzerModules`. */
export function analyzerModule(name: 'loopingAnalyzer' | 'slowAnalyzer' | 'crashingAnalyzer' | 'ichAnalyzer'): AnalyzerModule {
  const file = name === 'ichAnalyzer' ? '../analyzers/ich/index.js' : './test-analyzers.js';
  return { url: new URL(file, import.meta.url).href, exportName: name };
}

/** Writes a phantom head CT (512 x 512) with the given bleeds; `thickness` mm between slices. */
export async function writeHeadSeries(dir: string, o: { thickness: number; bleeds?: BleedSpec[]; seed?: number; seriesDescription?: string }): Promise<WrittenSeries> {
  const { volume, truth } = renderHeadPhantom({ sliceThickness: o.thickness, seed: o.seed ?? 7, bleeds: o.bleeds ?? [] });
  return writePhantomSeries(volume, truth, { dir, seriesDescription: o.seriesDescription });
}

/** Stores files through the one ingest path as if they came on one association. */
export async function ingestFiles(ingest: Ingest, files: string[], ctx: IngestContext): Promise<void> {
  for (const f of files) await ingest.storePart10(await readFile(f), ctx);
}

/** Every `name` event from now on, and a wait for one that passes a test (events in one tick are all kept). */
export function recordEvents<K extends keyof NodeEventMap>(events: NodeEvents, name: K) {
  const seen: NodeEventMap[K][] = [];
  let wake: (() => void) | undefined;
  const listener = (...args: NodeEventMap[K]) => {
    seen.push(args);
    wake?.();
  };
  events.on(name, listener as never);
  return {
    seen,
    /** Resolves with the first recorded event (from `from` on) that passes `accept`; rejects after `timeoutMs`. */
    async waitFor(accept: (...args: NodeEventMap[K]) => boolean = () => true, timeoutMs = 60_000, from = 0): Promise<NodeEventMap[K]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = seen.slice(from).find((args) => accept(...args));
        if (hit) return hit;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching '${String(name)}' event within ${timeoutMs} ms (saw ${seen.length})`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
      }
    },
    stop: () => events.off(name, listener as never),
  };
}
