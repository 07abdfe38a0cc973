import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MedgeError } from '../errors.js';
import { memoryDestination, uplinkHarness } from './test-support.js';

const network = () => new MedgeError('MEDGE_ERR_UPLINK_NETWORK', 'memory: connection refused [ECONNREFUSED]; retried later', { retryable: true });

test('results become due once per destination, are sent once and confirmed; a replayed event and a restart reconcile add nothing', async () => {
  const h = await uplinkHarness([memoryDestination('a'), memoryDestination('b', { what: 'results+alerts' })]);
  await h.uplink.start();
  const r = await h.results(3);
  await h.settle();
  for (const id of ['a', 'b']) {
    const items = h.items(id);
    assert.deepEqual(items.map((i) => [i.ref, i.state, i.attempts]), r.results.map((x) => [x.sopInstanceUid, 'done', 1]));
    assert.ok(items.every((i) => i.doneAt !== null && i.doneAt >= i.createdAt));
    assert.deepEqual([...h.memory.get(id)!.received.values()], [1, 1, 1]);
  }
  h.events.emit('results-stored', { analysisId: r.analysisId, studyInstanceUid: r.study, results: r.results });
  assert.equal(h.uplink.due.reconcile(), 0);
  await h.settle();
  assert.equal(h.items('a').length, 3);
  assert.deepEqual([...h.memory.get('a')!.received.values()], [1, 1, 1], 'nothing confirmed is sent again');
  const status = h.uplink.status();
  assert.deepEqual(status.destinations.map((d) => [d.id, d.link, d.queue.pending, d.queue.confirmed]), [['a', 'up', 0, 3], ['b', 'up', 0, 3]]);
  assert.ok(status.destinations[0]!.bytesOut.total > 0 && status.destinations[0]!.bytesOut.byKind.sr! > 0);
  await h.uplink.stop();
});

test('items of a study with an unacknowledged critical alert go first, then by age; the alert notice before its results', async () => {
  const h = await uplinkHarness([memoryDestination('a', { what: 'results+alerts' })]);
  h.uplink.due.reconcile(); // the destination is configured from now on; results of the past are not sent to it
  const routine = await h.results(3);
  h.clock.advance(1000);
  const critical = await h.results(3);
  h.criticalAlert(critical.study, critical.results[0]!.seriesInstanceUid);
  await h.uplink.start();
  await h.settle();
  const m = h.memory.get('a')!;
  assert.deepEqual(m.order.slice(0, 3), critical.results.map((x) => x.sopInstanceUid), 'the critical study first');
  assert.deepEqual(m.order.slice(3), routine.results.map((x) => x.sopInstanceUid));
  assert.equal(m.alerts.length, 1);
  const doc = JSON.parse(m.alerts[0]!.body.toString('utf8')) as Record<string, unknown>;
  assert.equal(doc.change, 'raised');
  assert.equal(doc.severity, 'critical');
  assert.equal(doc.studyInstanceUid, critical.study);
  const first = h.items('a').find((i) => i.id === h.confirmed[0]!.id)!;
  assert.ok(first.ref.startsWith('alert:'), 'the alert notice was the first item confirmed');
  await h.uplink.stop();
});

test('the link is down: attempts stop at the breaker (link down with the reason), nothing is lost; back up, everything goes once', async () => {
  const h = await uplinkHarness([memoryDestination('a')]);
  const m = h.memory.get('a')!;
  m.down = network();
  await h.uplink.start();
  for (let i = 0; i < 4; i++) await h.results(3);
  await h.advance(20_000);
  const down = h.uplink.status().destinations[0]!;
  assert.equal(down.link, 'down');
  assert.match(down.reason!, /connection refused/);
  assert.equal(down.queue.pending, 12);
  const requestsWhileDown = m.requests;
  await h.advance(20_000);
  assert.ok(m.requests - requestsWhileDown <= 3, `probes only while down (${m.requests - requestsWhileDown} requests in 20 s)`);
  m.down = null;
  await h.advance(60_000, 1000);
  const up = h.uplink.status().destinations[0]!;
  assert.equal(up.link, 'up');
  assert.deepEqual([up.queue.pending, up.queue.confirmed], [0, 12]);
  assert.ok([...m.received.values()].every((n) => n === 1), 'each instance arrived once');
  await h.uplink.stop();
});

