import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { FailureLog } from './basic-auth.js';

test('refused requests are logged once a minute per address and user, with the count refused since', () => {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
  let now = 0;
  const failures = new FailureLog(log, () => now);
  for (let i = 0; i < 30; i++, now += 1000) failures.note('10.0.0.9', 'router', 'POST');
  failures.note('10.0.0.8', null, 'GET');
  now += 60_000;
  failures.note('10.0.0.9', 'router', 'POST');
  assert.deepEqual(lines.map((l) => [l.event, l.remote, l.user, l.refusedSinceLastLog]), [
    ['http-auth-failed', '10.0.0.9', 'router', 0],
    ['http-auth-failed', '10.0.0.8', null, 0],
    ['http-auth-failed', '10.0.0.9', 'router', 29],
  ]);
});
