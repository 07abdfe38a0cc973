import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openIndexDb } from '../store/index-db.js';
import { Outbox } from './outbox.js';

const T0 = 1_700_000_000_000;

function box(random = () => 0) {
  const db = openIndexDb(':memory:');
  return { db, outbox: new Outbox(db, { retryInitialMs: 1000, retryMaxMs: 8000, random }) };
}

test('enqueue is idempotent per (kind, destination, ref)', () => {
  const { outbox } = box();
  const a = outbox.enqueue({ kind: 'uplink', destination: 'cloud', ref: '1.2.3', payload: '{"n":1}' }, T0);
  const b = outbox.enqueue({ kind: 'uplink', destination: 'cloud', ref: '1.2.3', payload: '{"n":2}' }, T0 + 5);
  assert.equal(a.created, true);
  assert.equal(b.created, false);
  assert.equal(b.id, a.id);
  assert.equal(outbox.get(a.id)!.payload, '{"n":1}', 'the first stays');
  assert.equal(outbox.enqueue({ kind: 'alert-delivery', destination: 'cloud', ref: '1.2.3', payload: '{}' }, T0).created, true, 'another kind is another item');
});

test('claim takes the highest priority, then the oldest, only when due, and holds it while in flight', () => {
  const { outbox } = box();
  outbox.enqueue({ kind: 'uplink', destination: 'cloud', ref: 'old-routine', payload: '{}' }, T0);
  outbox.enqueue({ kind: 'uplink', destination: 'cloud', ref: 'new-critical', payload: '{}', priority: 2 }, T0 + 10);
  outbox.enqueue({ kind: 'uplink', destination: 'cloud', ref: 'later', payload: '{}', priority: 9, dueAt: T0 + 60_000 }, T0);
  outbox.enqueue({ kind: 'uplink', destination: 'other', ref: 'elsewhere', payload: '{}', priority: 9 }, T0);
  const first = outbox.claim('uplink', 'cloud', T0 + 20, 5000)!;
  assert.equal(first.ref, 'new-critical');
  assert.equal(first.attempts, 1);
  assert.equal(outbox.claim('uplink', 'cloud', T0 + 20, 5000)!.ref, 'old-routine', 'the claimed one is not handed out twice');
  assert.equal(outbox.claim('uplink', 'cloud', T0 + 20, 5000), null, 'nothing else due');
  assert.equal(outbox.nextDueAt('uplink', 'cloud'), T0 + 5020, 'the claims run out first');
  assert.equal(outbox.releaseClaims('uplink', 'cloud'), 2);
  assert.equal(outbox.claim('uplink', 'cloud', T0 + 20, 5000)!.ref, 'new-critical', 'released after a restart');
});

test('reschedule backs off exponentially with full jitter between retryInitialMs and retryMaxMs', () => {
  for (const [random, expected] of [[() => 0, [1000, 1000, 1000, 1000, 1000]], [() => 0.999999, [1000, 2000, 4000, 8000, 8000]]] as const) {
    const { outbox } = box(random);
    const { id } = outbox.enqueue({ kind: 'uplink', destination: 'cloud', ref: 'x', payload: '{}' }, T0);
    const delays: number[] = [];
    let now = T0;
    for (let i = 0; i < 5; i++) {
      const item = outbox.claim('uplink', 'cloud', now, 100)!;
      assert.equal(item.attempts, i + 1);
      const due = outbox.reschedule(id, `failure ${i}`, now);
      delays.push(due - now);
      now = due;
    }
    assert.deepEqual(delays, expected);
    assert.equal(outbox.get(id)!.lastError, 'failure 4');
  }
});

test('done and parked items are never claimed again; depth counts what is left per destination', () => {
  const { outbox } = box();
  const a = outbox.enqueue({ kind: 'uplink', destination: 'cloud', ref: 'a', payload: '{}' }, T0);
  const b = outbox.enqueue({ kind: 'uplink', destination: 'cloud', ref: 'b', payload: '{}' }, T0);
  outbox.enqueue({ kind: 'uplink', destination: 'cloud', ref: 'c', payload: '{}' }, T0 + 1000);
  outbox.markDone(a.id, T0 + 1);
  outbox.park(b.id, 'rejected: invalid');
  assert.deepEqual(outbox.depth(T0 + 3000), [{ kind: 'uplink', destination: 'cloud', pending: 1, parked: 1, oldestPendingMs: 2000 }]);
  assert.equal(outbox.claim('uplink', 'cloud', T0 + 3000, 100)!.ref, 'c');
  assert.equal(outbox.get(b.id)!.state, 'parked');
  assert.equal(outbox.get(a.id)!.doneAt, T0 + 1);
  assert.deepEqual(outbox.list({ state: 'parked' }).map((i) => i.ref), ['b']);
});
