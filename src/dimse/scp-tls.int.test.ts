/**
 * The DICOM TLS listener (PS3.15 B.1) against real dcmtk senders: echoscu and storescu with
 * `+tls`/`+tla` in their default Non-downgrading BCP 195 profile (PS3.15 B.9), certificates from a
 * private CA made by the openssl CLI. What arrives over TLS is stored byte for byte like on the
 * plain port; a sender that cannot complete the handshake is refused with a logged reason and the
 * listener goes on serving.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { readFileMeta } from '../dicom/part10.js';
import { writeSyntheticCtSeries } from '../dicom/synthetic/ct-series.js';
import { isMedgeError } from '../errors.js';
import { DCMTK_HINT, requireTool, skipMessage } from '../../test/helpers/peers.js';
import { makeCertificates, OPENSSL_HINT } from '../../test/helpers/tls-certs.js';
import { runTool, startTestScp, type TestScp } from './int-test-harness.js';

const missing = [...['echoscu', 'storescu'].filter((t) => !requireTool(t, DCMTK_HINT)), ...['openssl'].filter((t) => !requireTool(t, OPENSSL_HINT))];
const skip = missing.length ? skipMessage(missing.join(', '), `${DCMTK_HINT} openssl`) : false;
const dirs: string[] = [];
const scps: TestScp[] = [];

after(async () => {
  for (const s of scps) await s.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A logger whose JSON lines are kept, to read what the listener said about a refused handshake. */
function keptLog() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), refusals: () => lines.filter((l) => l.event === 'dicom-tls-refused') };
}

function datasetSha(bytes: Buffer): string {
  const meta = readFileMeta(bytes);
  assert.ok(meta);
  return createHash('sha256').update(bytes.subarray(meta.datasetOffset)).digest('hex');
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(check(), what);
}

async function setUp(name: string) {
  const dir = await mkdtemp(join(tmpdir(), `medge-scp-tls-${name}-`));
  dirs.push(dir);
  const certs = await makeCertificates(dir);
  const series = await writeSyntheticCtSeries({ dir: join(dir, 'series'), slices: 4, rows: 64, columns: 64, seed: 7 });
  return { dir, certs, series };
}

