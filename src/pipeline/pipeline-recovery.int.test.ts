import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { WrittenSeries } from '../phantom/write-series.js';
import { createFsBlobStore } from '../store/fs-blob-store.js';
import type { Db } from '../store/index-db.js';
import { analyzerModule, ingestFiles, recordEvents, startPipelineNode, writeHeadSeries } from './int-test-support.js';

/**
 * What must survive: queued and running work across a restart, an analyzer past its time limit
 * (the worker is terminated, the others still run), a worker that dies (retried once).
 */
let work: string;
const series: WrittenSeries[] = [];
const BLEED = [{ subtype: 'subdural' as const, volumeMl: 12, location: 'convexity' as const, side: 'right' as const }];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'medge-pipeline-recovery-'));
  for (let i = 0; i < 3; i++) series.push(await writeHeadSeries(join(work, `series-${i}`), { thickness: 5, seed: 11 + i, bleeds: BLEED }));
});
after(() => rm(work, { recursive: true, force: true }));

const ctx = { protocol: 'dimse' as const, callingAe: 'CT1', associationId: null };

function stateOf(db: Db, uid: string): Record<string, unknown> {
  return db.prepare('SELECT * FROM series_state WHERE series_uid = ?').get(uid) as Record<string, unknown>;
}

test('restart: running and queued series are analysed after the restart, a receiving one becomes ready by the restart timer', async () => {
  const dir = join(work, 'node-restart');
  const [a, b, c] = series as [WrittenSeries, WrittenSeries, WrittenSeries];
  // One worker, busy with an analyzer that never ends on its own.
  const first = await startPipelineNode(dir, { config: { quietMs: 120_000, geometrySettleMs: 200, workers: 1 }, analyzerModules: [analyzerModule('slowAnalyzer')] });
  const started = recordEvents(first.events, 'analysis-started');
  const ready = recordEvents(first.events, 'series-ready');
  await ingestFiles(first.ingest, a.files, ctx);
  await started.waitFor((x) => x.seriesInstanceUid === a.seriesInstanceUid);
  await ingestFiles(first.ingest, b.files, ctx);
  await ready.waitFor((x) => x.seriesInstanceUid === b.seriesInstanceUid);
  // Two slices prove no geometry: c stays receiving (quiet timer of two minutes).
  await ingestFiles(first.ingest, c.files.slice(0, 2), ctx);
  assert.equal(stateOf(first.index.db, a.seriesInstanceUid).state, 'running');
  assert.equal(stateOf(first.index.db, b.seriesInstanceUid).state, 'queued');
  assert.equal(stateOf(first.index.db, c.seriesInstanceUid).state, 'receiving');
  await first.close();

  const second = await startPipelineNode(dir, { config: { quietMs: 500, geometrySettleMs: 200, workers: 1 }, analyzerModules: [analyzerModule('ichAnalyzer')] });
  try {
    const finished = recordEvents(second.events, 'analysis-finished');
    const [ra] = await finished.waitFor((x) => x.seriesInstanceUid === a.seriesInstanceUid);
    const [rb] = await finished.waitFor((x) => x.seriesInstanceUid === b.seriesInstanceUid);
    const [rc] = await finished.waitFor((x) => x.seriesInstanceUid === c.seriesInstanceUid);
    assert.equal(ra.status, 'positive');
    assert.equal(ra.readyTrigger, 'geometry', 'the readiness recorded before the restart');
    assert.equal(rb.status, 'positive');
    assert.equal(rc.readyTrigger, 'restart');
    assert.equal(rc.instanceCount, 2);
    assert.ok(finished.seen.findIndex(([x]) => x === ra) < finished.seen.findIndex(([x]) => x === rb), 'a was first in the queue');
  } finally {
    await second.close();
  }
});

test('time limit: a looping analyzer is stopped and recorded as failed; the other analyzer still runs on a fresh worker', async () => {
  const s = series[0]!;
  const node = await startPipelineNode(join(work, 'node-timeout'), {
    config: { quietMs: 120_000, geometrySettleMs: 200 },
    analyzerModules: [analyzerModule('loopingAnalyzer'), analyzerModule('ichAnalyzer')],
  });
  try {
    const finished = recordEvents(node.events, 'analysis-finished');
    await ingestFiles(node.ingest, s.files, ctx);
    const [loop] = await finished.waitFor((x) => x.analyzerId === 'test-loop');
    assert.equal(loop.status, 'failed');
    assert.match(loop.reason ?? '', /^MEDGE_ERR_PIPELINE_TIMEOUT: analyzer test-loop ran past its time limit of 300 ms and was stopped after \d+ ms$/);
    assert.ok(loop.elapsedMs >= 300);
    const [ich] = await finished.waitFor((x) => x.analyzerId === 'ich');
    assert.equal(ich.status, 'positive');
    assert.equal(node.pipeline.status().workers[0]!.restarts, 1);
    assert.equal(finished.seen.length, 2, 'the looping analyzer is not run again');
  } finally {
    await node.close();
  }
});

