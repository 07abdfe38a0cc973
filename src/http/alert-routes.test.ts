import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiHarness } from './api-test-support.js';
import { isLoopback } from './writes-allowed.js';
import { AX } from '../alerts/test-support.js';

test('loopback addresses', () => {
  for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
  for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '192.168.1.127', 'fe80::1', undefined]) assert.equal(isLoopback(a), false, String(a));
});

test('POST /api/alerts/:id/ack: from loopback it records who and when; from elsewhere 403; without "by" 400; unknown id 404', async () => {
  const { app, dispatcher, analyse, clock } = apiHarness();
  dispatcher.start();
  analyse(AX, 'positive', [5]);
  const id = dispatcher.list()[0]!.id;
  const url = `/api/alerts/${id}/ack`;

  const remote = await app.inject({ method: 'POST', url, remoteAddress: '10.20.30.40', payload: { by: 'Dr X' } });
  assert.equal(remote.statusCode, 403);
  assert.equal(remote.json().error.code, 'MEDGE_ERR_HTTP_FORBIDDEN');
  assert.equal(dispatcher.get(id)!.acknowledgedAt, null);

  for (const payload of [{}, { by: '   ' }, { by: 42 }]) {
    const bad = await app.inject({ method: 'POST', url, remoteAddress: '127.0.0.1', payload });
    assert.equal(bad.statusCode, 400, JSON.stringify(payload));
    assert.equal(bad.json().error.code, 'MEDGE_ERR_HTTP_BAD_REQUEST');
  }
  const missing = await app.inject({ method: 'POST', url: '/api/alerts/nope/ack', remoteAddress: '::1', payload: { by: 'Dr X' } });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error.code, 'MEDGE_ERR_ALERT_NOT_FOUND');

  const ok = await app.inject({ method: 'POST', url, remoteAddress: '::ffff:127.0.0.1', payload: { by: 'Dr X' } });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.json().acknowledgedBy, 'Dr X');
  assert.equal(ok.json().acknowledgedAt, new Date(clock.now()).toISOString());
  await dispatcher.stop();
});

test('with http.users: every route but health and metrics needs HTTP Basic credentials (401 and a challenge), and an authenticated acknowledgement may come from another host', async () => {
  const { app, dispatcher, analyse } = apiHarness({}, [{ username: 'ward', password: 'pw' }]);
  dispatcher.start();
  analyse(AX, 'positive', [5]);
  const id = dispatcher.list()[0]!.id;
  const basic = (user: string) => ({ authorization: `Basic ${Buffer.from(user).toString('base64')}` });
  for (const url of ['/api/health', '/metrics']) assert.equal((await app.inject({ url })).statusCode, 200, url);
  const none = await app.inject({ url: '/api/alerts' });
  assert.equal(none.statusCode, 401);
  assert.equal(none.json().error.code, 'MEDGE_ERR_HTTP_UNAUTHORIZED');
  assert.match(String(none.headers['www-authenticate']), /^Basic realm="medge"/);
  assert.equal((await app.inject({ url: '/api/alerts', headers: basic('ward:nope') })).statusCode, 401);
  assert.equal((await app.inject({ url: '/api/alerts', headers: basic('nobody:pw') })).statusCode, 401);
  assert.equal((await app.inject({ url: '/dicom-web/studies', headers: { authorization: 'Bearer x' } })).statusCode, 401);
  assert.equal((await app.inject({ url: '/api/alerts', headers: basic('ward:pw') })).statusCode, 200);
  const ack = await app.inject({ method: 'POST', url: `/api/alerts/${id}/ack`, remoteAddress: '10.20.30.40', headers: basic('ward:pw'), payload: { by: 'Dr X' } });
  assert.equal(ack.statusCode, 200, ack.body);
  assert.equal(ack.json().acknowledgedBy, 'Dr X');
  await dispatcher.stop();
});

test('GET /api/alerts and /api/alerts/:id show alerts with their deliveries; filters', async () => {
  const { app, dispatcher, analyse, channels } = apiHarness();
  dispatcher.start();
  analyse(AX, 'positive', [5]);
  await channels[0]!.delivered(1);
  await dispatcher.idle();
  const list = (await app.inject({ method: 'GET', url: '/api/alerts?state=active&unacknowledged=true' })).json();
  assert.equal(list.alerts.length, 1);
  const one = (await app.inject({ method: 'GET', url: `/api/alerts/${list.alerts[0].id}` })).json();
  assert.deepEqual(one.deliveries.map((d: { channel: string; state: string }) => [d.channel, d.state]), [['dashboard', 'done'], ['rec0', 'done']]);
  assert.equal(one.deliveries[0].detail, '0 clients');
  assert.doesNotMatch(JSON.stringify(one), /DOE\^JANE/, 'an alert view carries no patient data');
  assert.equal((await app.inject({ method: 'GET', url: '/api/alerts?state=retracted' })).json().alerts.length, 0);
  assert.equal((await app.inject({ method: 'GET', url: '/api/alerts?state=nope' })).statusCode, 400);
  assert.equal((await app.inject({ method: 'GET', url: '/api/alerts/unknown' })).json().error.code, 'MEDGE_ERR_ALERT_NOT_FOUND');
  await dispatcher.stop();
});
