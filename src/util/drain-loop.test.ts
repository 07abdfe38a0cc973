import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock } from '../pipeline/clock.js';
import { DrainLoop, type DrainLoopOptions } from './drain-loop.js';

/** A drain that is held until released, counting how many ran and how many ran at once. */
function heldDrains() {
  const gates: (() => void)[] = [];
  const s = { started: 0, finished: 0, active: 0, maxActive: 0, hold: true };
  const drain = async (): Promise<void> => {
    s.started++;
    s.active++;
    s.maxActive = Math.max(s.maxActive, s.active);
    if (s.hold) await new Promise<void>((r) => gates.push(r));
    s.active--;
    s.finished++;
  };
  /** Releases the drain that is waiting, and lets the loop settle. */
  const release = async () => {
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { s, drain, release };
}

function loopOf(drain: () => Promise<void>, extra: Partial<DrainLoopOptions> = {}) {
  const clock = createManualClock();
  return { clock, loop: new DrainLoop({ drain, clock, ...extra }) };
}

test('drain loop: nothing runs before start; start runs one drain', async () => {
  const h = heldDrains();
  h.s.hold = false;
  const { loop } = loopOf(h.drain);
  loop.wake();
  await loop.idle();
  assert.equal(h.s.started, 0);
  loop.start();
  await loop.idle();
  assert.equal(h.s.finished, 1);
});

test('drain loop: one drain at a time, and wakes during a drain cause exactly one more drain', async () => {
  const h = heldDrains();
  const { loop } = loopOf(h.drain);
  loop.start();
  for (let i = 0; i < 5; i++) loop.wake();
  assert.equal(h.s.started, 1, 'the wakes start nothing while a drain runs');
  await h.release();
  assert.equal(h.s.started, 2, 'five wakes during the first drain: one more drain');
  await h.release();
  await loop.idle();
  assert.equal(h.s.finished, 2, 'no third drain: nothing woke the loop during the second');
  assert.equal(h.s.maxActive, 1);
});

test('drain loop: a wake the drain took in itself (consumeWake) causes no extra drain', async () => {
  let runs = 0;
  let loop!: DrainLoop;
  const drain = async () => {
    runs++;
    await Promise.resolve();
    loop.wake();
    assert.equal(loop.consumeWake(), true);
    assert.equal(loop.consumeWake(), false, 'consumeWake clears the flag');
  };
  loop = loopOf(drain).loop;
  loop.start();
  await loop.idle();
  assert.equal(runs, 1);
});

test('drain loop: idle waits for the re-run a wake caused, not only the drain running when called', async () => {
  const h = heldDrains();
  const { loop } = loopOf(h.drain);
  loop.start();
  loop.wake();
  let idle = false;
  const idled = loop.idle().then(() => (idle = true));
  await h.release();
  assert.equal(idle, false, 'the second drain is running');
  await h.release();
  await idled;
  assert.equal(h.s.finished, 2);
});

test('drain loop: stop waits for the running drain, and no drain starts after stop', async () => {
  const h = heldDrains();
  const { loop, clock } = loopOf(h.drain);
  loop.start();
  loop.wakeAt(clock.now() + 100);
  loop.wake(); // pending re-run, dropped by stop
  let stopped = false;
  const stopping = loop.stop().then(() => (stopped = true));
  assert.equal(loop.stopped, true, 'stopped synchronously, before the drain ends');
  await new Promise((r) => setImmediate(r));
  assert.equal(stopped, false, 'stop waits while the drain runs');
  await h.release();
  await stopping;
  assert.equal(h.s.finished, 1);
  loop.wake();
  assert.equal(clock.pending(), 0, 'stop dropped the timer');
  loop.wakeAt(clock.now());
  assert.equal(clock.pending(), 0, 'no timer is set after stop');
  clock.advance(1000);
  await loop.idle();
  assert.equal(h.s.started, 1, 'neither the pending wake, a new wake, nor a timer ran a drain');
});

test('drain loop: stop with a grace period gives up on a drain that does not end', async () => {
  const { loop } = loopOf(() => new Promise<void>(() => {}));
  loop.start();
  // The grace timer is unref'd (it must not hold a shutdown); this one keeps the test's event loop alive.
  const keepAlive = setInterval(() => {}, 1000);
  const t0 = Date.now();
  await loop.stop(30);
  clearInterval(keepAlive);
  assert.ok(Date.now() - t0 >= 25, 'stop waited about the grace period');
});

test('drain loop: wakeAt wakes on the clock, and a later wakeAt replaces the earlier timer', async () => {
  const h = heldDrains();
  h.s.hold = false;
  const { loop, clock } = loopOf(h.drain);
  loop.start();
  await loop.idle();
  loop.wakeAt(clock.now() + 100);
  loop.wakeAt(clock.now() + 500);
  assert.equal(clock.pending(), 1);
  assert.equal(loop.timerSet, true);
  clock.advance(499);
  await loop.idle();
  assert.equal(h.s.finished, 1);
  clock.advance(1);
  await loop.idle();
  assert.equal(h.s.finished, 2);
  assert.equal(loop.timerSet, false);
  loop.wakeAt(clock.now() + 10);
  loop.clearTimer();
  clock.advance(100);
  await loop.idle();
  assert.equal(h.s.finished, 2, 'a cleared timer does not wake');
});

test('drain loop: a failed drain goes to onError and, with retryMs, is tried again after retryMs', async () => {
  const errors: unknown[] = [];
  let runs = 0;
  const drain = async () => {
    runs++;
    if (runs === 1) throw new Error('index busy');
  };
  const { loop, clock } = loopOf(drain, { onError: (err) => errors.push(err), retryMs: 1000 });
  loop.start();
  await loop.idle();
  assert.deepEqual(errors.map((e) => (e as Error).message), ['index busy']);
  clock.advance(999);
  await loop.idle();
  assert.equal(runs, 1);
  clock.advance(1);
  await loop.idle();
  assert.equal(runs, 2);
});

test('drain loop: without onError a failed drain rejects idle', async () => {
  const { loop } = loopOf(async () => {
    throw new Error('index closed');
  });
  loop.start();
  await assert.rejects(loop.idle(), /index closed/);
});
