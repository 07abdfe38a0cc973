import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './load.js';
import { DEFAULT_CONFIG } from './schema.js';
import { isMedgeError } from '../errors.js';

test('defaults validate', () => {
  assert.deepEqual(loadConfig(), DEFAULT_CONFIG);
});

test('file, then MEDGE_* variables, then flags', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'medge.yaml');
  await writeFile(file, 'dicom:\n  aeTitle: FROMFILE\n  port: 104\nhttp:\n  port: 9000\n');
  const config = loadConfig({
    file,
    env: { MEDGE_DICOM_PORT: '10104', MEDGE_DATA_DIR: '/srv/medge', MEDGE_STORE_MIN_FREE_BYTES: '5000000000', MEDGE_STORE_CHECK_ALL_AT_START: 'true', HOME: '/x' },
    overrides: { http: { port: 0 } },
  });
  assert.equal(config.dicom.aeTitle, 'FROMFILE');
  assert.equal(config.dicom.port, 10104);
  assert.equal(config.http.port, 0);
  assert.equal(config.dataDir, '/srv/medge');
  assert.equal(config.store.minFreeBytes, 5_000_000_000);
  assert.equal(config.store.checkAllAtStart, true);
});

test('every problem is reported with the key that has it', () => {
  assert.throws(
    () => loadConfig({ env: { MEDGE_DICOM_PORT: '70000', MEDGE_DICOM_AE_TITLE: 'A\\B' }, overrides: { http: { port: -1 } } }),
    (err) => {
      assert.ok(isMedgeError(err, 'MEDGE_ERR_CONFIG_INVALID'));
      assert.match(err.message, /dicom\.port must be a whole number from 0 to 65535/);
      assert.match(err.message, /dicom\.aeTitle must be an AE title/);
      assert.match(err.message, /http\.port/);
      return true;
    },
  );
});

test('dicom.users: entries checked, passcodes never echoed; requireUserIdentity needs a user', () => {
  const users = [{ username: 'ct-room-1', passcode: 'hunter2' }, { username: 'ct-room-1' }];
  assert.throws(
    () => loadConfig({ overrides: { dicom: { users, requireUserIdentity: true } } }),
    (err) => {
      assert.ok(isMedgeError(err, 'MEDGE_ERR_CONFIG_INVALID'));
      assert.match(err.message, /dicom\.users entry 1: username ct-room-1 is listed twice/);
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    },
  );
  assert.throws(() => loadConfig({ overrides: { dicom: { requireUserIdentity: true } } }), /dicom\.requireUserIdentity needs at least one entry in dicom\.users/);
  assert.deepEqual(loadConfig({ overrides: { dicom: { users: users.slice(0, 1), requireUserIdentity: true } } }).dicom.users, users.slice(0, 1));
  assert.throws(
    () => loadConfig({ overrides: { dicom: { remoteAes: [{ aeTitle: 'WS1', port: 104, user: { username: 'medge', passcode: 'hunter2', pin: 1 } }] } } as never }),
    (err) => /dicom\.remoteAes entry 0: user: pin is not a known key \(username, passcode\)/.test((err as Error).message) && !/hunter2/.test((err as Error).message),
  );
  const dest = { id: 'a', type: 'dimse', aeTitle: 'ARCHIVE', host: 'h', port: 104, user: { passcode: 'x' } };
  assert.throws(() => loadConfig({ overrides: { uplink: { destinations: [dest] } } as never }), /user must be an object with a username/);
});

test('http.users and http.tls: entries checked, passwords never echoed', () => {
  assert.throws(
    () => loadConfig({ overrides: { http: { users: [{ username: 'a:b', password: 'hunter2' }], tls: { certFile: '/x.pem' } } } as never }),
    (err) => {
      const m = (err as Error).message;
      assert.match(m, /http\.users entry 0: a username cannot contain ':'/);
      assert.match(m, /http\.tls must be null or \{ certFile, keyFile \}/);
      assert.doesNotMatch(m, /hunter2/);
      return true;
    },
  );
  const ok = loadConfig({ overrides: { http: { users: [{ username: 'router', password: 'pw' }], tls: { certFile: '/a.pem', keyFile: '/a.key' } } } });
  assert.deepEqual(ok.http.tls, { certFile: '/a.pem', keyFile: '/a.key' });
});

test('unknown keys and unreadable files are named', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'bad.yaml');
  await writeFile(file, 'dicom:\n  portt: 1\n');
  assert.throws(() => loadConfig({ file }), /dicom\.portt is not a known configuration key/);
  await writeFile(file, 'dicom: [unclosed\n');
  assert.throws(() => loadConfig({ file }), (err) => isMedgeError(err, 'MEDGE_ERR_CONFIG_FILE'));
  assert.throws(() => loadConfig({ file: join(dir, 'missing.yaml') }), /cannot read configuration file/);
});

test('the sample configuration file is valid and complete', () => {
  const sample = new URL('../../../medge.sample.yaml', import.meta.url).pathname;
  assert.deepEqual(loadConfig({ file: sample }), DEFAULT_CONFIG);
});

