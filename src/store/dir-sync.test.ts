import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DirSyncer, type DirFd } from './dir-sync.js';

/** A directory handle whose fsyncs finish only when the test says so. */
function manualHandle() {
  const calls: Array<() => void> = [];
  let closed = 0;
  let now = 0;
  const handle: DirFd = {
    sync: () => new Promise<void>((resolve) => calls.push(resolve)),
    syncNow: () => {
      now++;
    },
    close: () => {
      closed++;
    },
  };
  return { handle, calls, closed: () => closed, now: () => now };
}

const tick = () => new Promise((r) => setImmediate(r));

test('directory fsync, group commit: callers during a running fsync share the next one', async () => {
  const h = manualHandle();
  const dirs = new DirSyncer(() => h.handle);
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
  const failing: DirFd = {
    sync: async () => Promise.reject(new Error('EIO')),
    syncNow: () => {
      throw new Error('EIO');
    },
    close: () => undefined,
  };
  const dirs = new DirSyncer(() => {
    opened++;
    return failing;
  });
  await assert.rejects(dirs.sync('/d'), /EIO/);
  await assert.rejects(dirs.sync('/d', true), /EIO/);
  assert.equal(opened, 2, 'a failed handle is not cached');
});

test('directory fsync on the calling thread for a lone writer, unless one is running in the pool', async () => {
  const h = manualHandle();
  const dirs = new DirSyncer(() => h.handle);
  await dirs.sync('/d', true);
  assert.equal(h.now(), 1);
  assert.equal(h.calls.length, 0);
  const pooled = dirs.sync('/d');
  await tick();
  const joined = dirs.sync('/d', true);
  assert.equal(h.now(), 1, 'a running fsync may not cover the rename: wait for the next, shared');
  h.calls[0]!();
  await pooled;
  await tick();
  h.calls[1]!();
  await joined;
});

test('directory handles: the least recently used beyond 16 are closed once idle', async () => {
  const handles: ReturnType<typeof manualHandle>[] = [];
  const dirs = new DirSyncer(() => {
    const h = manualHandle();
    handles.push(h);
    return h.handle;
  });
  for (let i = 0; i < 17; i++) await dirs.sync(`/d${i}`, true);
  assert.equal(handles[0]!.closed(), 1);
  assert.equal(handles[1]!.closed(), 0);
});