test('a worker that dies: the series is retried once, then recorded as failed with MEDGE_ERR_PIPELINE_WORKER', async () => {
  const s = series[1]!;
  const node = await startPipelineNode(join(work, 'node-crash'), { config: { quietMs: 120_000, geometrySettleMs: 200 }, analyzerModules: [analyzerModule('crashingAnalyzer')] });
  try {
    const started = recordEvents(node.events, 'analysis-started');
    const finished = recordEvents(node.events, 'analysis-finished');
    await ingestFiles(node.ingest, s.files, ctx);
    const [a] = await finished.waitFor();
    assert.equal(a.status, 'failed');
    assert.match(a.reason ?? '', /^MEDGE_ERR_PIPELINE_WORKER: /);
    assert.equal(started.seen.length, 2, 'one retry');
    assert.equal(stateOf(node.index.db, s.seriesInstanceUid).attempts, 2);
  } finally {
    await node.close();
  }
});

test('power cut: a series whose files are on disk but whose index commits were lost is indexed again at start and analysed; an analysed one is not', async () => {
  const dir = join(work, 'node-lost-index');
  const s = series[2]!;
  // The files were fsync'd and renamed; the index (synchronous=NORMAL WAL) lost every commit of the series.
  const store = createFsBlobStore(join(dir, 'store'));
  for (const f of s.files) {
    const w = await store.begin();
    await w.write(await readFile(f));
    await w.commit(`${s.studyInstanceUid}/${s.seriesInstanceUid}/${basename(f)}`);
  }
  const timers = { quietMs: 300, geometrySettleMs: 200, workers: 1 };
  const node = await startPipelineNode(dir, { recover: true, config: timers, analyzerModules: [analyzerModule('ichAnalyzer')] });
  try {
    const finished = recordEvents(node.events, 'analysis-finished');
    const [a] = await finished.waitFor((x) => x.seriesInstanceUid === s.seriesInstanceUid);
    assert.equal(a.status, 'positive');
    assert.equal(a.readyTrigger, 'restart');
    assert.equal(a.instanceCount, s.files.length);
    for (let i = 0; i < 200 && stateOf(node.index.db, s.seriesInstanceUid).state !== 'done'; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(stateOf(node.index.db, s.seriesInstanceUid).state, 'done', 'the job ends after its results are stored');
    // One row lost again: recovery indexes it, but the series was analysed: no second analysis.
    node.index.deleteInstance(node.index.instancesOfSeries(s.seriesInstanceUid)[0]!);
  } finally {
    await node.close();
  }
  const again = await startPipelineNode(dir, { recover: true, config: timers, analyzerModules: [analyzerModule('ichAnalyzer')] });
  try {
    const ready = recordEvents(again.events, 'series-ready');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(again.index.instancesOfSeries(s.seriesInstanceUid).length, s.files.length, 'the lost row is indexed again');
    assert.equal(ready.seen.length, 0, 'an analysed series is not made ready again by recovery');
    assert.equal(again.pipeline.status().tracking, 0);
  } finally {
    await again.close();
  }
});

test('a lost index: series re-indexed at start that were received days ago are not analysed (no alerts about old studies ahead of new ones)', async () => {
  const dir = join(work, 'node-old-index-lost');
  const s = series[1]!;
  const store = createFsBlobStore(join(dir, 'store'));
  const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
  for (const f of s.files) {
    const w = await store.begin();
    await w.write(await readFile(f));
    const key = `${s.studyInstanceUid}/${s.seriesInstanceUid}/${basename(f)}`;
    await w.commit(key);
    await utimes(store.localPath!(key), tenDaysAgo, tenDaysAgo);
  }
  const node = await startPipelineNode(dir, { recover: true, config: { quietMs: 300, geometrySettleMs: 200, workers: 1 }, analyzerModules: [analyzerModule('ichAnalyzer')] });
  try {
    const ready = recordEvents(node.events, 'series-ready');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(node.index.instancesOfSeries(s.seriesInstanceUid).length, s.files.length, 'indexed again');
    assert.equal(ready.seen.length, 0, 'not made ready for analysis');
    assert.equal(stateOf(node.index.db, s.seriesInstanceUid), undefined);
    assert.equal(node.pipeline.status().tracking, 0);
  } finally {
    await node.close();
  }
});
