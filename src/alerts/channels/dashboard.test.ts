import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeEvents } from '../../events/node-events.js';
import { createLogger } from '../../observability/log.js';
import { createManualClock } from '../clock.js';
import { DashboardHub, type SseSink } from './dashboard.js';
import type { IngestOutcome } from '../../ingest/types.js';
import type { AlertMessage } from '../types.js';

function sink(buffered = 0): SseSink & { text: string; ended: boolean } {
  const s = { text: '', ended: false, write: (c: string) => void (s.text += c), end: () => void (s.ended = true), buffered: () => buffered };
  return s;
}

/** The events of a text/event-stream body: [event, data] pairs. */
function frames(text: string): [string, unknown][] {
  return text.split('\n\n').filter((b) => /^event: /m.test(b)).map((b) => [/^event: (.*)$/m.exec(b)![1]!, JSON.parse(/^data: (.*)$/m.exec(b)![1]!)]);
}

const outcome = (study: string, sop: string): IngestOutcome => ({
  status: 'stored', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: sop, studyInstanceUid: study, seriesInstanceUid: `${study}.1`,
  transferSyntaxUid: '1.2.840.10008.1.2.1', size: 1000, receivedAt: 0,
});

test('deliver publishes the alert to every client and says how many', async () => {
  const events = new NodeEvents();
  const clock = createManualClock();
  const hub = new DashboardHub({ events, log: createLogger('silent'), clock });
  hub.start();
  const a = sink();
  const b = sink();
  hub.connect(a);
  const offB = hub.connect(b);
  assert.match(a.text, /^retry: 3000\n: connected /);
  const receipt = await hub.deliver({ alertId: 'x', revision: 1 } as AlertMessage, new AbortController().signal);
  assert.deepEqual(receipt, { deliveredAt: clock.now(), detail: '2 clients' });
  assert.deepEqual(frames(a.text), [['alert', { alertId: 'x', revision: 1 }]]);
  offB();
  assert.equal((await hub.deliver({ alertId: 'y' } as AlertMessage, new AbortController().signal)).detail, '1 client');
  assert.equal(frames(b.text).length, 1);
  hub.stop();
  assert.equal(a.ended, true, 'stop ends the streams');
  assert.equal(hub.clientCount(), 0);
});

test('node events are forwarded; instance arrivals at most once per study per second; heartbeats; slow clients dropped', () => {
  const events = new NodeEvents();
  const clock = createManualClock();
  const hub = new DashboardHub({ events, log: createLogger('silent'), clock, heartbeatMs: 15_000 });
  hub.start();
  const s = sink();
  hub.connect(s);
  events.emit('series-ready', { studyInstanceUid: 'S', seriesInstanceUid: 'S.1', trigger: 'association-released', readyAt: 1, instances: 3 });
  events.emit('alert-changed', { alertId: 'x', studyInstanceUid: 'S', change: 'acknowledged' });
  for (let i = 0; i < 5; i++) events.emit('instance-stored', outcome('S', `S.1.${i}`), { protocol: 'dimse' });
  events.emit('instance-stored', outcome('S', 'S.9'), { protocol: 'local' });
  events.emit('instance-stored', outcome('T', 'T.1.1'), { protocol: 'stow' });
  clock.advance(1000);
  const got = frames(s.text).map(([e, d]) => [e, e === 'instances-received' ? (d as { instances: number }).instances : (d as { studyInstanceUid: string }).studyInstanceUid]);
  assert.deepEqual(got, [
    ['series-ready', 'S'], ['alert-changed', 'S'], ['instances-received', 1], ['instances-received', 1], ['instances-received', 4],
  ]);
  clock.advance(15_000);
  assert.match(s.text, /: heartbeat\n\n$/);
  const slow = sink(2 * 1024 * 1024);
  hub.connect(slow);
  hub.publish('ping', {});
  assert.equal(slow.ended, true);
  assert.equal(hub.clientCount(), 1);
  hub.stop();
  events.emit('series-ready', { studyInstanceUid: 'S', seriesInstanceUid: 'S.1', trigger: 'quiet-timer', readyAt: 1, instances: 3 });
  assert.equal(events.listenerCount('series-ready'), 0, 'stop unsubscribes');
});
