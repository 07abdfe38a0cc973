import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { isMedgeError, type MedgeError } from '../../errors.js';
import { startWebhookReceiver } from '../../../test/helpers/alert-receivers.js';
import { WebhookChannel } from './webhook.js';
import { raisedIchAlert, updatedIchAlert } from './test-support.js';

// Against a real HTTP receiver (test/helpers/alert-receivers.ts) that verifies the signature with
// its own code, as docs/alerts.md tells a receiver to.

const SECRET = 'a-long-random-test-secret-0123456789';
const live = () => new AbortController().signal;
const channel = (url: string, timeoutMs = 2000) => new WebhookChannel({ id: 'pager', tier: 1, url, secret: SECRET, timeoutMs });

async function deliveryFailure(p: Promise<unknown>): Promise<MedgeError> {
  const err = await p.then(() => assert.fail('expected the delivery to fail'), (e: unknown) => e);
  assert.ok(isMedgeError(err, 'MEDGE_ERR_ALERT_DELIVERY'), String(err));
  return err;
}

test('the signature verifies at the receiver; headers and body carry the alert', async (t) => {
  const receiver = await startWebhookReceiver({ secret: SECRET });
  t.after(() => receiver.close());
  const alert = raisedIchAlert();
  const receipt = await channel(receiver.url).deliver(alert, live());
  await receiver.received(1);
  assert.equal(receipt.detail, 'HTTP 204');
  assert.deepEqual(receiver.rejected, []);
  const [d] = receiver.deliveries;
  assert.equal(d!.headers['content-type'], 'application/json');
  assert.equal(d!.headers['x-medge-alert-id'], alert.alertId);
  assert.equal(d!.headers['x-medge-delivery'], `${alert.alertId}:1:pager`);
  assert.match(String(d!.headers['x-medge-signature']), /^sha256=[0-9a-f]{64}$/);
  assert.ok(Math.abs(Number(d!.headers['x-medge-timestamp']) - Date.now() / 1000) < 5);
  assert.equal(d!.json.event, 'alert.raised');
  assert.deepEqual(d!.json.alert, alert as unknown as Record<string, unknown>);
});

test('a tampered body, a wrong secret and a replayed old timestamp do not verify', async (t) => {
  const receiver = await startWebhookReceiver({ secret: SECRET });
  t.after(() => receiver.close());
  await channel(receiver.url).deliver(updatedIchAlert(), live());
  await receiver.received(1);
  const original = receiver.deliveries[0]!;
  const headers = {
    'content-type': 'application/json',
    'x-medge-timestamp': String(original.headers['x-medge-timestamp']),
    'x-medge-signature': String(original.headers['x-medge-signature']),
  };
  const tampered = original.body.replace('"volumeMl":9.1', '"volumeMl":0.1');
  assert.notEqual(tampered, original.body);
  assert.equal((await fetch(receiver.url, { method: 'POST', headers, body: tampered })).status, 401);
  assert.equal((await fetch(receiver.url, { method: 'POST', headers, body: original.body })).status, 204, 'the untouched body still verifies');

  const wrongKey = await deliveryFailure(new WebhookChannel({ id: 'pager', tier: 1, url: receiver.url, secret: 'another-secret-of-enough-length' }).deliver(updatedIchAlert(), live()));
  assert.equal(wrongKey.fields.status, 401);
  assert.equal(wrongKey.fields.permanent, true, 'a 401 will not change by retrying');
  const old = new WebhookChannel({ id: 'pager', tier: 1, url: receiver.url, secret: SECRET, now: () => Date.now() - 3_600_000 });
  await deliveryFailure(old.deliver(updatedIchAlert(), live()));
  assert.deepEqual(receiver.rejected.map((r) => r.reason), ['bad signature', 'bad signature', 'stale timestamp']);
});

test('500 then success: retryable, then delivered with the same delivery key', async (t) => {
  const receiver = await startWebhookReceiver({ secret: SECRET });
  t.after(() => receiver.close());
  receiver.failNext(1, 500);
  const ch = channel(receiver.url);
  const err = await deliveryFailure(ch.deliver(raisedIchAlert(), live()));
  assert.deepEqual([err.fields.status, err.fields.permanent], [500, false]);
  await ch.deliver(raisedIchAlert(), live());
  await receiver.received(1);
  assert.equal(receiver.requests, 2);
});

test('HTTP status classes: 408 and 429 retryable, 400 and 410 permanent', async (t) => {
  const receiver = await startWebhookReceiver({ secret: SECRET });
  t.after(() => receiver.close());
  const ch = channel(receiver.url);
  for (const [status, permanent] of [[408, false], [429, false], [400, true], [410, true]] as const) {
    receiver.failNext(1, status);
    const err = await deliveryFailure(ch.deliver(raisedIchAlert(), live()));
    assert.deepEqual([err.fields.status, err.fields.permanent], [status, permanent]);
  }
});

test('refused connection and a peer that never answers: retryable', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const { port } = silent.address() as AddressInfo;
  const timeout = await deliveryFailure(channel(`http://127.0.0.1:${port}/`, 300).deliver(raisedIchAlert(), live()));
  assert.deepEqual([timeout.fields.timeout, timeout.fields.permanent], [true, false]);

  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = await deliveryFailure(channel(`http://127.0.0.1:${closedPort}/`).deliver(raisedIchAlert(), live()));
  assert.deepEqual([refused.fields.errno, refused.fields.permanent], ['ECONNREFUSED', false]);
});
