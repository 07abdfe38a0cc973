import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openIndexDb } from './index-db.js';
import { StoreMarks, type StoreMark } from './store-marks.js';
import { ConsistencyMarker } from './consistency-marker.js';
import { createLogger } from '../observability/log.js';

function setup(publishing: () => number | undefined) {
  const db = openIndexDb(':memory:');
  const marks = new StoreMarks(db);
  const clock = { wall: 1_000_000, mono: 0 };
  const marker = new ConsistencyMarker({ marks, publishingSince: publishing, log: createLogger('silent'), now: () => clock.wall, monotonic: () => clock.mono });
  const advance = (ms: number, step = 0) => {
    clock.mono += ms;
    clock.wall += ms + step;
  };
  return { db, marks, marker, clock, advance, read: (): StoreMark => marks.read()! };
}

test('consistency marker: a mark trails the previous one and never passes an instance between rename and index', () => {
  let publishing: number | undefined;
  const { marker, advance, read, clock } = setup(() => publishing);
  advance(30_000);
  marker.mark();
  assert.deepEqual(read(), { cleanStop: false, consistentBefore: 1_000_000 }, 'up to the previous mark (here: the start)');
  advance(30_000);
  publishing = clock.wall - 45_000;
  marker.mark();
  assert.equal(read().consistentBefore, publishing, 'an instance renamed before the previous mark holds the mark back');
  publishing = undefined;
  advance(30_000);
  marker.mark();
  assert.equal(read().consistentBefore, clock.wall - 30_000);
});

test('consistency marker: after the wall clock steps back, the mark stays before the files stamped just before the step', () => {
  const { marker, advance, read, clock } = setup(() => undefined);
  advance(30_000);
  marker.mark();
  const before = clock.wall;
  // 10 s after that mark a file is stamped `before + 10 s`; then the clock steps back one hour.
  advance(30_000, -3_600_000);
  marker.mark();
  assert.ok(read().consistentBefore <= before + 10_000, `mark ${read().consistentBefore} is not after the file stamped ${before + 10_000}`);
  assert.equal(read().consistentBefore, clock.wall - 30_000);
});

test('consistency marker: the clean-stop mark only when nothing is between rename and index', () => {
  let publishing: number | undefined = 5;
  const { marker, read, clock } = setup(() => publishing);
  marker.mark();
  assert.equal(marker.markClean(), false);
  assert.equal(read().cleanStop, false);
  publishing = undefined;
  assert.equal(marker.markClean(), true);
  assert.deepEqual(read(), { cleanStop: true, consistentBefore: clock.wall });
});

test('consistency marker: a mark that cannot be written is logged and leaves the older one', () => {
  const { db, marker, read } = setup(() => undefined);
  marker.mark();
  const older = read();
  db.exec('DROP TABLE store_marks');
  assert.doesNotThrow(() => marker.mark());
  assert.equal(marker.markClean(), false);
  db.exec('CREATE TABLE store_marks (id INTEGER PRIMARY KEY, clean_stop INTEGER, consistent_before INTEGER, written_at INTEGER)');
  assert.equal(new StoreMarks(db).read(), undefined, 'nothing was written in its place');
  assert.ok(older.consistentBefore > 0);
});
