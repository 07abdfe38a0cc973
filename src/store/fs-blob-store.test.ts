import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createFsBlobStore } from './fs-blob-store.js';

test('fs blob store: 40 blobs committed side by side into one directory are all there, whole', async () => {
  const root = await mkdtemp(join(tmpdir(), 'medge-blob-'));
  try {
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
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('fs blob store: a writer that waits inline alone, then two at once, commit the same way', async () => {
  const root = await mkdtemp(join(tmpdir(), 'medge-blob-'));
  try {
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
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
