import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VolumeArena } from './volume-arena.js';

test('the arena hands the same memory to the next volume, with outside flags cleared', () => {
  const arena = new VolumeArena();
  const a = arena.acquire(1000);
  a.outside.fill(1);
  a.data.fill(7);
  arena.release();
  const b = arena.acquire(600);
  assert.equal(b.data.buffer, a.data.buffer, 'reused');
  assert.equal(b.data.length, 600);
  assert.ok(b.outside.every((x) => x === 0), 'outside cleared');
  arena.release();
  const c = arena.acquire(2000);
  assert.notEqual(c.data.buffer, a.data.buffer, 'grown');
  assert.equal(c.data.length, 2000);
});

test('a second volume while the arrays are out, or one too large to keep, gets fresh arrays', () => {
  const arena = new VolumeArena(1500);
  const a = arena.acquire(1000);
  const b = arena.acquire(1000);
  assert.notEqual(b.data.buffer, a.data.buffer);
  arena.release();
  const big = arena.acquire(2000);
  assert.notEqual(big.data.buffer, a.data.buffer);
  assert.equal(arena.acquire(1000).data.buffer, a.data.buffer, 'the kept arrays are still there');
});
