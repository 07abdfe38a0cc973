import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIndexDb } from '../store/index-db.js';
import { createManualClock } from './clock.js';
import { AX, STUDY, dispatcherHarness, recordAnalysis } from './test-support.js';

test('restart: deliveries pending in the SQLite outbox are sent after the database is closed and reopened', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-alerts-'));
  try {
    const file = join(dir, 'index.sqlite');
    const clock = createManualClock();
    const first = dispatcherHarness({}, [0], { db: openIndexDb(file), clock });
    first.channels[0]!.failNext(100, { reason: 'peer down' });
    first.dispatcher.start();
    first.analyse(AX, 'positive', [9]);
    await first.dispatcher.idle();
    const id = first.dispatcher.list()[0]!.id;
    await first.dispatcher.stop();
    first.db.close();

    clock.advance(5000);
    const second = dispatcherHarness({}, [0], { db: openIndexDb(file), clock, seed: false });
    second.dispatcher.start();
    await second.channels[0]!.delivered(1);
    await second.dispatcher.idle();
    const m = second.channels[0]!.messages[0]!;
    assert.equal(m.alertId, id);
    assert.equal(m.event, 'raised');
    const d = second.dispatcher.get(id)!.deliveries[0]!;
    assert.equal(d.state, 'done');
    assert.equal(d.attempts, 2, 'the failed attempt before the restart and the one after');
    assert.equal(second.dispatcher.list().length, 1, 'no second alert after the restart');
    await second.dispatcher.stop();
    second.db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('restart: an analysis recorded while the dispatcher was not listening raises its alert at start', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-alerts-'));
  try {
    const file = join(dir, 'index.sqlite');
    const clock = createManualClock();
    const first = dispatcherHarness({}, [0], { db: openIndexDb(file), clock });
    // The pipeline recorded it, then the node stopped before the event reached the dispatcher.
    recordAnalysis(first.db, { study: STUDY, series: AX, status: 'positive', findings: [{ type: 'intracranial-hemorrhage', subtype: 'subdural', side: 'right', region: 'parietal', volumeMl: 3, centroidMm: [0, 0, 0], sliceRange: [1, 2], confidence: 1 }], at: clock.now() });
    first.db.close();
    const second = dispatcherHarness({}, [0], { db: openIndexDb(file), clock, seed: false });
    second.dispatcher.start();
    await second.channels[0]!.delivered(1);
    assert.equal(second.channels[0]!.messages[0]!.headline, 'Intracranial hemorrhage, 3.0 mL, right parietal subdural');
    await second.dispatcher.stop();
    second.dispatcher.start();
    await second.dispatcher.idle();
    assert.equal(second.dispatcher.list().length, 1, 'applying it again at the next start changes nothing');
    assert.equal(second.channels[0]!.messages.length, 1);
    await second.dispatcher.stop();
    second.db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