test('TLS listener without client certificates: dcmtk echoes and stores over TLS byte for byte; a plain-TCP sender and one that does not trust the node are refused with the reason; the plain port still serves', { skip }, async () => {
  const { certs, series } = await setUp('anon');
  const kept = keptLog();
  const scp = await startTestScp({ tls: { port: 0, certFile: certs.leaf.certFile, keyFile: certs.leaf.keyFile } }, { log: kept.log });
  scps.push(scp);
  assert.ok(scp.tlsPort && scp.tlsPort !== scp.port);
  const tlsPort = String(scp.tlsPort);
  const trustNode = ['+tla', '+cf', certs.caFile];

  const echo = await runTool('echoscu', [...trustNode, '-aec', 'MEDGE', '127.0.0.1', tlsPort]);
  assert.equal(echo.code, 0, echo.output);

  const store = await runTool('storescu', [...trustNode, '-aec', 'MEDGE', '127.0.0.1', tlsPort, ...series.files]);
  assert.equal(store.code, 0, store.output);
  for (const file of series.files) {
    const source = await readFile(file);
    const sop = readFileMeta(source)!.mediaStorageSopInstanceUid;
    const stored = scp.index.getInstance(sop);
    assert.ok(stored, `${sop} is indexed`);
    assert.equal(datasetSha(await scp.store.read(stored.blobKey)), datasetSha(source), 'the dataset is stored as sent');
  }

  // A sender in plain TCP on the TLS port: its association fails, and the log says why.
  const plain = await runTool('echoscu', ['-aec', 'MEDGE', '-to', '5', '127.0.0.1', tlsPort]);
  assert.notEqual(plain.code, 0, plain.output);
  await waitFor(() => kept.refusals().some((r) => /does not speak TLS/.test(String(r.reason))), 'the plain-TCP sender is logged as not speaking TLS');
  assert.equal(scp.metrics.value('medge_dimse_tls_refused_total', { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), 1);

  // A sender that does not know the node's CA refuses the node's certificate.
  const untrusting = await runTool('echoscu', ['+tla', '-aec', 'MEDGE', '127.0.0.1', tlsPort]);
  assert.notEqual(untrusting.code, 0, untrusting.output);
  await waitFor(() => kept.refusals().some((r) => /does not trust this node's certificate|refused this node's certificate/.test(String(r.reason))), `the untrusting sender is logged: ${JSON.stringify(kept.refusals())}`);

  // Both listeners go on serving.
  assert.equal((await runTool('echoscu', [...trustNode, '-aec', 'MEDGE', '127.0.0.1', tlsPort])).code, 0);
  assert.equal((await runTool('echoscu', ['-aec', 'MEDGE', '127.0.0.1', String(scp.port)])).code, 0);
  assert.equal(scp.server.status().tlsPort, scp.tlsPort);
});

test('TLS listener with caFile: a sender with a certificate from that CA stores; one without a certificate is refused with the reason', { skip }, async () => {
  const { certs, series } = await setUp('mutual');
  const kept = keptLog();
  const scp = await startTestScp({ tls: { port: 0, certFile: certs.leaf.certFile, keyFile: certs.leaf.keyFile, caFile: certs.caFile } }, { log: kept.log });
  scps.push(scp);
  const tlsPort = String(scp.tlsPort);

  const withCert = await runTool('storescu', ['+tls', certs.client.keyFile, certs.client.certFile, '+cf', certs.caFile, '-aec', 'MEDGE', '127.0.0.1', tlsPort, series.files[0]!]);
  assert.equal(withCert.code, 0, withCert.output);
  assert.ok(scp.index.getInstance(readFileMeta(await readFile(series.files[0]!))!.mediaStorageSopInstanceUid));

  const anonymous = await runTool('storescu', ['+tla', '+cf', certs.caFile, '-aec', 'MEDGE', '127.0.0.1', tlsPort, series.files[1]!]);
  assert.notEqual(anonymous.code, 0, anonymous.output);
  await waitFor(() => kept.refusals().some((r) => /presented no certificate/.test(String(r.reason))), `the sender without a certificate is logged: ${JSON.stringify(kept.refusals())}`);
  assert.equal(scp.index.getInstance(readFileMeta(await readFile(series.files[1]!))!.mediaStorageSopInstanceUid), undefined);
});

test('TLS listener whose certificate file cannot be read: start fails naming dicom.tls.certFile; a key that does not fit the certificate, naming dicom.tls', { skip }, async () => {
  const { dir, certs } = await setUp('badfile');
  await assert.rejects(
    startTestScp({ tls: { port: 0, certFile: join(dir, 'missing.pem'), keyFile: certs.leaf.keyFile } }),
    (err: unknown) => isMedgeError(err) && err.code === 'MEDGE_ERR_CONFIG_FILE' && /dicom\.tls\.certFile: cannot read .*missing\.pem \(ENOENT\)/.test(err.message),
  );
  // A key that is not the certificate's.
  await assert.rejects(
    startTestScp({ tls: { port: 0, certFile: certs.leaf.certFile, keyFile: certs.client.keyFile } }),
    (err: unknown) => isMedgeError(err) && err.code === 'MEDGE_ERR_CONFIG_FILE' && /dicom\.tls: the certificate, key or CA cannot be used/.test(err.message),
  );
});

test('a renewed certificate is used from the next handshake on after reloadTls (SIGHUP); a broken one is refused and the running one stays', { skip }, async () => {
  const { dir, certs } = await setUp('reload');
  await copyFile(certs.leaf.certFile, join(dir, 'node.pem'));
  await copyFile(certs.leaf.keyFile, join(dir, 'node.key'));
  const node = await startTestScp({ tls: { port: 0, certFile: join(dir, 'node.pem'), keyFile: join(dir, 'node.key') } });
  scps.push(node);
  const echoWith = (caFile: string) => runTool('echoscu', ['+tla', '+cf', caFile, '-aec', 'MEDGE', '127.0.0.1', String(node.tlsPort)]);
  assert.equal((await echoWith(certs.caFile)).code, 0);

  const renewed = await makeCertificates(await mkdtemp(join(dir, 'renewed-')));
  await copyFile(renewed.leaf.certFile, join(dir, 'node.pem'));
  await copyFile(renewed.leaf.keyFile, join(dir, 'node.key'));
  assert.equal((await echoWith(certs.caFile)).code, 0, 'the old certificate until the reload');
  assert.equal(node.server.reloadTls(), true);
  assert.notEqual((await echoWith(certs.caFile)).code, 0, 'the old CA no longer verifies the node');
  assert.equal((await echoWith(renewed.caFile)).code, 0, 'the renewed certificate is served');

  await writeFile(join(dir, 'node.pem'), 'not a certificate');
  assert.throws(() => node.server.reloadTls(), (err) => isMedgeError(err, 'MEDGE_ERR_CONFIG_FILE') && /dicom\.tls: the certificate, key or CA cannot be used/.test(err.message));
  assert.equal((await echoWith(renewed.caFile)).code, 0, 'the running certificate stays');
});
