import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MedgeError } from '../errors.js';
import { memoryDestination, uplinkHarness } from './test-support.js';
import type { PreparedInstance } from './uplink-sender.js';

const network = () => new MedgeError('MEDGE_ERR_UPLINK_NETWORK', 'memory: connection refused [ECONNREFUSED]; retried later', { retryable: true });

/** Lets the forwarder claim, prepare and start what it can while requests are held at the gate. */
async function ticks(n = 40): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

function holdRequests(m: { gate: Promise<void> | null; store(batch: PreparedInstance[]): Promise<unknown> }) {
  let release!: () => void;
  m.gate = new Promise<void>((r) => (release = r));
  const batches: string[][] = [];
  const store = m.store.bind(m);
  m.store = (batch) => {
    batches.push(batch.map((b) => b.item.ref));
    return store(batch);
  };
  return { batches, release: () => ((m.gate = null), release()) };
}

test('concurrency: up to `concurrency` requests in flight at once, each item claimed by one of them and confirmed once', async () => {
  const h = await uplinkHarness([{ ...memoryDestination('a'), concurrency: 3 }]);
  const m = h.memory.get('a')!;
  m.maxBatch = 2;
  h.uplink.due.reconcile();
  const all = [];
  for (let i = 0; i < 4; i++) all.push(...(await h.results(3)).results.map((r) => r.sopInstanceUid));
  const held = holdRequests(m);
  await h.uplink.start();
  await ticks();
  assert.equal(held.batches.length, 3, 'three requests in flight, no fourth');
  assert.equal(h.uplink.status().destinations[0]!.inFlight, 6);
  const inFlight = held.batches.flat();
  assert.equal(new Set(inFlight).size, 6, 'no item in two requests');
  held.release();
  await h.settle();
  assert.deepEqual([...m.received.keys()].sort(), [...all].sort());
  assert.ok([...m.received.values()].every((n) => n === 1), 'each confirmed once');
  assert.ok(h.items('a').every((i) => i.state === 'done' && i.attempts === 1));
  assert.equal(h.uplink.status().destinations[0]!.inFlight, 0);
  await h.uplink.stop();
});

test('concurrency keeps priority: critical items start first and routine ones wait until no critical batch is in flight', async () => {
  const h = await uplinkHarness([{ ...memoryDestination('a'), concurrency: 4 }]);
  const m = h.memory.get('a')!;
  m.maxBatch = 2;
  h.uplink.due.reconcile();
  const routine = [...(await h.results(3)).results, ...(await h.results(3)).results].map((r) => r.sopInstanceUid);
  h.clock.advance(1000);
  const critical = await h.results(3);
  h.criticalAlert(critical.study, critical.results[0]!.seriesInstanceUid);
  const held = holdRequests(m);
  await h.uplink.start();
  await ticks();
  const criticalUids = critical.results.map((r) => r.sopInstanceUid);
  assert.deepEqual(held.batches.flat().sort(), [...criticalUids].sort(), 'only the critical items are in flight');
  assert.equal(held.batches.length, 2, 'two critical requests (2 + 1 items) side by side');
  held.release();
  await h.settle();
  assert.deepEqual(m.order.slice(0, 3).sort(), [...criticalUids].sort());
  assert.deepEqual(m.order.slice(3).sort(), [...routine].sort());
  assert.ok(held.batches.slice(2).flat().every((ref) => routine.includes(ref)));
  await h.uplink.stop();
});

test('concurrency and the breaker: the first failed requests open it, then one probe at a time; back up, everything goes once', async () => {
  const h = await uplinkHarness([{ ...memoryDestination('a'), concurrency: 3 }]);
  const m = h.memory.get('a')!;
  m.maxBatch = 2;
  m.down = network();
  h.uplink.due.reconcile();
  for (let i = 0; i < 4; i++) await h.results(3);
  await h.uplink.start();
  await h.settle();
  assert.equal(h.uplink.status().destinations[0]!.link, 'down');
  assert.equal(m.requests, 3, 'three requests failed side by side (breakerFailures 3), then none');
  const attempts = () => h.items('a').reduce((n, i) => n + i.attempts, 0);
  assert.equal(attempts(), 6);
  // Cool-down 5 s, doubled by each failed probe: probes at 5 s and 15 s, one item each (an item
  // tried before is first looked for at the destination, which fails as the link is down).
  await h.advance(20_000);
  assert.equal(attempts(), 8);
  assert.equal(m.existsCalls, 2);
  assert.equal(m.requests, 3);
  assert.equal(h.items('a').filter((i) => i.state === 'pending').length, 12, 'nothing lost, nothing parked');
  m.down = null;
  await h.advance(40_000);
  assert.equal(h.uplink.status().destinations[0]!.link, 'up');
  assert.equal(m.received.size, 12);
  assert.ok([...m.received.values()].every((n) => n === 1));
  await h.uplink.stop();
});