test('an answer lost after the destination stored the batch: the resend is replaced by a check, and nothing arrives twice', async () => {
  const h = await uplinkHarness([memoryDestination('a')]);
  const m = h.memory.get('a')!;
  m.loseAnswers = 1;
  await h.uplink.start();
  await h.results(3);
  await h.advance(10_000);
  assert.deepEqual(h.items('a').map((i) => i.state), ['done', 'done', 'done']);
  assert.equal(m.existsCalls, 3);
  assert.deepEqual([...m.received.values()], [1, 1, 1]);
  assert.deepEqual(h.confirmed.map((c) => c.how), ['already-there', 'already-there', 'already-there']);
  await h.uplink.stop();
});

test('an instance the destination refuses is parked with its reason, shown, not retried; retry puts it back', async () => {
  const h = await uplinkHarness([memoryDestination('a')]);
  const m = h.memory.get('a')!;
  await h.uplink.start();
  const r = await h.results(1);
  m.refuse.set(r.results[0]!.sopClassUid, 'SOP class not supported by the destination (0122)');
  const r2 = await h.results(1);
  await h.advance(30_000);
  assert.deepEqual(h.items('a').map((i) => i.state), ['parked', 'parked']);
  const s = h.uplink.status().destinations[0]!;
  assert.equal(s.queue.parked, 2);
  assert.match(s.parkedItems[0]!.reason!, /SOP class not supported/);
  assert.equal(s.parkedItems[0]!.attempts, 1, 'not retried');
  m.refuse.clear();
  h.uplink.retry(s.parkedItems[0]!.id);
  await h.settle();
  assert.deepEqual(h.items('a').map((i) => i.state), ['done', 'parked']);
  assert.equal(h.uplink.retryAll().items, 1);
  await h.settle();
  assert.ok(m.stored.has(r2.results[0]!.sopInstanceUid));
  assert.throws(() => h.uplink.retry(999), /no parked or waiting uplink item 999/);
  await h.uplink.stop();
});

test('wrong credentials: the link is down with the reason at once, items stay pending (nothing parked, nothing lost)', async () => {
  const h = await uplinkHarness([memoryDestination('a')]);
  const m = h.memory.get('a')!;
  m.down = new MedgeError('MEDGE_ERR_UPLINK_AUTH', 'http://memory.invalid/dicom-web refused the credentials or got none: HTTP 401; check the user and password or the token', { retryable: false });
  await h.uplink.start();
  await h.results(2);
  await h.settle();
  const s = h.uplink.status().destinations[0]!;
  assert.equal(s.link, 'down');
  assert.match(s.reason!, /refused the credentials.*UPLINK_AUTH/);
  assert.deepEqual([s.queue.pending, s.queue.parked], [2, 0]);
  assert.equal(m.requests, 1, 'one attempt, then the breaker holds');
  m.down = null;
  h.uplink.retryAll('a');
  await h.settle();
  assert.equal(h.uplink.status().destinations[0]!.queue.confirmed, 2);
  await h.uplink.stop();
});

