import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIngest } from '../ingest/ingest.js';
import { recoverStore } from '../ingest/recover.js';
import { NodeEvents } from '../events/node-events.js';
import { MetricsRegistry } from '../observability/metrics.js';
import { createLogger } from '../observability/log.js';
import { writePart10 } from '../dicom/dataset-writer.js';
import { isMedgeError } from '../errors.js';
import { createFsBlobStore } from './fs-blob-store.js';
import type { BlobStore } from './blob-store.js';
import { InstanceIndex, openIndexDb } from './index-db.js';
import { StudyRemover, type RemovedStudy } from './study-removal.js';
import { Retention, type RetentionConfig } from './retention.js';
import { StoreMarks } from './store-marks.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const DAY = 86_400_000;
const log = createLogger('silent');

function instance(study: string, series: string, sop: string, bytes = 1000): Buffer {
  return writePart10(
    { mediaStorageSopClassUid: CT, mediaStorageSopInstanceUid: sop, transferSyntaxUid: '1.2.840.10008.1.2.1' },
    [
      { tag: 0x00080016, vr: 'UI', value: CT },
      { tag: 0x00080018, vr: 'UI', value: sop },
      { tag: 0x00100020, vr: 'LO', value: `PAT-${study}` },
      { tag: 0x0020000d, vr: 'UI', value: study },
      { tag: 0x0020000e, vr: 'UI', value: series },
      { tag: 0x00091010, vr: 'OB', value: Buffer.alloc(bytes) },
    ],
  );
}

