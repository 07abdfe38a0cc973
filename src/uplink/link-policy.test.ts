import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDailyWindow } from './daily-window.js';
import { TokenBucket } from './token-bucket.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { validateConfig } from '../config/validate.js';
import { DEFAULT_CONFIG } from '../config/schema.js';
import { targetOf } from './uplink-status.js';

const at = (h: number, m = 0, day = 5) => new Date(2026, 0, day, h, m).getTime();

test('daily window: across midnight, same-day, and always open', () => {
  const night = parseDailyWindow('20:00-06:00');
  assert.deepEqual([at(19, 59), at(20), at(23, 30), at(5, 59), at(6)].map((t) => night.isOpen(t)), [false, true, true, true, false]);
  assert.equal(night.nextOpen(at(12)), at(20));
  assert.equal(night.nextOpen(at(21)), at(21));
  const day = parseDailyWindow('09:00-17:00');
  assert.equal(day.nextOpen(at(18)), at(9, 0, 6), 'after the end: tomorrow');
  assert.equal(parseDailyWindow('00:00-00:00').isOpen(at(3)), true);
  assert.throws(() => parseDailyWindow('8-17'), /HH:MM-HH:MM/);
});

test('token bucket: a batch goes when not in debt and is paid for; the average stays under the cap', () => {
  const b = new TokenBucket(1_000_000, 0);
  assert.equal(b.waitMs(0), 0);
  b.take(3_000_000, 0); // one large batch: allowed at once, 2 MB in debt
  assert.equal(b.waitMs(0), 2000);
  assert.equal(b.waitMs(2000), 0);
  // 10 s of sends of 250 kB each whenever allowed: at most 1 MB/s plus one burst.
  let sent = 0;
  for (let t = 2000; t < 12_000; t += 10) if (b.waitMs(t) === 0) (b.take(250_000, t), (sent += 250_000));
  assert.ok(sent <= 11_250_000 && sent >= 9_000_000, `${sent} bytes in 10 s at 1 MB/s`);
  assert.throws(() => new TokenBucket(0, 0), /> 0/);
});

test('circuit breaker: opens after N failures, one probe after the cool-down, a failed probe doubles it, success closes', () => {
  const br = new CircuitBreaker(3, 1000);
  br.failure(0);
  br.failure(1);
  assert.equal(br.state(2), 'closed');
  br.failure(2);
  assert.equal(br.state(3), 'open');
  assert.equal(br.allow(500), false);
  assert.equal(br.state(1002), 'half-open');
  assert.equal(br.allow(1002), true);
  assert.equal(br.allow(1003), false, 'one probe at a time');
  br.failure(1010);
  assert.equal(br.retryAt(), 1010 + 2000);
  assert.equal(br.state(2500), 'open');
  assert.equal(br.allow(3010), true);
  br.success();
  assert.equal(br.state(3011), 'closed');
  br.failure(4000, true);
  assert.equal(br.state(4001), 'open', 'a failure a person must fix opens it at once');
});

test('uplink configuration: each problem named by its key; secrets never echoed; targets shown without credentials', () => {
  const stow = { id: 'cloud', type: 'stow-rs', baseUrl: 'https://user:pw@pacs.example.org/dicom-web/', auth: { basic: { user: 'u', password: 'TOPSECRET' } }, policy: { what: 'results', when: 'immediate', privacy: 'deidentified' } };
  const ok = validateConfig({ ...structuredClone(DEFAULT_CONFIG), uplink: { ...DEFAULT_CONFIG.uplink, destinations: [stow] } });
  assert.equal(targetOf(ok.uplink.destinations[0]!), 'https://pacs.example.org/dicom-web');
  const bad = (d: unknown) => {
    try {
      validateConfig({ ...structuredClone(DEFAULT_CONFIG), uplink: { ...DEFAULT_CONFIG.uplink, destinations: [d] } });
    } catch (err) {
      return (err as Error).message;
    }
    return 'valid';
  };
  assert.match(bad({ ...stow, policy: { ...stow.policy, when: 'window' } }), /uplink.destinations destination cloud: policy.window must be 'HH:MM-HH:MM'/);
  assert.match(bad({ ...stow, policy: { ...stow.policy, when: 'capped' } }), /policy.maxBytesPerSecond must be/);
  assert.match(bad({ ...stow, policy: { ...stow.policy, what: 'results+alerts' } }), /alertUrl must be an http or https URL/);
  assert.match(bad({ ...stow, policy: { ...stow.policy, deid: { cleanPixels: true } } }), /deid.cleanPixels is not a known option/);
  assert.match(bad({ ...stow, auth: { basic: { user: 'u' } } }), /auth must be/);
  assert.ok(!bad({ ...stow, policy: { ...stow.policy, when: 'window' } }).includes('TOPSECRET'), 'the password is not in the message');
  assert.match(bad({ id: 'arch', type: 'dimse', aeTitle: 'A\\B', host: 'h', port: 104, policy: stow.policy }), /destination arch: aeTitle must be an AE title/);
  assert.match(bad({ id: 'arch', type: 'ftp', policy: stow.policy }), /type must be one of stow-rs, dimse/);
  assert.match(bad({ ...stow, compressResults: 'yes' }), /destination cloud: compressResults must be true or false/);
  assert.match(bad({ ...stow, concurrency: 0 }), /destination cloud: concurrency must be a whole number from 1 to 16/);
  assert.equal(bad({ ...stow, compressResults: false, concurrency: 4 }), 'valid');
  assert.equal(bad({ ...stow, caFile: '/ca.pem', certFile: '/node.pem', keyFile: '/node.key' }), 'valid');
  assert.match(bad({ ...stow, keyFile: '/node.key' }), /destination cloud: certFile and keyFile go together/);
  const dimse = { id: 'arch', type: 'dimse', aeTitle: 'ARCHIVE', host: 'h', port: 2762, policy: stow.policy };
  assert.equal(bad({ ...dimse, tls: { caFile: '/ca.pem', certFile: '/node.pem', keyFile: '/node.key' } }), 'valid');
  assert.match(bad({ ...dimse, tls: { certFile: '/node.pem' } }), /destination arch: tls.certFile and tls.keyFile go together/);
  assert.match(bad({ ...dimse, tls: { caFile: 7 } }), /destination arch: tls.caFile must be the path of a PEM file/);
  assert.match(bad({ ...dimse, tls: { ca: '/ca.pem' } }), /destination arch: tls.ca is not a known key; tls is \{ caFile\?, certFile\?, keyFile\? \}/);
});
