import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir, readdir, readFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MARK_MARGIN_MS, recoverStore, type Recovery } from './recover.js';
import { createIngest } from './ingest.js';
import { createFsBlobStore } from '../store/fs-blob-store.js';
import { InstanceIndex, openIndexDb } from '../store/index-db.js';
import { StoreMarks } from '../store/store-marks.js';
import { NodeEvents } from '../events/node-events.js';
import { MetricsRegistry } from '../observability/metrics.js';
import { createLogger } from '../observability/log.js';
import { writePart10 } from '../dicom/dataset-writer.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';

function file(sop: string, series = '1.2.3.4'): Buffer {
  return writePart10(
    { mediaStorageSopClassUid: CT, mediaStorageSopInstanceUid: sop, transferSyntaxUid: '1.2.840.10008.1.2.1' },
    [
      { tag: 0x00080016, vr: 'UI', value: CT },
      { tag: 0x00080018, vr: 'UI', value: sop },
      { tag: 0x0020000d, vr: 'UI', value: '1.2.3' },
      { tag: 0x0020000e, vr: 'UI', value: series },
    ],
  );
}

test('start-up recovery re-indexes lost files, removes leftovers and dangling rows, sets unreadable files aside', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-recover-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = createFsBlobStore(dir);
  const log = createLogger('silent');
  const index = new InstanceIndex(openIndexDb(join(dir, 'index.sqlite')));
  const ingest = createIngest({ store, index, events: new NodeEvents(), metrics: new MetricsRegistry(), log, minFreeBytes: 0 });
  await ingest.storePart10(file('1.2.3.4.1'), { protocol: 'stow' });
  await ingest.storePart10(file('1.2.3.4.2'), { protocol: 'stow' });

  // A file committed but never indexed (crash between rename and index commit).
  const lost = await store.begin();
  await lost.write(file('1.2.3.4.3'));
  await lost.commit('x/y/1.2.3.4.3-lost.dcm');
  // The same under a key that does not end in its SOP Instance UID (stores written by other code).
  const plain = await store.begin();
  await plain.write(file('1.2.3.4.4'));
  await plain.commit('x/y/plain.dcm');
  // An older version of an indexed instance, left by a crash during a replace.
  const stale = await store.begin();
  await stale.write(file('1.2.3.4.1'));
  await stale.commit('x/y/1.2.3.4.1-stale.dcm');
  // A file that is no instance at all (a disk error, or put there by hand): kept aside, not deleted.
  const junk = await store.begin();
  await junk.write(Buffer.from('not DICOM at all'));
  await junk.commit('x/y/1.2.3.4.9-junk.dcm');
  // A half-written temporary file.
  await mkdir(join(dir, 'tmp'), { recursive: true });
  await writeFile(join(dir, 'tmp', 'crash.part'), Buffer.alloc(100));
  // An index row whose file vanished (should never happen; must be visible if it does).
  await store.delete(index.getInstance('1.2.3.4.2')!.blobKey);

  const marks = new StoreMarks(index.db);
  assert.equal(marks.read(), undefined, 'a store from before marks has none');
  const report = await recoverStore(store, index, log, { marks });
  assert.deepEqual(counts(report), {
    scope: 'all', temporaryRemoved: 1, reindexed: 2, orphansRemoved: 1, quarantined: 1, danglingRowsRemoved: 1, filesChecked: 5, rowsChecked: 4,
    reindexedSeries: [{ studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4' }],
  });
  assert.equal(index.getInstance('1.2.3.4.3')!.blobKey, 'x/y/1.2.3.4.3-lost.dcm');
  assert.equal(index.getInstance('1.2.3.4.4')!.blobKey, 'x/y/plain.dcm');
  assert.equal(index.getInstance('1.2.3.4.2'), undefined);
  assert.notEqual(index.getInstance('1.2.3.4.1')!.blobKey, 'x/y/1.2.3.4.1-stale.dcm');
  assert.deepEqual(await readdir(join(dir, 'tmp')), []);
  assert.equal((await readFile(join(dir, 'quarantine', 'x_y_1.2.3.4.9-junk.dcm'))).toString(), 'not DICOM at all');
  assert.equal(marks.read()!.cleanStop, false, 'a running node is not marked clean');
  assert.deepEqual(counts(await recoverStore(store, index, log, { marks, checkAll: true })), {
    scope: 'all', temporaryRemoved: 0, reindexed: 0, orphansRemoved: 0, quarantined: 0, danglingRowsRemoved: 0, filesChecked: 3, rowsChecked: 3, reindexedSeries: [],
  });
  // Regression: the first version took the key's name for the SOP Instance UID and removed such a
  // file as superseded when the name did not match.
  assert.equal(index.getInstance('1.2.3.4.4')!.blobKey, 'x/y/plain.dcm', 'an indexed file under any key stays');
});

test('after a clean stop nothing is checked; after a crash only the directories changed since the mark (minus the margin); checkAll checks all', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-recover-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = createFsBlobStore(dir);
  const log = createLogger('silent');
  const index = new InstanceIndex(openIndexDb(join(dir, 'index.sqlite')));
  t.after(() => index.close());
  const marks = new StoreMarks(index.db);
  const ingest = createIngest({ store, index, events: new NodeEvents(), metrics: new MetricsRegistry(), log, minFreeBytes: 0 });
  for (const [sop, series] of [['1.2.3.4.1', '1.2.3.4'], ['1.2.3.5.1', '1.2.3.5']] as const) await ingest.storePart10(file(sop, series), { protocol: 'stow' });
  // Two index commits lost with the power: one in a series written long before the mark, one after it.
  const keyOf = (sop: string) => index.getInstance(sop)!.blobKey;
  const [oldKey, newKey] = [keyOf('1.2.3.4.1'), keyOf('1.2.3.5.1')];
  index.deleteInstance('1.2.3.4.1');
  index.deleteInstance('1.2.3.5.1');
  const now = Date.now();
  const oldSeriesDir = join(dir, 'instances', oldKey.slice(0, oldKey.lastIndexOf('/')));
  const hourAgo = new Date(now - 3_600_000);
  await utimes(oldSeriesDir, hourAgo, hourAgo);

  marks.write({ cleanStop: true, consistentBefore: now - 60_000 });
  assert.deepEqual(counts(await recoverStore(store, index, log, { marks })), {
    scope: 'none', temporaryRemoved: 0, reindexed: 0, orphansRemoved: 0, quarantined: 0, danglingRowsRemoved: 0, filesChecked: 0, rowsChecked: 0, reindexedSeries: [],
  });
  assert.equal(index.getInstance('1.2.3.5.1'), undefined, 'a clean stop vouches for the store: nothing is listed');

  // A crash: the mark is a minute old; the directory changed an hour ago is older than mark minus margin.
  assert.ok(MARK_MARGIN_MS < 3_600_000 - 60_000);
  marks.write({ cleanStop: false, consistentBefore: now - 60_000 });
  const changed = await recoverStore(store, index, log, { marks });
  assert.deepEqual(counts(changed), {
    scope: 'changed', temporaryRemoved: 0, reindexed: 1, orphansRemoved: 0, quarantined: 0, danglingRowsRemoved: 0, filesChecked: 1, rowsChecked: 1,
    reindexedSeries: [{ studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.5' }],
  });
  assert.equal(keyOf('1.2.3.5.1'), newKey);
  assert.equal(index.getInstance('1.2.3.4.1'), undefined, 'the unchanged directory was not listed');
  assert.ok(marks.read()!.consistentBefore >= now, 'the check ends with a new mark');

  const all = await recoverStore(store, index, log, { marks, checkAll: true });
  assert.equal(all.scope, 'all');
  assert.equal(all.reindexed, 1);
  assert.equal(keyOf('1.2.3.4.1'), oldKey);
});

/** The report without its timing. */
/** The report without its time, and its series without when they were received (files written just now: checked here). */
function counts(r: Recovery): Omit<Recovery, 'ms' | 'reindexedSeries'> & { reindexedSeries: { studyInstanceUid: string; seriesInstanceUid: string }[] } {
  const { ms, reindexedSeries, ...rest } = r;
  assert.ok(ms >= 0);
  for (const s of reindexedSeries) assert.ok(Math.abs(Date.now() - s.lastReceivedAt) < 60_000, 'received when its file was written');
  return { ...rest, reindexedSeries: reindexedSeries.map(({ studyInstanceUid, seriesInstanceUid }) => ({ studyInstanceUid, seriesInstanceUid })) };
}