/** A store on disk with an index, an ingest and a remover; `store` may be wrapped. */
async function harness(t: TestContext, wrap: (s: BlobStore) => BlobStore = (s) => s) {
  const dir = await mkdtemp(join(tmpdir(), 'medge-retention-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = wrap(createFsBlobStore(dir));
  const index = new InstanceIndex(openIndexDb(join(dir, 'index.sqlite')));
  t.after(() => index.close());
  const ingest = createIngest({ store, index, events: new NodeEvents(), metrics: new MetricsRegistry(), log, minFreeBytes: 0 });
  const removed: RemovedStudy[] = [];
  const remover = new StudyRemover({ db: index.db, index, store, log, onRemoved: (r) => removed.push(r) });
  /** Stores `count` instances of `study` in one series; returns their blob keys. */
  const receive = async (study: string, count = 2, series = `${study}.1`) => {
    for (let i = 1; i <= count; i++) await ingest.storePart10(instance(study, series, `${series}.${i}`), { protocol: 'stow' });
    return index.instancesOfStudy(study).map((sop) => index.getInstance(sop)!.blobKey);
  };
  /** Makes the study look received `days` ago (ingest stamps the real time). */
  const age = (study: string, days: number) => {
    const at = Date.now() - days * DAY;
    index.db.prepare('UPDATE studies SET last_received_at = ?, first_received_at = ? WHERE study_uid = ?').run(at, at, study);
  };
  const retention = (config: Partial<RetentionConfig>, freeBytes = () => 1e12) =>
    new Retention({ db: index.db, remover, freeBytes, config: { retentionDays: 0, reclaimBelowFreeBytes: 0, retentionMinHours: 24, ...config }, log });
  return { dir, store, index, ingest, remover, removed, receive, age, retention };
}

const studies = (index: InstanceIndex) => index.db.prepare('SELECT study_uid FROM studies ORDER BY study_uid').pluck().all();

test('retention by age removes studies older than retentionDays, files and rows, and keeps a record of each', async (t) => {
  const h = await harness(t);
  const oldKeys = await h.receive('1.1');
  await h.receive('1.2');
  await h.receive('1.3');
  h.age('1.1', 40);
  h.age('1.2', 31);
  h.age('1.3', 29);
  await h.retention({ retentionDays: 30 }).run();
  assert.deepEqual(studies(h.index), ['1.3']);
  assert.deepEqual(h.removed.map((r) => [r.studyInstanceUid, r.reason, r.instances]), [['1.1', 'retention-age', 2], ['1.2', 'retention-age', 2]]);
  for (const key of oldKeys) assert.equal(existsSync(h.store.localPath!(key)), false, key);
  assert.equal(h.index.counts().instances, 2);
  assert.equal(h.index.db.prepare('SELECT count(*) FROM patients').pluck().get(), 1, 'patients left without a study go too');
  assert.equal(h.remover.lastRemoval('1.1')?.reason, 'retention-age');
  assert.equal(h.index.db.prepare('SELECT count(*) FROM removal_files').pluck().get(), 0, 'no removal left open');
  // Only the remaining study's directory is left.
  assert.equal((await readdir(join(h.dir, 'instances'))).length, 1);
});

test('a study is held while a series awaits analysis, an uplink item is unsent or parked, or an alert is unacknowledged', async (t) => {
  const h = await harness(t);
  for (const s of ['2.1', '2.2', '2.3', '2.4', '2.5']) {
    await h.receive(s);
    h.age(s, 100);
  }
  const db = h.index.db;
  db.prepare(`INSERT INTO series_state (series_uid, study_uid, state) VALUES ('2.1.1', '2.1', 'queued')`).run();
  const item = db.prepare(`INSERT INTO outbox (kind, destination, ref, payload, created_at, due_at, state) VALUES ('uplink', 'cloud', ?, ?, 0, 0, ?)`);
  item.run('2.2.1.1', JSON.stringify({ type: 'instance', kind: 'instance', study: '2.2', series: '2.2.1', sop: '2.2.1.1', sopClass: CT }), 'pending');
  item.run('2.3.1.1', JSON.stringify({ type: 'instance', kind: 'instance', study: '2.3', series: '2.3.1', sop: '2.3.1.1', sopClass: CT }), 'parked');
  db.prepare(`INSERT INTO analyses (id, series_uid, study_uid, status, instance_count, last_received_at, started_at, finished_at) VALUES (1, '2.4.1', '2.4', 'positive', 2, 0, 0, 0)`).run();
  db.prepare(`INSERT INTO alerts (id, study_uid, series_uid, analysis_id, rule, severity, summary, created_at, dispatched_at, updated_at) VALUES ('a1', '2.4', '2.4.1', 1, 'ich', 'critical', 'x', 0, 0, 0)`).run();
  // 2.5 has an uplink item already sent: nothing holds it.
  item.run('2.5.1.1', JSON.stringify({ type: 'instance', kind: 'instance', study: '2.5', series: '2.5.1', sop: '2.5.1.1', sopClass: CT }), 'done');

  const retention = h.retention({ retentionDays: 30 });
  await retention.run();
  assert.deepEqual(studies(h.index), ['2.1', '2.2', '2.3', '2.4']);
  assert.equal(retention.status().held, 4);
  await assert.rejects(h.remover.remove('2.4', 'operator', 'Dr Ray'), (err) => isMedgeError(err) && err.code === 'MEDGE_ERR_STORE_STUDY_HELD' && /1 alert\(s\) not acknowledged/.test(err.message));

  // Once released, the next run removes them; the outbox rows stay (they keep a re-sent study from going up twice).
  db.prepare(`UPDATE series_state SET state = 'done'`).run();
  db.prepare(`UPDATE outbox SET state = 'done'`).run();
  db.prepare(`UPDATE alerts SET acknowledged_at = 1, acknowledged_by = 'Dr Ray'`).run();
  await retention.run();
  assert.deepEqual(studies(h.index), []);
  assert.equal(db.prepare('SELECT count(*) FROM outbox').pluck().get(), 3);
  assert.equal(db.prepare('SELECT count(*) FROM alerts').pluck().get(), 1, 'alerts and analyses stay as the record');
});

test('retention by free space removes the oldest studies until free space is back above the mark, never one younger than retentionMinHours', async (t) => {
  const h = await harness(t);
  const sizes = new Map<string, number>();
  for (const [s, days] of [['3.1', 10], ['3.2', 5], ['3.3', 3], ['3.4', 0.5]] as const) {
    await h.receive(s, 3);
    h.age(s, days);
    sizes.set(s, h.index.db.prepare('SELECT sum(size) FROM instances WHERE series_uid = ?').pluck().get(`${s}.1`) as number);
  }
  // Free space reads as the mark less a study and a half; freed bytes are counted as removals report them.
  const mark = 1_000_000_000;
  const free = mark - Math.round(sizes.get('3.1')! * 1.5);
  const retention = h.retention({ reclaimBelowFreeBytes: mark }, () => free);
  await retention.run();
  assert.deepEqual(h.removed.map((r) => [r.studyInstanceUid, r.reason]), [['3.1', 'retention-disk'], ['3.2', 'retention-disk']]);
  assert.equal(retention.status().reclaimShort, false);

  // Far below the mark: everything old enough goes, the study of 12 hours ago stays, and the status says so.
  const starved = h.retention({ reclaimBelowFreeBytes: mark }, () => 1);
  await starved.run();
  assert.deepEqual(studies(h.index), ['3.4']);
  assert.equal(starved.status().reclaimShort, true);
});

test('a study chosen by retention that receives an instance before its turn is kept', async (t) => {
  const h = await harness(t);
  await h.receive('4.1');
  h.age('4.1', 40);
  const before = Date.now() - 30 * DAY;
  await h.receive('4.1', 3); // a third instance arrives now
  await assert.rejects(h.remover.remove('4.1', 'retention-age', null, before), /arrived since it was chosen/);
  assert.equal(h.index.counts().instances, 3);
});

test('a study received again after its removal is stored and indexed afresh (series rows written again)', async (t) => {
  const h = await harness(t);
  await h.receive('5.1', 2);
  await h.remover.remove('5.1', 'operator', 'PACS admin');
  assert.equal(h.index.counts().studies, 0);
  const keys = await h.receive('5.1', 2);
  assert.equal(h.index.counts().instances, 2);
  for (const key of keys) assert.equal(existsSync(h.store.localPath!(key)), true);
  assert.equal(h.remover.lastRemoval('5.1')?.requestedBy, 'PACS admin');
});

test('a removal interrupted after its commit is finished at the next start, before the start-up check could re-index its files', async (t) => {
  let failNext = true;
  const h = await harness(t, (s) => ({
    ...s,
    removeAll: async (keys) => {
      if (failNext) {
        failNext = false;
        throw new Error('power cut');
      }
      return s.removeAll(keys);
    },
  }));
  const keys = await h.receive('6.1', 3);
  await assert.rejects(h.remover.remove('6.1', 'operator', 'x'), /power cut/);
  assert.equal(h.index.counts().studies, 0, 'the rows went in the commit');
  for (const key of keys) assert.equal(existsSync(h.store.localPath!(key)), true, 'the files are still there');

  const next = new StudyRemover({ db: h.index.db, index: h.index, store: h.store, log });
  assert.equal(await next.resume(), 1);
  for (const key of keys) assert.equal(existsSync(h.store.localPath!(key)), false, key);
  const repair = await recoverStore(h.store, h.index, log, { marks: new StoreMarks(h.index.db), checkAll: true });
  assert.equal(repair.reindexed, 0);
  assert.equal(h.index.counts().instances, 0);
  assert.equal(await next.resume(), 0, 'nothing left open');
});

test('retention is off by default and does nothing', async (t) => {
  const h = await harness(t);
  await h.receive('7.1');
  h.age('7.1', 10_000);
  const retention = h.retention({});
  assert.equal(retention.enabled, false);
  retention.start();
  await retention.stop();
  assert.deepEqual(studies(h.index), ['7.1']);
});