test('dicom.tls: null by default; a listener needs its certificate and key, a port of its own, and no other keys', () => {
  // Configuration values only: nothing listens here.
  const plain = DEFAULT_CONFIG.dicom.port;
  const tls = (value: unknown) => loadConfig({ overrides: { dicom: { tls: value as never } } });
  assert.deepEqual(tls({ port: 2762, certFile: '/etc/medge/node.pem', keyFile: '/etc/medge/node.key' }).dicom.tls, { port: 2762, certFile: '/etc/medge/node.pem', keyFile: '/etc/medge/node.key' });
  assert.throws(() => tls({ port: 0 }), /dicom\.tls needs certFile and keyFile/);
  assert.throws(() => tls({ port: plain, certFile: 'a.pem', keyFile: 'a.key' }), new RegExp(`dicom\\.tls port must differ from dicom\\.port \\(${plain}\\)`));
  assert.throws(() => tls({ port: 70000, certFile: 'a.pem', keyFile: 'a.key' }), /dicom\.tls port must be a whole number from 0 to 65535/);
  assert.throws(() => tls({ port: 2762, certFile: 'a.pem', keyFile: 'a.key', ca: 'x.pem' }), /dicom\.tls has no key ca; it is \{ port, certFile, keyFile, caFile\? \}/);
  assert.throws(() => tls({ port: 2762, certFile: 'a.pem', keyFile: 'a.key', caFile: '' }), /dicom\.tls caFile must be the path of a PEM file/);
  assert.throws(() => tls('yes'), /dicom\.tls must be \{ port, certFile, keyFile, caFile\? \}/);
  // The port flag alone names no certificate.
  assert.throws(() => loadConfig({ overrides: { dicom: { tls: { port: 0 } as never } } }), /dicom\.tls needs certFile and keyFile/);
  const fromEnv = loadConfig({ env: { MEDGE_DICOM_TLS: '{"port": 0, "certFile": "n.pem", "keyFile": "n.key", "caFile": "ca.pem"}' } });
  assert.equal(fromEnv.dicom.tls?.caFile, 'ca.pem');
});

test('dicom.remoteAes: where remote AEs listen; each needs an AE title and a port, once', () => {
  const aes = (value: unknown) => loadConfig({ overrides: { dicom: { remoteAes: value as never } } });
  assert.deepEqual(aes([{ aeTitle: 'CT1', port: 104 }, { aeTitle: 'WS2', port: 11112, host: '10.1.4.20' }]).dicom.remoteAes.length, 2);
  assert.throws(() => aes([{ aeTitle: 'CT1' }]), /dicom\.remoteAes entry 0: port must be a whole number from 1 to 65535 \(where CT1 listens\)/);
  assert.throws(() => aes([{ aeTitle: 'CT1', port: 104, hosts: ['x'] }]), /entry 0: hosts is not a known key/);
  assert.throws(() => aes([{ aeTitle: 'CT1', port: 104 }, { aeTitle: 'CT1', port: 105 }]), /entry 1: AE title CT1 is listed twice/);
  assert.throws(() => aes({ CT1: 104 }), /must be a list of \{ aeTitle, port, host\?, tls\? \}/);
  assert.equal(aes([{ aeTitle: 'PACS', port: 2762, tls: { caFile: '/etc/ca.pem' } }]).dicom.remoteAes[0]?.tls?.caFile, '/etc/ca.pem');
  assert.throws(() => aes([{ aeTitle: 'PACS', port: 2762, tls: { ca: 'x' } }]), /entry 0: tls must be \{ caFile\?, certFile\?, keyFile\? \}/);
  assert.throws(() => aes([{ aeTitle: 'PACS', port: 2762, tls: { certFile: 'n.pem' } }]), /tls\.certFile and tls\.keyFile go together/);
});

test('store retention: off by default; reclaimBelowFreeBytes must lie above minFreeBytes; set from MEDGE_ variables', () => {
  const defaults = loadConfig({});
  assert.deepEqual([defaults.store.retentionDays, defaults.store.reclaimBelowFreeBytes, defaults.store.retentionMinHours], [0, 0, 24]);
  assert.throws(
    () => loadConfig({ overrides: { store: { minFreeBytes: 5e9, reclaimBelowFreeBytes: 4e9 } } as never }),
    /store\.reclaimBelowFreeBytes must be 0 \(off\) or above store\.minFreeBytes \(5000000000\)/,
  );
  assert.throws(() => loadConfig({ overrides: { store: { retentionDays: -1 } } as never }), /store\.retentionDays must be a whole number from 0 to 36500/);
  const set = loadConfig({ env: { MEDGE_STORE_RETENTION_DAYS: '90', MEDGE_STORE_RECLAIM_BELOW_FREE_BYTES: '2e10', MEDGE_STORE_RETENTION_MIN_HOURS: '48' } });
  assert.deepEqual([set.store.retentionDays, set.store.reclaimBelowFreeBytes, set.store.retentionMinHours], [90, 2e10, 48]);
});