test('deidentified: no sentinel in what is sent, replaced UIDs, the mapping kept to re-identify', async () => {
  const h = await uplinkHarness([memoryDestination('a', { what: 'full-study', privacy: 'deidentified' }), memoryDestination('b', { what: 'full-study' })]);
  await h.uplink.start();
  const s = await h.study(2);
  await h.settle();
  const sentA = [...h.memory.get('a')!.stored.values()];
  assert.equal(sentA.length, 2);
  for (const p of sentA) {
    const text = (p.part10 as Buffer).toString('latin1');
    for (const sentinel of s.sentinels) assert.ok(!text.includes(sentinel), `${sentinel} left the node`);
    assert.notEqual(p.sent.sop, p.payload.sop);
    assert.notEqual(p.sent.study, s.studyUid);
    const back = h.db.prepare(`SELECT original FROM deid_map WHERE kind = 'uid' AND deidentified = ?`).pluck().get(p.sent.sop);
    assert.equal(back, p.payload.sop);
  }
  const sentB = [...h.memory.get('b')!.stored.values()];
  assert.deepEqual(sentB.map((p) => p.sent.sop).sort(), [...s.sopInstanceUids].sort(), 'identified: the UIDs as received');
  await h.uplink.stop();
});

test('full-study: every received instance once, the local results not twice; reconcile finds instances received while it was not listening', async () => {
  const h = await uplinkHarness([memoryDestination('a', { what: 'full-study' })]);
  const before = await h.study(2); // received before the uplink started: found by reconcile
  await h.uplink.start();
  const after = await h.study(2);
  const r = await h.results(3);
  await h.settle();
  const refs = h.items('a').map((i) => i.ref).sort();
  assert.deepEqual(refs, [...before.sopInstanceUids, ...after.sopInstanceUids, ...r.results.map((x) => x.sopInstanceUid)].sort());
  assert.ok(h.items('a').every((i) => i.state === 'done'));
  const status = h.uplink.status();
  assert.ok(status.bytesInTotal > 0 && status.bytesIn.dimse === status.bytesInTotal);
  await h.uplink.stop();
});

test('outside its daily window a destination sends only critical studies; the rest when the window opens', async () => {
  const start = new Date(2026, 0, 5, 12, 0, 0).getTime();
  const { createManualClock } = await import('../pipeline/clock.js');
  const clock = createManualClock(start);
  const h = await uplinkHarness([memoryDestination('a', { when: 'window', window: '20:00-06:00' })], { clock });
  await h.uplink.start();
  const routine = await h.results(1);
  const critical = await h.results(1);
  h.criticalAlert(critical.study, critical.series);
  await h.settle();
  const m = h.memory.get('a')!;
  assert.deepEqual(m.order, [critical.results[0]!.sopInstanceUid]);
  const s = h.uplink.status().destinations[0]!;
  assert.equal(s.window?.open, false);
  assert.equal(s.window?.nextOpenAt, new Date(2026, 0, 5, 20, 0, 0).toISOString());
  clock.advance(8 * 3600_000 - 1000);
  await h.settle();
  assert.equal(m.order.length, 1);
  await h.advance(2000);
  assert.deepEqual(m.order, [critical.results[0]!.sopInstanceUid, routine.results[0]!.sopInstanceUid]);
  await h.uplink.stop();
});

test('a restart with items claimed in flight (a kill): claims released, checked at the destination, sent once', async () => {
  const h = await uplinkHarness([memoryDestination('a')]);
  const m = h.memory.get('a')!;
  let release!: () => void;
  m.gate = new Promise((r) => (release = r));
  await h.uplink.start();
  await h.results(3);
  while (m.requests === 0) await new Promise((r) => setImmediate(r));
  // The batch is in flight (claimed, attempts 1): the "process" dies here; a new uplink takes over the same index.
  assert.deepEqual(h.items('a').map((i) => i.attempts), [1, 1, 1]);
  const h2 = await uplinkHarness([memoryDestination('a')], { db: h.db, clock: h.clock, dataDir: h.dataDir, store: h.store });
  await h2.uplink.start();
  await h2.settle();
  assert.deepEqual(h2.items('a').map((i) => [i.state, i.attempts]), [['done', 2], ['done', 2], ['done', 2]]);
  assert.equal(h2.memory.get('a')!.existsCalls, 3, 'each checked before the resend');
  release();
  await h2.uplink.stop();
});
