import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { apiHarness } from './api-test-support.js';
import { AX } from '../alerts/test-support.js';

/** A raw HTTP/1.1 client on a socket: what a browser's EventSource reads, byte for byte. */
function openStream(port: number): { socket: Socket; text: () => string; waitFor: (re: RegExp) => Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  let waiters: { re: RegExp; resolve: () => void }[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
    waiters = waiters.filter((w) => (w.re.test(text) ? (w.resolve(), false) : true));
  });
  socket.write('GET /api/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n');
  return {
    socket,
    text: () => text,
    waitFor: (re) => (re.test(text) ? Promise.resolve() : new Promise((resolve) => waiters.push({ re, resolve }))),
  };
}

test('GET /api/events streams alerts and alert changes as server-sent events, and ends cleanly when the server closes', async () => {
  const { app, dispatcher, analyse, hub } = apiHarness();
  hub.start();
  dispatcher.start();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const stream = openStream(port);
  await stream.waitFor(/: connected /);
  assert.match(stream.text(), /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(stream.text(), /\r\ncontent-type: text\/event-stream; charset=utf-8\r\n/i);
  assert.match(stream.text(), /\r\ncache-control: no-cache/i);
  assert.equal(hub.clientCount(), 1);

  analyse(AX, 'positive', [12]);
  await stream.waitFor(/event: alert\ndata: .*"event":"raised"/);
  const id = dispatcher.list()[0]!.id;
  assert.match(stream.text(), new RegExp(`event: alert-changed\\ndata: \\{"alertId":"${id}","studyInstanceUid":"[0-9.]+","change":"raised"\\}`));
  const alertFrame = /event: alert\ndata: (.*)\n/.exec(stream.text())![1]!;
  assert.equal(JSON.parse(alertFrame).alertId, id);
  await dispatcher.idle();
  assert.equal(dispatcher.get(id)!.deliveries.find((d) => d.channel === 'dashboard')!.detail, '1 client');

  const ack = await fetch(`http://127.0.0.1:${port}/api/alerts/${id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: 'Dr SSE' }) });
  assert.equal(ack.status, 200);
  await stream.waitFor(/"change":"acknowledged"/);

  const ended = once(stream.socket, 'end');
  const started = performance.now();
  await app.close();
  await ended;
  assert.ok(performance.now() - started < 2000, 'close is not held up by the open stream');
  assert.match(stream.text(), /0\r\n\r\n$/, 'the chunked stream was terminated properly');
  assert.equal(hub.clientCount(), 0);
  stream.socket.destroy();
  hub.stop();
  await dispatcher.stop();
});

test('a browser that goes away is unhooked from the hub', async () => {
  const { app, hub } = apiHarness();
  hub.start();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const stream = openStream((app.server.address() as { port: number }).port);
  await stream.waitFor(/: connected /);
  assert.equal(hub.clientCount(), 1);
  stream.socket.destroy();
  while (hub.clientCount() > 0) await new Promise((r) => setImmediate(r));
  await app.close();
  hub.stop();
});
