/**
 * DICOM TLS (PS3.15 B.1, the TLS Secure Transport Connection Profile; dcmtk's default is the
 * Non-downgrading BCP 195 profile, PS3.15 B.9) between medge's SCU and a real peer: dcmtk's
 * storescp with `+tls`, a certificate from a private CA made by the openssl CLI, bit-preserving
 * (+B). The uplink's DIMSE destinations use this SCU.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMedgeError } from '../errors.js';
import { readFileMeta } from '../dicom/part10.js';
import { writeSyntheticCtSeries } from '../dicom/synthetic/ct-series.js';
import { freePort } from '../../test/helpers/free-port.js';
import { DCMTK_HINT, requireTool, skipMessage } from '../../test/helpers/peers.js';
import { makeCertificates, OPENSSL_HINT } from '../../test/helpers/tls-certs.js';
import type { ScuTlsOptions } from './scu-association.js';
import { echo, storeFiles } from './scu.js';

const missing = [...['storescp'].filter((t) => !requireTool(t, DCMTK_HINT)), ...['openssl'].filter((t) => !requireTool(t, OPENSSL_HINT))];
const skip = missing.length ? skipMessage(missing.join(', '), `${DCMTK_HINT} openssl`) : false;
const children: ChildProcess[] = [];
const dirs: string[] = [];

after(async () => {
  for (const c of children) c.kill('SIGTERM');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function datasetSha(bytes: Buffer): string {
  const meta = readFileMeta(bytes);
  assert.ok(meta);
  return createHash('sha256').update(bytes.subarray(meta.datasetOffset)).digest('hex');
}

/** storescp (AE TLSSCP) with `args` on a free port, once it answers a C-ECHO over TLS with `tls` (or after 5 s). */
async function startTlsScp(args: string[], tls: ScuTlsOptions) {
  const port = await freePort();
  const scp = spawn('storescp', ['-aet', 'TLSSCP', ...args, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(scp);
  let stderr = '';
  scp.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const peer = { host: '127.0.0.1', port, calledAe: 'TLSSCP', callingAe: 'MEDGE', timeoutMs: 5000 };
  let echoed: { status: number } | undefined;
  for (let i = 0; i < 100 && !echoed; i++) {
    echoed = await echo({ ...peer, tls }).catch(() => undefined);
    if (!echoed) await new Promise((r) => setTimeout(r, 50));
  }
  return { scp, peer, echoed, stderr: () => stderr };
}

test('TLS to dcmtk storescp +tls: with the private CA, echo and C-STORE succeed byte for byte; without it, or in plain TCP, the SCU fails with the reason', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-scu-tls-'));
  dirs.push(dir);
  const certs = await makeCertificates(dir);
  const out = join(dir, 'received');
  await mkdir(out);
  const tls = { ca: certs.ca };
  // -ic: this storescp asks for no client certificate.
  const { scp, peer, echoed, stderr } = await startTlsScp(['+B', '+tls', certs.leaf.keyFile, certs.leaf.certFile, '-ic', '-od', out], tls);
  assert.equal(echoed?.status, 0, `no TLS echo from storescp: ${stderr()}`);

  const series = await writeSyntheticCtSeries({ dir: join(dir, 'ct'), slices: 3, rows: 64, columns: 64 });
  const { results, summary } = await storeFiles({ ...peer, tls, files: series.files });
  assert.deepEqual(results.map((r) => r.ok), [true, true, true], JSON.stringify(results.map((r) => r.error?.message)));
  assert.equal(summary.sent, 3);
  assert.equal(summary.failed, 0);
  const sent = new Set(await Promise.all(series.files.map(async (f) => datasetSha(await readFile(f)))));
  const received = new Set(await Promise.all((await readdir(out)).map(async (f) => datasetSha(await readFile(join(out, f))))));
  assert.deepEqual(received, sent);

  // Plain TCP to a TLS port: a clean DIMSE error, no hang.
  await assert.rejects(echo({ ...peer }), (err) => isMedgeError(err) && err.code.startsWith('MEDGE_ERR_DIMSE_'));
  // Node's built-in CAs do not include the private one: the handshake fails and says why.
  await assert.rejects(echo({ ...peer, tls: {} }), (err) => {
    assert.ok(isMedgeError(err, 'MEDGE_ERR_DIMSE_CONNECT'), String(err));
    assert.match(err.message, /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
    return true;
  });
  assert.equal(scp.exitCode, null, 'storescp still serves after the failed handshakes');
  const again = await echo({ ...peer, tls });
  assert.equal(again.status, 0);
});

test('TLS to a storescp that requires a client certificate: refused without one (the reason says so), accepted with the node\'s', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-scu-mtls-'));
  dirs.push(dir);
  const certs = await makeCertificates(dir);
  const mutual = { ca: certs.ca, cert: certs.client.cert, key: certs.client.key };
  // storescp's default -rc: the peer must present a certificate signed by a CA it trusts (+cf).
  const { peer, echoed } = await startTlsScp(['+tls', certs.leaf.keyFile, certs.leaf.certFile, '+cf', certs.caFile, '-od', dir], mutual);
  assert.equal(echoed?.status, 0, 'echo with the node certificate');
  // TLS 1.3: the server checks the client's certificate after the client's handshake is done, and
  // its close can overtake its alert (a reset or a plain close); the alert comes within a few tries.
  let refusal: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    refusal = await echo({ ...peer, tls: { ca: certs.ca } }).then(() => undefined, (err: unknown) => err);
    if (!(isMedgeError(refusal) && !/CERTIFICATE_REQUIRED|HANDSHAKE|ALERT/.test(refusal.message) && /ECONNRESET|closed the connection/.test(refusal.message))) break;
  }
  assert.ok(isMedgeError(refusal, 'MEDGE_ERR_DIMSE_ABORTED'), String(refusal));
  assert.match(refusal.message, /CERTIFICATE_REQUIRED|HANDSHAKE|ALERT/);
});
