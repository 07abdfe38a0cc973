import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { pino } from 'pino';
import { MedgeError, type ErrorCode } from '../errors.js';
import { httpStatusOf, installErrorHandler } from './error-handler.js';

function app() {
  const a = Fastify();
  installErrorHandler(a, pino({ level: 'silent' }));
  a.get('/medge/:code', async (req) => {
    const code = (req.params as { code: ErrorCode }).code;
    throw new MedgeError(code, `failed with ${code}`, { uid: '1.2.3' });
  });
  a.get('/plain', async () => {
    throw new Error('secret internals');
  });
  a.post('/json', async () => ({ ok: true }));
  return a;
}

test('status per code', () => {
  assert.equal(httpStatusOf('MEDGE_ERR_HTTP_NOT_FOUND'), 404);
  assert.equal(httpStatusOf('MEDGE_ERR_STORE_NOT_FOUND'), 404);
  assert.equal(httpStatusOf('MEDGE_ERR_HTTP_BAD_REQUEST'), 400);
  assert.equal(httpStatusOf('MEDGE_ERR_DICOMWEB_MEDIA_TYPE'), 415);
  assert.equal(httpStatusOf('MEDGE_ERR_DICOMWEB_NOT_ACCEPTABLE'), 406);
  assert.equal(httpStatusOf('MEDGE_ERR_STORE_DISK_FULL'), 507);
  assert.equal(httpStatusOf('MEDGE_ERR_ALERT_NOT_FOUND'), 404);
  assert.equal(httpStatusOf('MEDGE_ERR_HTTP_FORBIDDEN'), 403);
  assert.equal(httpStatusOf('MEDGE_ERR_STORE_IO'), 500);
});

test('a MedgeError gives its status and the one error shape', async () => {
  const a = app();
  const r = await a.inject({ method: 'GET', url: '/medge/MEDGE_ERR_STORE_DISK_FULL' });
  assert.equal(r.statusCode, 507);
  assert.match(r.headers['content-type'] as string, /^application\/json/);
  assert.deepEqual(r.json(), { error: { code: 'MEDGE_ERR_STORE_DISK_FULL', message: 'failed with MEDGE_ERR_STORE_DISK_FULL', fields: { uid: '1.2.3' } } });
});

test('anything else is a 500 that does not leak its message', async () => {
  const r = await app().inject({ method: 'GET', url: '/plain' });
  assert.equal(r.statusCode, 500);
  assert.equal(r.json().error.code, 'MEDGE_ERR_INTERNAL');
  assert.doesNotMatch(r.body, /secret internals/);
});

test("fastify's own client errors and unknown routes keep their meaning, in the same shape", async () => {
  const a = app();
  const bad = await a.inject({ method: 'POST', url: '/json', headers: { 'content-type': 'application/json' }, payload: '{nope' });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'MEDGE_ERR_HTTP_BAD_REQUEST');
  const media = await a.inject({ method: 'POST', url: '/json', headers: { 'content-type': 'application/x-nope' }, payload: 'x' });
  assert.equal(media.statusCode, 415);
  assert.equal(media.json().error.code, 'MEDGE_ERR_DICOMWEB_MEDIA_TYPE');
  const missing = await a.inject({ method: 'GET', url: '/nothing/here?PatientID=123' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error.code, 'MEDGE_ERR_HTTP_NOT_FOUND');
  assert.doesNotMatch(missing.body, /PatientID/, 'query strings are not echoed');
});
