import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createFsBlobStore, DirHandles, type SyncHandle } from './fs-blob-store.js';

/** A directory handle whose fsyncs finish only when the test says so. */
function manualHandle() {
  const calls: Array<() => void> = [];
  let closed = 0;
  const handle: SyncHandle = {
    sync: () => new Promise<void>((resolve) => calls.push(resolve)),
    close: async () => {
      closed++;
    },
  };
  return { handle, calls, closed: () => closed };
}

const tick = () => new Promise((r) => setImmediate(r));

test('directory fsync, group commit: callers during a running fsync share the next one', async () => {
  const h = manualHandle();
  const dirs = new DirHandles(async () => h.handle);
  const settled: number[] = [];
  const first = dirs.sync('/d').then(() => settled.push(1));
  await tick();
  assert.equal(h.calls.length, 1);
  // Four renames land while the first fsync runs: it may not cover them.
  const later = [2, 3, 4, 5].map((n) => dirs.sync('/d').then(() => settled.push(n)));
  await tick();
  assert.equal(h.calls.length, 1, 'no second fsync while the first runs');
  h.calls[0]!();
  await first;
  await tick();
  assert.deepEqual(settled, [1], 'the later callers wait for an fsync that started after their rename');
  assert.equal(h.calls.length, 2, 'one fsync for all four');
  h.calls[1]!();
  await Promise.all(later);
  assert.deepEqual(settled.sort(), [1, 2, 3, 4, 5]);
  // Idle again: the next caller starts its own at once.
  const next = dirs.sync('/d');
  await tick();
  assert.equal(h.calls.length, 3);
  h.calls[2]!();
  await next;
});

test('directory fsync: a failure reaches every caller that shared it, and the handle is reopened', async () => {
  let opened = 0;
  const failing: SyncHandle = { sync: async () => Promise.reject(new Error('EIO')), close: async () => undefined };
  const dirs = new DirHandles(async () => {
    opened++;
    return failing;
  });
  await assert.rejects(dirs.sync('/d'), /EIO/);
  await assert.rejects(dirs.sync('/d'), /EIO/);
  assert.equal(opened, 2, 'a failed handle is not cached');
});

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
