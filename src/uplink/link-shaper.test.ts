import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkShaper } from './link-shaper.js';

const MBIT = 1_000_000;

test('at 8 Mbit/s (1000 bytes/ms) a chunk leaves after its transmission time, and chunks queue behind each other', () => {
  const s = new LinkShaper(8 * MBIT, 0);
  assert.equal(s.schedule(10_000, 0), 10);
  // Offered at the same instant: waits for the first one.
  assert.equal(s.schedule(10_000, 0), 20);
  // Offered after the link went idle: leaves after its own time only.
  assert.equal(s.schedule(5_000, 100), 105);
});

test('an idle link saves up a burst, never more', () => {
  const s = new LinkShaper(8 * MBIT, 4_000);
  // 4000 bytes of saved tokens: the first 4000 bytes go at once.
  assert.equal(s.schedule(4_000, 1_000), 1_000);
  assert.equal(s.schedule(4_000, 1_000), 1_004);
  // Long idle: still only 4000 bytes of burst.
  assert.equal(s.schedule(14_000, 10_000), 10_010);
});

test('one shaper is shared: two senders split the rate, the total time is the sum of the bytes', () => {
  const s = new LinkShaper(50 * MBIT, 0);
  let last = 0;
  for (let i = 0; i < 100; i++) last = Math.max(s.schedule(100_000, 0), s.schedule(100_000, 0));
  // 20 MB at 50 Mbit/s = 3.2 s.
  assert.ok(Math.abs(last - 3200) < 1e-6, `last chunk leaves at ${last} ms`);
});

test('no cap passes chunks at once; setRate applies to chunks offered afterwards', () => {
  const s = new LinkShaper(undefined, 0);
  assert.equal(s.schedule(1e9, 5), 5);
  assert.equal(s.rateBitsPerSecond, undefined);
  s.setRate(8 * MBIT);
  assert.equal(s.rateBitsPerSecond, 8 * MBIT);
  assert.equal(s.schedule(1_000, 10), 11);
  assert.throws(() => s.setRate(-1), RangeError);
});
