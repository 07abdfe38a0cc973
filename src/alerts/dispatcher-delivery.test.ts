import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AX, dispatcherHarness as setup } from './test-support.js';

test('a failed delivery is retried after the backoff and then recorded as delivered', async () => {
  const { channels, dispatcher, analyse, clock, db, metrics } = setup();
  channels[0]!.failNext(1, { reason: 'peer down' });
  dispatcher.start();
  analyse(AX, 'positive', [4]);
  await dispatcher.idle();
  const id = dispatcher.list()[0]!.id;
  let d = dispatcher.get(id)!.deliveries[0]!;
  assert.equal(d.deliveredAt, null);
  assert.equal(d.attempts, 1);
  assert.match(d.lastError!, /peer down/);
  assert.equal(d.state, 'pending');
  const item = db.prepare(`SELECT due_at AS dueAt, attempts FROM outbox`).get() as { dueAt: number; attempts: number };
  assert.equal(item.attempts, 1);
  assert.equal(item.dueAt, clock.now() + 1000, 'first retry after retryInitialMs');
  assert.equal(dispatcher.status().channels[0]!.consecutiveFailures, 1);
  clock.advance(999);
  await dispatcher.idle();
  assert.equal(channels[0]!.attempts, 1, 'not before it is due');
  clock.advance(1);
  await channels[0]!.delivered(1);
  await dispatcher.idle();
  d = dispatcher.get(id)!.deliveries[0]!;
  assert.equal(d.attempts, 2);
  assert.equal(d.lastError, null);
  assert.equal(d.deliveredAt, new Date(clock.now()).toISOString());
  assert.equal(d.state, 'done');
  assert.equal(metrics.value('medge_alert_delivery_attempts_total', { channel: 'rec0', outcome: 'retry' }), 1);
  assert.equal(metrics.value('medge_alert_delivery_attempts_total', { channel: 'rec0', outcome: 'delivered' }), 1);
  await dispatcher.stop();
});

test('a delivery the peer rejects as invalid is parked, not retried', async () => {
  const { channels, dispatcher, analyse, clock } = setup();
  channels[0]!.failNext(1, { permanent: true, reason: 'AR: message rejected' });
  dispatcher.start();
  analyse(AX, 'positive', [4]);
  await dispatcher.idle();
  clock.advance(3_600_000);
  await dispatcher.idle();
  assert.equal(channels[0]!.attempts, 1);
  const d = dispatcher.list()[0]!.deliveries[0]!;
  assert.equal(d.state, 'parked');
  assert.match(d.lastError!, /AR: message rejected/);
  assert.equal(dispatcher.status().channels[0]!.parked, 1);
  assert.equal(dispatcher.outbox.list({ state: 'parked' })[0]!.lastError, 'channel rec0: AR: message rejected');
  await dispatcher.stop();
});

test('a channel that never answers is aborted after its timeout and retried', async () => {
  const { channels, dispatcher, analyse, clock } = setup();
  const ch = channels[0]!;
  let hung = true;
  const deliver = ch.deliver.bind(ch);
  ch.deliver = (m, signal) => (hung ? ((hung = false), new Promise(() => undefined)) : deliver(m, signal));
  dispatcher.start();
  analyse(AX, 'positive', [4]);
  await new Promise((r) => setImmediate(r));
  assert.equal(dispatcher.status().channels[0]!.inFlight, true);
  clock.advance(10_000);
  await dispatcher.idle();
  assert.match(dispatcher.list()[0]!.deliveries[0]!.lastError!, /no confirmation within 10000 ms/);
  clock.advance(1000);
  await ch.delivered(1);
  await dispatcher.stop();
});

test('an unacknowledged alert escalates to the next tier after escalateAfterMs; an acknowledged one does not', async () => {
  const { channels, dispatcher, analyse, clock, changes, db } = setup({ escalateAfterMs: 60_000 }, [0, 1, 2]);
  const [t0, t1, t2] = channels as [typeof channels[0], typeof channels[0], typeof channels[0]];
  dispatcher.start();
  analyse(AX, 'positive', [4]);
  await t0.delivered(1);
  const id = dispatcher.list()[0]!.id;
  clock.advance(59_999);
  await dispatcher.idle();
  assert.equal(t1.messages.length, 0);
  clock.advance(1);
  await t1.delivered(1);
  assert.equal(t1.messages[0]!.event, 'escalated');
  assert.equal(t1.messages[0]!.revision, 1);
  assert.equal(dispatcher.get(id)!.tier, 1);
  assert.ok(changes.includes('escalated'));
  // An update now goes to every tier reached so far.
  analyse(AX, 'positive', [6]);
  await t1.delivered(2);
  assert.equal(t0.messages.at(-1)!.event, 'updated');
  assert.equal(t1.messages.at(-1)!.event, 'updated');
  assert.equal(t2.messages.length, 0);
  clock.advance(30_000);
  dispatcher.acknowledge(id, 'Dr Grey');
  clock.advance(600_000);
  await dispatcher.idle();
  assert.equal(t2.messages.length, 0, 'acknowledged: no further escalation');
  assert.equal(dispatcher.status().nextEscalationAt, null);
  const tiers = db.prepare(`SELECT channel, revision, tier FROM alert_deliveries ORDER BY revision, channel`).all();
  assert.deepEqual(tiers, [
    { channel: 'rec0', revision: 1, tier: 0 }, { channel: 'rec1', revision: 1, tier: 1 },
    { channel: 'rec0', revision: 2, tier: 0 }, { channel: 'rec1', revision: 2, tier: 1 },
  ]);
  await dispatcher.stop();
});

test('escalation is armed again from the database at start; a retracted alert does not escalate', async () => {
  const { channels, dispatcher, analyse, clock } = setup({ escalateAfterMs: 60_000 }, [0, 1]);
  dispatcher.start();
  analyse(AX, 'positive', [4]);
  await dispatcher.stop();
  clock.advance(120_000);
  dispatcher.start();
  clock.advance(0); // the escalation overdue while the node was down fires on the first timer tick
  await channels[1]!.delivered(1);
  assert.equal(channels[1]!.messages[0]!.event, 'escalated');
  analyse(AX, 'negative');
  clock.advance(600_000);
  await dispatcher.idle();
  assert.deepEqual(channels[1]!.messages.map((m) => m.event), ['escalated', 'retracted']);
  await dispatcher.stop();
});
