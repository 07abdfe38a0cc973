import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recoverStore } from './recover.js';
import { createIngest } from './ingest.js';
import { createFsBlobStore } from '../store/fs-blob-store.js';
import { InstanceIndex, openIndexDb } from '../store/index-db.js';
import { NodeEvents } from '../events/node-events.js';
import { MetricsRegistry } from '../observability/metrics.js';
import { createLogger } from '../observability/log.js';
import { writePart10 } from '../dicom/dataset-writer.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';

function file(sop: string): Buffer {
  return writePart10(
    { mediaStorageSopClassUid: CT, mediaStorageSopInstanceUid: sop, transferSyntaxUid: '1.2.840.10008.1.2.1' },
    [
      { tag: 0x00080016, vr: 'UI', value: CT },
      { tag: 0x00080018, vr: 'UI', value: sop },
      { tag: 0x0020000d, vr: 'UI', value: '1.2.3' },
      { tag: 0x0020000e, vr: 'UI', value: '1.2.3.4' },
    ],
  );
}

test('start-up recovery re-indexes lost files, removes leftovers and dangling rows', async (t) => {
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
  // An older version of an indexed instance, left by a crash during a replace.
  const stale = await store.begin();
  await stale.write(file('1.2.3.4.1'));
  await stale.commit('x/y/1.2.3.4.1-stale.dcm');
  // A half-written temporary file.
  await mkdir(join(dir, 'tmp'), { recursive: true });
  await writeFile(join(dir, 'tmp', 'crash.part'), Buffer.alloc(100));
  // An index row whose file vanished (should never happen; must be visible if it does).
  await store.delete(index.getInstance('1.2.3.4.2')!.blobKey);

  const report = await recoverStore(store, index, log);
  assert.deepEqual(report, {
    temporaryRemoved: 1, reindexed: 1, orphansRemoved: 1, danglingRowsRemoved: 1,
    reindexedSeries: [{ studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4' }],
  });
  assert.equal(index.getInstance('1.2.3.4.3')!.blobKey, 'x/y/1.2.3.4.3-lost.dcm');
  assert.equal(index.getInstance('1.2.3.4.2'), undefined);
  assert.notEqual(index.getInstance('1.2.3.4.1')!.blobKey, 'x/y/1.2.3.4.1-stale.dcm');
  assert.deepEqual(await readdir(join(dir, 'tmp')), []);
  assert.deepEqual(await recoverStore(store, index, log), { temporaryRemoved: 0, reindexed: 0, orphansRemoved: 0, danglingRowsRemoved: 0, reindexedSeries: [] });
});
