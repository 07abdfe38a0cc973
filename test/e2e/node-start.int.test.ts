import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { readFile, mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMedge } from '../helpers/medge-process.js';
import { repoRoot } from '../helpers/real-data.js';
import { DCMTK_HINT, requireTool, skipMessage } from '../helpers/peers.js';
import { makeCertificates, OPENSSL_HINT } from '../helpers/tls-certs.js';
import { runTool } from '../../src/dimse/int-test-harness.js';
import { writeSyntheticCtSeries } from '../../src/dicom/synthetic/ct-series.js';

const medge = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(repoRoot(), 'bin', 'medge.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });

test('medge --help and --version answer without starting anything', () => {
  const help = medge(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /start .*echo .*send/s);
  const startHelp = medge(['start', '--help']);
  assert.equal(startHelp.status, 0);
  assert.match(startHelp.stdout, /--dicom-port N/);
  assert.match(medge(['--version']).stdout, /^\d+\.\d+\.\d+/);
  const unknown = medge(['frobnicate']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
});

test('a started node writes ports.json, answers health and metrics, and stops on SIGTERM', async (t) => {
  const node = await startMedge();
  t.after(() => node.stop());
  const ports = JSON.parse(await readFile(join(node.dataDir, 'ports.json'), 'utf8'));
  assert.equal(ports.dicom, node.dicomPort);
  assert.equal(ports.http, node.httpPort);
  assert.match(node.output(), new RegExp(`DICOM port ${node.dicomPort}, HTTP port ${node.httpPort}`));
  const health = (await (await fetch(`${node.httpUrl}/api/health`)).json()) as { status: string; disk: { ok: boolean } };
  assert.equal(health.status, 'ok');
  assert.equal(health.disk.ok, true);
  const metrics = await (await fetch(`${node.httpUrl}/metrics`)).text();
  assert.match(metrics, /# TYPE medge_instances_received_total counter/);
  await node.stop();
  assert.equal(node.child.exitCode, 0);
});

test('a listener that cannot start makes the process say why and exit non-zero', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => blocker.close(resolve)));
  const port = (blocker.address() as { port: number }).port;
  const dir = await mkdtemp(join(tmpdir(), 'medge-start-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const result = medge(['start', '--data', dir, '--dicom-port', String(port), '--http-port', '0'], { MEDGE_DICOM_HOST: '127.0.0.1' });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /EADDRINUSE|in use/);
});

test('an invalid configuration names the key and exits non-zero', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-start-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'medge.yaml');
  await writeFile(file, 'dicom:\n  aeTitle: THIS_TITLE_IS_FAR_TOO_LONG\n');
  const result = medge(['start', '--config', file, '--data', dir]);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /dicom\.aeTitle must be an AE title/);
  assert.match(result.stderr, /MEDGE_ERR_CONFIG_INVALID/);
  const badFlag = medge(['start', '--dicom-port', 'abc']);
  assert.equal(badFlag.status, 2);
  assert.match(badFlag.stderr, /--dicom-port must be a whole number/);
});

const tlsMissing = [...['echoscu'].filter((t) => !requireTool(t, DCMTK_HINT)), ...['openssl'].filter((t) => !requireTool(t, OPENSSL_HINT))];

test('a node with dicom.tls prints and writes its DICOM TLS port, shows it in health, and answers a C-ECHO over TLS there', {
  skip: tlsMissing.length ? skipMessage(tlsMissing.join(', '), `${DCMTK_HINT} openssl`) : false,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-start-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const certs = await makeCertificates(dir);
  const file = join(dir, 'medge.yaml');
  await writeFile(file, `dicom:\n  host: 127.0.0.1\n  tls:\n    port: 2762\n    certFile: ${certs.leaf.certFile}\n    keyFile: ${certs.leaf.keyFile}\n`);
  const node = await startMedge({ args: ['--config', file, '--dicom-tls-port', '0'] });
  t.after(() => node.stop());
  const ports = JSON.parse(await readFile(join(node.dataDir, 'ports.json'), 'utf8')) as { dicomTls?: number };
  assert.ok(ports.dicomTls && ports.dicomTls !== 2762 && ports.dicomTls !== node.dicomPort, 'the flag overrides the file and 0 picks a free port');
  assert.match(node.output(), new RegExp(`DICOM port ${node.dicomPort}, DICOM TLS port ${ports.dicomTls}, HTTP port ${node.httpPort}`));
  const health = (await (await fetch(`${node.httpUrl}/api/health`)).json()) as { ports: { dicomTls?: number }; dimse: { tlsPort: number | null } };
  assert.equal(health.ports.dicomTls, ports.dicomTls);
  assert.equal(health.dimse.tlsPort, ports.dicomTls);
  const echo = await runTool('echoscu', ['+tla', '+cf', certs.caFile, '-aec', 'MEDGE', '127.0.0.1', String(ports.dicomTls)]);
  assert.equal(echo.code, 0, echo.output);

  // medge's own SCU commands reach it too, and say what to do when they cannot.
  const peer = `MEDGE@127.0.0.1:${ports.dicomTls}`;
  const ownEcho = medge(['echo', peer, '--ca', certs.caFile]);
  assert.equal(ownEcho.status, 0, ownEcho.stderr);
  assert.match(ownEcho.stdout, /C-ECHO MEDGE@127\.0\.0\.1:\d+: Success/);
  const untrusted = medge(['echo', peer, '--tls']);
  assert.equal(untrusted.status, 1);
  assert.match(untrusted.stderr, /not trusted .*--ca/);
  const plain = medge(['echo', peer, '--timeout', '5']);
  assert.equal(plain.status, 1, 'plain DICOM to the TLS port fails');
  assert.match(plain.stderr, /if this is a DICOM TLS port, add --tls/);
  const series = await writeSyntheticCtSeries({ dir: join(dir, 'series'), slices: 3, rows: 64, columns: 64, seed: 3 });
  const sent = medge(['send', join(dir, 'series'), '--to', peer, '--ca', certs.caFile]);
  assert.equal(sent.status, 0, sent.stderr);
  assert.match(sent.stdout, /sent 3, failed 0/);
  const qido = (await (await fetch(`${node.httpUrl}/dicom-web/studies/${series.studyUid}/series/${series.seriesUid}/instances`)).json()) as unknown[];
  assert.equal(qido.length, 3);
  const halfCert = medge(['send', join(dir, 'series'), '--to', peer, '--cert', certs.client.certFile]);
  assert.equal(halfCert.status, 2);
  assert.match(halfCert.stderr, /--cert and --key go together/);

  // SIGHUP re-reads the certificate files; the node keeps serving.
  process.kill(node.pid, 'SIGHUP');
  for (let i = 0; i < 500 && !node.output().includes('"event":"dimse-tls-reloaded"'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(node.output(), /"event":"dimse-tls-reloaded"/);
  assert.equal(medge(['echo', peer, '--ca', certs.caFile]).status, 0);
});
