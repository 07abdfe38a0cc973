import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiskForecast } from './disk-forecast.js';
import { createLogger } from '../observability/log.js';

const GB = 1e9;
const HOUR = 3_600_000;

function setup(free: number, warnHours = 48) {
  const state = { now: 0, free, logged: [] as string[] };
  const log = createLogger('silent');
  const warn = log.warn.bind(log);
  log.warn = ((obj: { event: string }, msg?: string) => {
    state.logged.push(obj.event);
    return warn(obj, msg);
  }) as typeof log.warn;
  const forecast = new DiskForecast({ freeBytes: () => state.free, minFreeBytes: 1 * GB, warnHours, log, now: () => state.now });
  const after = (ms: number, shrink: number) => {
    state.now += ms;
    state.free -= shrink;
    forecast.sample();
  };
  return { forecast, state, after };
}

test('disk forecast: unknown for the first hour, then the pace projected to the floor', () => {
  const { forecast, after } = setup(101 * GB);
  assert.deepEqual(forecast.outlook(), { shrinkBytesPerHour: null, hoursToFloor: null, warning: null });
  after(30 * 60_000, 0.5 * GB);
  assert.equal(forecast.outlook().hoursToFloor, null, 'half an hour is no trend');
  after(30 * 60_000, 0.5 * GB);
  // 1 GB an hour, 99 GB above the floor.
  assert.deepEqual(forecast.outlook(), { shrinkBytesPerHour: 1 * GB, hoursToFloor: 99, warning: null });
});

test('disk forecast: a warning that names the key when the floor is nearer than warnHours, logged once until it clears', () => {
  const { forecast, state, after } = setup(21 * GB, 48);
  for (let i = 0; i < 12; i++) after(5 * 60_000, (1 / 12) * GB);
  const o = forecast.outlook();
  assert.equal(o.hoursToFloor, 19);
  assert.match(o.warning ?? '', /reaches store\.minFreeBytes in 19\.0 h/);
  assert.deepEqual(state.logged, ['disk-filling']);
  after(5 * 60_000, 0);
  assert.equal(state.logged.length, 1, 'not logged again within hours');
  // Space freed: the trend turns and the warning clears.
  after(5 * 60_000, -30 * GB);
  assert.deepEqual(forecast.outlook(), { shrinkBytesPerHour: 0, hoursToFloor: null, warning: null });
});

test('disk forecast: the trend covers the last day only; warnHours 0 never warns', () => {
  const { forecast, after } = setup(500 * GB, 0);
  for (let i = 0; i < 24; i++) after(HOUR, 10 * GB);
  for (let i = 0; i < 24; i++) after(HOUR, 1 * GB);
  const o = forecast.outlook();
  assert.ok(o.shrinkBytesPerHour! <= 1.5 * GB, `the busy day before is forgotten: ${o.shrinkBytesPerHour}`);
  assert.equal(o.warning, null);
});
