import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IngestContext, IngestOutcome } from '../ingest/types.js';
import { createManualClock } from './clock.js';
import { createSeriesTracker, transferKey } from './series-tracker.js';
import type { SeriesReady } from './types.js';

const QUIET = 5000;
const SETTLE = 1000;
const GRACE = 250;
const AXIAL = '1\\0\\0\\0\\1\\0';

/** A tracker on a manual clock over an in-memory list of what "the index" holds. */
function setup() {
  const clock = createManualClock();
  const indexed = new Map<string, { sopInstanceUid: string; imagePosition: string | null; imageOrientation: string | null; receivedAt: number }[]>();
  const ready: (SeriesReady & { lastReceivedAt: number })[] = [];
  const receiving: string[] = [];
  const tracker = createSeriesTracker({
    clock,
    quietMs: QUIET,
    geometrySettleMs: SETTLE,
    requestGraceMs: GRACE,
    known: (series) => indexed.get(series) ?? [],
    onReceiving: (t) => receiving.push(t.seriesInstanceUid),
    onReady: (r) => ready.push(r),
  });
  let n = 0;
  /** Stores one instance as ingest would (indexed first, then the event). */
  function store(
    series: string,
    o: { z?: number | null; expected?: number; assoc?: string; protocol?: IngestContext['protocol']; sop?: string; status?: IngestOutcome['status'] } = {},
  ): void {
    const sop = o.sop ?? `${series}.${++n}`;
    const position = o.z === null || o.z === undefined ? null : `-100\\-100\\${o.z}`;
    const list = indexed.get(series) ?? [];
    const i = list.findIndex((x) => x.sopInstanceUid === sop);
    const row = { sopInstanceUid: sop, imagePosition: position, imageOrientation: position ? AXIAL : null, receivedAt: clock.now() };
    if (i >= 0) list[i] = row;
    else list.push(row);
    indexed.set(series, list);
    const outcome: IngestOutcome = {
      status: o.status ?? 'stored', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: sop, studyInstanceUid: 'study', seriesInstanceUid: series,
      transferSyntaxUid: '1.2.840.10008.1.2.1', size: 1000, receivedAt: clock.now(),
      signals: { modality: 'CT', studyDescription: null, seriesDescription: null, protocolName: null, imagePosition: position, imageOrientation: row.imageOrientation, expectedInstances: o.expected ?? null },
    };
    tracker.instance(outcome, { protocol: o.protocol ?? 'dimse', associationId: o.assoc ?? null, callingAe: 'CT1' });
  }
  return { clock, tracker, ready, receiving, store };
}

test('expected count: ready when the last expected instance arrives, without waiting', () => {
  const { tracker, ready, store, clock } = setup();
  for (let i = 0; i < 3; i++) store('s1', { expected: 3, z: null });
  assert.equal(ready.length, 1);
  assert.equal(ready[0]!.trigger, 'expected-count');
  assert.equal(ready[0]!.instances, 3);
  assert.equal(tracker.size(), 0);
  assert.equal(clock.pending(), 0);
});

test('association release: ready at once; the same series on another open association waits for it', () => {
  const { tracker, ready, store } = setup();
  for (let i = 0; i < 4; i++) store('s1', { assoc: 'a1', z: null });
  for (let i = 0; i < 4; i++) store('s1', { assoc: 'a2', z: null });
  tracker.released(transferKey('dimse', 'a1'), 'association-released');
  assert.equal(ready.length, 0, 'a2 still open');
  tracker.released(transferKey('dimse', 'a2'), 'association-released');
  assert.equal(ready.length, 1);
  assert.equal(ready[0]!.trigger, 'association-released');
  assert.equal(ready[0]!.instances, 8);
});

test('STOW-RS: the end of the request is the release, after a short grace for a next batch', () => {
  const { tracker, ready, store, clock } = setup();
  for (let i = 0; i < 3; i++) store('s1', { assoc: 'req-1', protocol: 'stow', z: null });
  const ended = clock.now();
  tracker.released(transferKey('dimse', 'req-1'), 'association-released');
  assert.equal(ready.length, 0, 'a DIMSE association of the same id is another transfer');
  tracker.released(transferKey('stow', 'req-1'), 'request-complete');
  assert.equal(ready.length, 0, 'the grace runs');
  clock.advance(GRACE);
  assert.equal(ready[0]?.trigger, 'request-complete');
  assert.equal(ready[0]?.readyAt, ended + GRACE);
});

test('STOW-RS: a next request within the grace joins the same track; one analysis for both', () => {
  const { tracker, ready, store, clock } = setup();
  for (let i = 0; i < 3; i++) store('s1', { assoc: 'req-1', protocol: 'stow', z: null });
  tracker.released(transferKey('stow', 'req-1'), 'request-complete');
  clock.advance(GRACE / 5);
  for (let i = 0; i < 3; i++) store('s1', { assoc: 'req-2', protocol: 'stow', z: null });
  clock.advance(GRACE);
  assert.equal(ready.length, 0, 'the grace of request 1 was cancelled by the new instances');
  tracker.released(transferKey('stow', 'req-2'), 'request-complete');
  clock.advance(GRACE);
  assert.equal(ready.length, 1);
  assert.equal(ready[0]!.instances, 6);
  assert.equal(ready[0]!.trigger, 'request-complete');
});

