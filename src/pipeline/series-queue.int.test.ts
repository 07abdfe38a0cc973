import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openIndexDb, type Db } from '../store/index-db.js';
import { AnalysisStore, type NewAnalysis } from './analysis-store.js';
import { SeriesQueue } from './series-queue.js';
import type { ReadyTrigger } from './types.js';

async function withDb(fn: (db: Db, file: string) => void | Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'medge-queue-'));
  const file = join(dir, 'index.sqlite');
  const db = openIndexDb(file);
  try {
    await fn(db, file);
  } finally {
    if (db.open) db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const ready = (series: string, readyAt: number, trigger: ReadyTrigger = 'geometry') => ({ studyInstanceUid: 'st', seriesInstanceUid: series, trigger, readyAt, instances: 10 });

test('higher priority first, then the oldest ready; a claim counts the attempt', () =>
  withDb((db) => {
    const q = new SeriesQueue(db);
    q.receiving('st', 'routine-old', 0, null);
    q.receiving('st', 'routine-new', 0, null);
    q.receiving('st', 'stroke', 1, 'protocol name matches /stroke/');
    assert.equal(q.ready(ready('routine-old', 100)), 'queued');
    assert.equal(q.ready(ready('routine-new', 200)), 'queued');
    assert.equal(q.ready(ready('stroke', 300)), 'queued');
    assert.deepEqual(q.counts(), { receiving: 0, queued: 3, running: 0 });
    const first = q.claim(400)!;
    assert.equal(first.seriesInstanceUid, 'stroke');
    assert.equal(first.priorityReason, 'protocol name matches /stroke/');
    assert.equal(first.attempts, 1);
    assert.equal(q.claim(401)!.seriesInstanceUid, 'routine-old');
    assert.equal(q.claim(402)!.seriesInstanceUid, 'routine-new');
    assert.equal(q.claim(403), undefined);
  }));

test('ready again while running: the run ends queued (analysed again), not done', () =>
  withDb((db) => {
    const q = new SeriesQueue(db);
    q.receiving('st', 's', 0, null);
    q.ready(ready('s', 100));
    q.claim(110);
    q.receiving('st', 's', 0, null);
    assert.equal(q.get('s')!.state, 'running', 'new instances do not interrupt a run');
    assert.equal(q.ready(ready('s', 150, 'association-released')), 'running');
    assert.equal(q.finish('s', 200, false), 'queued');
    const again = q.claim(210)!;
    assert.equal(again.readyTrigger, 'association-released');
    assert.equal(again.attempts, 1);
    assert.equal(q.finish('s', 300, false), 'done');
    q.receiving('st', 's', 0, null);
    assert.equal(q.get('s')!.state, 'receiving');
  }));

test('a restart queues again what was queued or running and returns what was receiving', () =>
  withDb((db, file) => {
    const q = new SeriesQueue(db);
    for (const s of ['queued', 'running', 'receiving', 'done']) q.receiving('st', s, 0, null);
    q.ready(ready('running', 100));
    q.claim(110);
    q.ready(ready('queued', 120));
    q.ready(ready('done', 130));
    q.claim(140);
    q.finish('done', 150, false);
    db.close();
    const reopened = openIndexDb(file);
    try {
      const r = new SeriesQueue(reopened).recover();
      assert.equal(r.requeued, 2);
      assert.deepEqual(r.receiving, [{ studyInstanceUid: 'st', seriesInstanceUid: 'receiving' }]);
      assert.deepEqual(new SeriesQueue(reopened).counts(), { receiving: 1, queued: 2, running: 0 });
    } finally {
      reopened.close();
    }
  }));

test('an analysis supersedes the current one of its series and analyzer; a failed one supersedes nothing', () =>
  withDb((db) => {
    const store = new AnalysisStore(db);
    const a = (status: NewAnalysis['status'], analyzerId = 'ich'): NewAnalysis => ({
      studyInstanceUid: 'st', seriesInstanceUid: 's', analyzerId, analyzerVersion: '1', status, findings: [], instanceCount: 10,
      lastReceivedAt: 1, readyAt: 2, readyTrigger: 'geometry', startedAt: 3, finishedAt: 4, elapsedMs: 1, priority: 0,
    });
    const first = store.record(a('positive'));
    assert.equal(first.supersedes, undefined);
    const other = store.record(a('negative', 'other'));
    const failed = store.record(a('failed'));
    assert.equal(failed.supersedes, undefined);
    assert.equal(store.get(first.id)!.superseded_by, null, 'a failed run does not retract a finding');
    const second = store.record(a('negative'));
    assert.equal(second.supersedes, first.id);
    assert.equal(store.get(first.id)!.superseded_by, second.id);
    assert.equal(store.get(failed.id)!.superseded_by, second.id);
    assert.equal(store.get(other.id)!.superseded_by, null, 'another analyzer is not superseded');
    store.setResults(second.id, [{ kind: 'sr', sopInstanceUid: '1.2', sopClassUid: '1.2.840.10008.5.1.4.1.1.88.34', seriesInstanceUid: '1.3' }]);
    assert.match(String(store.get(second.id)!.results), /"kind":"sr"/);
  }));
