import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WriteBehind } from './write-behind.js';

test('write-behind: writes at their positions whatever order they finish in, and waits when over its limit', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-write-behind-'));
  const path = join(dir, 'f');
  const fd = openSync(path, 'w+');
  try {
    const behind = new WriteBehind(fd, 250_000);
    let position = 0;
    for (let i = 0; i < 20; i++) {
      const chunk = Buffer.alloc(100_000, i);
      await behind.write([chunk.subarray(0, 1), chunk.subarray(1)], position, chunk.length);
      position += chunk.length;
    }
    await behind.drain();
    assert.equal(behind.idle, true);
    const bytes = readFileSync(path);
    assert.equal(bytes.length, 2_000_000);
    for (let i = 0; i < 20; i++) assert.equal(bytes[i * 100_000 + 99_999], i);
  } finally {
    closeSync(fd);
    await rm(dir, { recursive: true, force: true });
  }
});

test('write-behind: a failed write is reported by the next write or by drain, never lost', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-write-behind-'));
  const path = join(dir, 'f');
  writeFileSync(path, '');
  const readOnly = openSync(path, 'r');
  try {
    const behind = new WriteBehind(readOnly);
    await behind.write([Buffer.alloc(10)], 0, 10); // accepted: it fails in the thread pool
    await assert.rejects(behind.drain(), (err: NodeJS.ErrnoException) => err.code === 'EBADF');
    assert.equal(behind.idle, false);
    await assert.rejects(behind.write([Buffer.alloc(10)], 10, 10), (err: NodeJS.ErrnoException) => err.code === 'EBADF');
  } finally {
    closeSync(readOnly);
    await rm(dir, { recursive: true, force: true });
  }
});

test('write-behind: callers draining at once each wait for every write (commit and a read-back do)', async () => {
  // Writes held back until released, in an order other than they were started.
  const pending: Array<() => void> = [];
  const behind = new WriteBehind(-1, 100_000_000, () => new Promise<void>((resolve) => pending.push(resolve)));
  for (let i = 0; i < 3; i++) await behind.write([Buffer.alloc(10)], i * 10, 10);
  const drained = [false, false];
  const drains = drained.map(async (_, k) => {
    await behind.drain();
    drained[k] = true;
  });
  const settle = () => new Promise((r) => setImmediate(r));
  pending[2]!();
  pending[0]!();
  await settle();
  assert.deepEqual(drained, [false, false], 'a drain returned while a write was in flight');
  pending[1]!();
  await Promise.all(drains);
  assert.deepEqual(drained, [true, true]);
  assert.equal(behind.idle, true);
});