test('a release is overruled by an expected count not yet reached; the quiet timer still ends it', () => {
  const { tracker, ready, store, clock } = setup();
  for (let i = 0; i < 5; i++) store('s1', { assoc: 'a1', expected: 10, z: null });
  tracker.released(transferKey('dimse', 'a1'), 'association-released');
  assert.equal(ready.length, 0);
  clock.advance(QUIET - 1);
  assert.equal(ready.length, 0);
  clock.advance(1);
  assert.equal(ready[0]?.trigger, 'quiet-timer');
  assert.equal(ready[0]!.readyAt - ready[0]!.lastReceivedAt, QUIET);
});

test('an association that brought a single instance only arms the settle timer (senders with one association per instance)', () => {
  const { tracker, ready, store, clock } = setup();
  store('s1', { assoc: 'a1', z: null });
  tracker.released(transferKey('dimse', 'a1'), 'association-released');
  assert.equal(ready.length, 0);
  clock.advance(SETTLE / 2);
  store('s1', { assoc: 'a2', z: null });
  tracker.released(transferKey('dimse', 'a2'), 'association-released');
  clock.advance(SETTLE - 1);
  assert.equal(ready.length, 0);
  clock.advance(1);
  assert.equal(ready[0]?.trigger, 'association-released');
  assert.equal(ready[0]!.instances, 2);
});

test('geometry: an even run of slices is ready after the settle time; each new slice restarts it', () => {
  const { ready, store, clock } = setup();
  store('s1', { z: 0 });
  store('s1', { z: 5 });
  store('s1', { z: 10 });
  clock.advance(SETTLE - 1);
  store('s1', { z: 15 });
  clock.advance(SETTLE - 1);
  assert.equal(ready.length, 0);
  clock.advance(1);
  assert.equal(ready[0]?.trigger, 'geometry');
  assert.equal(ready[0]!.instances, 4);
});

test('geometry: a hole in the run falls back to the quiet timer until it is filled', () => {
  const { ready, store, clock } = setup();
  for (const z of [0, 5, 15, 20]) store('s1', { z });
  clock.advance(SETTLE);
  assert.equal(ready.length, 0);
  store('s1', { z: 10 });
  clock.advance(SETTLE);
  assert.equal(ready[0]?.trigger, 'geometry');
});

test('quiet timer: the fallback for instances with no other signal', () => {
  const { ready, store, clock } = setup();
  store('s1', { z: null });
  store('s1', { z: null });
  clock.advance(QUIET - 1);
  assert.equal(ready.length, 0);
  clock.advance(1);
  assert.equal(ready[0]?.trigger, 'quiet-timer');
});

test('re-send after ready: a new track, ready again; a complete count does not fire again for replaced instances', () => {
  const { ready, receiving, store, clock } = setup();
  for (let i = 1; i <= 3; i++) store('s1', { sop: `x${i}`, expected: 3, z: i * 5 });
  assert.equal(ready[0]?.trigger, 'expected-count');
  clock.advance(10_000);
  store('s1', { sop: 'x2', expected: 3, z: 10, status: 'replaced' });
  assert.equal(ready.length, 1, 'the count was reached before: not a completion signal now');
  clock.advance(SETTLE);
  assert.equal(ready.length, 2);
  assert.equal(ready[1]!.trigger, 'geometry', 'the seeded slices and the replaced one still form a run');
  assert.equal(ready[1]!.instances, 3);
  assert.deepEqual(receiving, ['s1', 's1']);
});

test('a missing instance that arrives later completes the count at once', () => {
  const { ready, store, clock } = setup();
  for (let i = 0; i < 3; i++) store('s1', { expected: 4, z: null });
  clock.advance(QUIET);
  assert.equal(ready[0]?.trigger, 'quiet-timer');
  store('s1', { expected: 4, z: null });
  assert.equal(ready[1]?.trigger, 'expected-count');
});

test('resume after a restart: ready by the quiet timer with trigger restart, seeded from the index', () => {
  const { tracker, ready, store, clock } = setup();
  store('s1', { z: null });
  store('s1', { z: null });
  tracker.stop();
  assert.equal(clock.pending(), 0);
  tracker.resume('study', 's1');
  clock.advance(QUIET);
  assert.equal(ready[0]?.trigger, 'restart');
  assert.equal(ready[0]!.instances, 2);
});

test('series are tracked apart', () => {
  const { tracker, ready, store } = setup();
  for (let i = 0; i < 2; i++) store('s1', { assoc: 'a1', z: null });
  for (let i = 0; i < 2; i++) store('s2', { assoc: 'a1', expected: 3, z: null });
  tracker.released(transferKey('dimse', 'a1'), 'association-released');
  assert.deepEqual(ready.map((r) => r.seriesInstanceUid), ['s1']);
  assert.equal(tracker.size(), 1);
});

test('STOW-RS batches: a request that continues a series already stored waits the settle time for the next batch', () => {
  const { tracker, ready, store, clock } = setup();
  for (let i = 0; i < 3; i++) store('s1', { assoc: 'req-1', protocol: 'stow', z: null });
  tracker.released(transferKey('stow', 'req-1'), 'request-complete');
  clock.advance(GRACE);
  assert.equal(ready.length, 1, 'the first request: after the grace');
  for (let i = 0; i < 3; i++) store('s1', { assoc: 'req-2', protocol: 'stow', z: null });
  tracker.released(transferKey('stow', 'req-2'), 'request-complete');
  assert.equal(ready.length, 1, 'a continuation waits');
  for (let i = 0; i < 3; i++) store('s1', { assoc: 'req-3', protocol: 'stow', z: null });
  tracker.released(transferKey('stow', 'req-3'), 'request-complete');
  clock.advance(SETTLE);
  assert.equal(ready.length, 2, 'one more analysis for both batches, not two');
  assert.equal(ready[1]!.trigger, 'request-complete');
});
