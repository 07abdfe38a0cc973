import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpStatusError, isRetryable, parseRetryAfter, responseError, timeoutError, transportError } from './stow-client-errors.js';

const dest = { url: 'https://pacs.example/dicom-web' };
const errno = (code: string, message = code) => Object.assign(new Error(message), { code });

test('HTTP statuses: 401/403 are auth, 408/429/5xx retryable with Retry-After, other 4xx and redirects permanent', () => {
  const auth = httpStatusError(401, dest, '', { wwwAuthenticate: 'Basic realm="x"' });
  assert.equal(auth.code, 'MEDGE_ERR_UPLINK_AUTH');
  assert.equal(isRetryable(auth), false);
  assert.match(auth.message, /refused the credentials.*HTTP 401.*asks for Basic.*check the user and password/);
  assert.equal(httpStatusError(403, dest, '').code, 'MEDGE_ERR_UPLINK_AUTH');
  for (const s of [408, 429, 500, 502, 503, 504, 507]) {
    const e = httpStatusError(s, dest, 'busy', { retryAfter: '7' });
    assert.equal(e.code, 'MEDGE_ERR_UPLINK_UNAVAILABLE', `HTTP ${s}`);
    assert.equal(isRetryable(e), true);
    assert.equal(e.fields.retryAfterMs, 7000);
  }
  for (const s of [400, 404, 405, 413, 415, 501]) {
    const e = httpStatusError(s, dest, 'no such route\n here');
    assert.equal(e.code, 'MEDGE_ERR_UPLINK_REJECTED', `HTTP ${s}`);
    assert.equal(isRetryable(e), false);
    assert.match(e.message, new RegExp(`HTTP ${s}: no such route here`));
  }
  assert.match(httpStatusError(301, dest, '', { location: 'https://other/' }).message, /redirects \(HTTP 301\) to https:\/\/other\//);
});

test('socket errors are retryable network errors; certificate problems are named TLS errors that are not', () => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND']) {
    const e = transportError(errno(code), dest);
    assert.equal(e.code, 'MEDGE_ERR_UPLINK_NETWORK');
    assert.equal(isRetryable(e), true);
    assert.ok(e.message.includes(code));
  }
  assert.match(transportError(errno('ECONNRESET', 'socket hang up'), dest).message, /connection reset/);
  const untrusted = transportError(errno('SELF_SIGNED_CERT_IN_CHAIN'), dest);
  assert.equal(untrusted.code, 'MEDGE_ERR_UPLINK_TLS');
  assert.equal(isRetryable(untrusted), false);
  assert.match(untrusted.message, /not trusted.*give that CA \(`caFile`\)/);
  assert.match(transportError(errno('CERT_HAS_EXPIRED'), dest).message, /expired/);
  assert.match(transportError(errno('ERR_TLS_CERT_ALTNAME_INVALID'), dest).message, /does not name this host/);
  assert.equal(transportError(errno('ERR_SSL_SOMETHING_NEW'), dest).code, 'MEDGE_ERR_UPLINK_TLS');
  const plain = transportError(errno('EPROTO', 'C0B7:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'), dest);
  assert.match(plain.message, /does not speak TLS on this port.*\[ERR_SSL_WRONG_VERSION_NUMBER\]/);
});

test('timeouts and unreadable answers are retryable; Retry-After takes seconds or a date', () => {
  const t = timeoutError(500, dest, 'sending');
  assert.equal(t.code, 'MEDGE_ERR_UPLINK_NETWORK');
  assert.match(t.message, /no progress for 500 ms while sending/);
  assert.equal(isRetryable(t), true);
  assert.equal(isRetryable(responseError(200, dest, 'x')), true);
  assert.equal(parseRetryAfter('120'), 120_000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(isRetryable(new Error('x')), false);
});
