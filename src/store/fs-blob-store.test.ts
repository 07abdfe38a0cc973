import assert from 'node:assert/strict';
import { existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isMedgeError } from '../errors.js';
import { createFsBlobStore } from './fs-blob-store.js';
import { FsBlobWriter } from './fs-blob-writer.js';

/** A fresh directory, removed when the test ends. */
async function tempRoot(t: TestContext): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'medge-blob-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return root;
}

test('fs blob store: 40 blobs committed side by side into one directory are all there, whole', async (t) => {
  const root = await tempRoot(t);
  const store = createFsBlobStore(root);
  const keys = Array.from({ length: 40 }, (_, i) => `aa/bb/${i}.dcm`);
  await Promise.all(
    keys.map(async (key, i) => {
      const w = await store.begin();
      await w.write(Buffer.alloc(10_000 + i, i));
      await w.commit(key);
    }),
  );
  for (const [i, key] of keys.entries()) {
    const bytes = await readFile(store.localPath!(key));
    assert.equal(bytes.length, 10_000 + i);
    assert.equal(bytes[bytes.length - 1], i);
  }
  assert.deepEqual(await readdir(join(root, 'tmp')), [], 'no temporary file left');
});

test('fs blob store: list with changedSince skips directories not changed since, one stat each, and still descends into old parents', async (t) => {
  const root = await tempRoot(t);
  const store = createFsBlobStore(root);
  const keys = ['s1/a/1-x.dcm', 's1/a/2-x.dcm', 's1/b/3-x.dcm', 's2/c/4-x.dcm'];
  for (const key of keys) {
    const w = await store.begin();
    await w.write(Buffer.from(key));
    await w.commit(key);
  }
  const hourAgo = new Date(Date.now() - 3_600_000);
  // s1/a and both study directories unchanged for an hour; s1/b and s2/c changed now.
  for (const d of ['s1/a', 's1', 's2']) await utimes(join(root, 'instances', d), hourAgo, hourAgo);
  const list = async (changedSince?: number) => {
    const out: string[] = [];
    for await (const k of store.list(changedSince === undefined ? undefined : { changedSince })) out.push(k);
    return out.sort();
  };
  assert.deepEqual(await list(), keys);
  assert.deepEqual(await list(Date.now() - 60_000), ['s1/b/3-x.dcm', 's2/c/4-x.dcm']);
  assert.deepEqual(await list(Date.now() + 60_000), []);
});

test('fs blob store: a writer that waits inline alone, then two at once, commit the same way', async (t) => {
  const root = await tempRoot(t);
  const store = createFsBlobStore(root);
  const commitOne = async (key: string, fill: number) => {
    const w = await store.begin({ waitingTransfer: `dimse:${key}` });
    await w.writev([Buffer.alloc(3000, fill), Buffer.alloc(5000, fill)]);
    w.startSync?.();
    await w.commit(key);
  };
  await commitOne('a/1.dcm', 1);
  await Promise.all([commitOne('a/2.dcm', 2), commitOne('a/3.dcm', 3)]);
  const aborted = await store.begin({ waitingTransfer: 'dimse:x' });
  await aborted.write(Buffer.alloc(100));
  aborted.startSync?.();
  await aborted.abort();
  for (const n of [1, 2, 3]) assert.deepEqual(await readFile(store.localPath!(`a/${n}.dcm`)), Buffer.alloc(8000, n));
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});

test('fs blob store: owned chunks written behind the caller land in order, read back mid-way, and an aborted writer leaves nothing', async (t) => {
  const root = await tempRoot(t);
  const store = createFsBlobStore(root);
  // 3 MB in 100 KB chunks: more than a writer keeps in flight, so some writes wait.
  const chunks = Array.from({ length: 30 }, (_, i) => Buffer.alloc(100_000, i));
  const w = await store.begin({ ownedChunks: true });
  for (const [i, c] of chunks.entries()) {
    if (i % 2) await w.write(c);
    else await w.writev([c.subarray(0, 40_000), c.subarray(40_000)]);
    if (i === 14) assert.deepEqual(await w.readRange(1_399_990, 20), Buffer.concat([Buffer.alloc(10, 13), Buffer.alloc(10, 14)]));
  }
  assert.equal(w.bytesWritten, 3_000_000);
  w.startSync?.();
  await w.commit('o/1.dcm');
  assert.deepEqual(await readFile(store.localPath!('o/1.dcm')), Buffer.concat(chunks));

  const aborted = await store.begin({ ownedChunks: true });
  for (const c of chunks.slice(0, 12)) await aborted.write(c);
  await aborted.abort();
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});

test('fs blob writer: a write that fails behind the caller fails the commit and leaves no temporary file', async (t) => {
  const root = await tempRoot(t);
  const tmpPath = join(root, 'x.part');
  await writeFile(tmpPath, '');
  let published = false;
  // A read-only descriptor: every write fails with EBADF in the thread pool.
  const w = new FsBlobWriter(openSync(tmpPath, 'r'), tmpPath, {
    publish: async () => {
      published = true;
    },
    inline: () => false,
    finished: () => undefined,
    waitedInline: () => undefined,
  }, true);
  await w.write(Buffer.alloc(1000, 1));
  await assert.rejects(w.commit('k.dcm'), (err: unknown) => isMedgeError(err, 'MEDGE_ERR_STORE_IO'));
  assert.equal(published, false);
  assert.equal(existsSync(tmpPath), false);
});

test('fs blob store: removeAll deletes the files, removes the directories left empty and keeps the others; a later writer makes them again', async (t) => {
  const root = await tempRoot(t);
  const store = createFsBlobStore(root);
  const put = async (key: string) => {
    const w = await store.begin();
    await w.write(Buffer.from(key));
    await w.commit(key);
  };
  for (const key of ['st1/se1/1.dcm', 'st1/se1/2.dcm', 'st1/se2/3.dcm', 'st2/se3/4.dcm']) await put(key);
  await store.removeAll(['st1/se1/1.dcm', 'st1/se1/2.dcm', 'st1/se2/3.dcm', 'st1/se2/absent.dcm']);
  const blobs = join(root, 'instances');
  assert.deepEqual(await readdir(blobs), ['st2'], 'the study directory went with its series');
  // Half of a series: the directory stays with the other file.
  await put('st2/se3/5.dcm');
  await store.removeAll(['st2/se3/4.dcm']);
  assert.deepEqual(await readdir(join(blobs, 'st2', 'se3')), ['5.dcm']);
  // The store made st1/se1 before; it must make it again instead of renaming into nothing.
  await put('st1/se1/6.dcm');
  assert.equal((await readFile(join(blobs, 'st1', 'se1', '6.dcm'))).toString(), 'st1/se1/6.dcm');
  // A directory removed behind the store's back (another process): the commit makes it again.
  await rm(join(blobs, 'st2'), { recursive: true });
  await put('st2/se3/7.dcm');
  assert.equal(existsSync(join(blobs, 'st2', 'se3', '7.dcm')), true);
});
