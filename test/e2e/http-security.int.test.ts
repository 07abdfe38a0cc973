/**
 * The HTTP API and DICOMweb behind HTTP Basic credentials (http.users) and HTTPS (http.tls), on a
 * real node: curl over HTTPS with the private CA, with and without credentials; Orthanc's DICOMweb
 * client STOWs with the credentials of its DicomWeb.Servers entry, and is refused without them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMedge, type MedgeProcess } from '../helpers/medge-process.js';
import { makeCertificates, OPENSSL_HINT } from '../helpers/tls-certs.js';
import { ORTHANC_HINT, requireTool, skipMessage } from '../helpers/peers.js';
import { realData } from '../helpers/real-data.js';
import { orthancJson, requireOrthanc, startOrthanc, uploadToOrthanc } from '../helpers/orthanc.js';
import { curl, stowArgs, writeMultipart } from '../../src/dicomweb/test-support.js';

const run = promisify(execFile);
const CT = realData('transfer-syntaxes', 'ct', 'CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm');
const STUDY = '1.2.840.113619.2.30.1.1762295590.1623.978668949.886';

async function withNode(t: { after(fn: () => Promise<void>): void }, http: Record<string, unknown>): Promise<{ node: MedgeProcess; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'medge-httpsec-'));
  await writeFile(join(dir, 'medge.yaml'), JSON.stringify({ http }));
  const node = await startMedge({ args: ['--config', join(dir, 'medge.yaml')] });
  t.after(async () => {
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { node, dir };
}

test('HTTPS with HTTP Basic: curl with the CA and credentials stores and finds; without them 401 and a challenge; health stays open', async (t) => {
  if (!requireTool('openssl', OPENSSL_HINT)) return t.skip(skipMessage('openssl', OPENSSL_HINT));
  if (!CT) return t.skip('real data missing under ../shared/data/real');
  const certDir = await mkdtemp(join(tmpdir(), 'medge-httpsec-certs-'));
  t.after(() => rm(certDir, { recursive: true, force: true }));
  const certs = await makeCertificates(certDir);
  const { node, dir } = await withNode(t, { users: [{ username: 'pacs', password: 's3cret' }], tls: { certFile: certs.leaf.certFile, keyFile: certs.leaf.keyFile } });
  assert.match(node.output(), /HTTPS port \d+/);
  const base = `https://127.0.0.1:${node.httpPort}`;
  const body = join(dir, 'stow.bin');
  await writeMultipart(body, 'XyZ', [{ type: 'application/dicom', file: CT }]);
  const tls = ['--cacert', certs.caFile];

  const refused = await curl([...tls, '-D', join(dir, 'headers.txt'), ...stowArgs(`${base}/dicom-web/studies`, body, 'XyZ')], dir);
  assert.equal(refused.status, 401);
  assert.equal(refused.json().error.code, 'MEDGE_ERR_HTTP_UNAUTHORIZED');
  assert.match(await readFile(join(dir, 'headers.txt'), 'utf8'), /www-authenticate: Basic realm="medge"/i);
  assert.equal((await curl([...tls, '-u', 'pacs:wrong', ...stowArgs(`${base}/dicom-web/studies`, body, 'XyZ')], dir)).status, 401);
  const stored = await curl([...tls, '-u', 'pacs:s3cret', ...stowArgs(`${base}/dicom-web/studies`, body, 'XyZ')], dir);
  assert.equal(stored.status, 200, stored.body.toString());
  const found = await curl([...tls, '-u', 'pacs:s3cret', `${base}/dicom-web/studies?StudyInstanceUID=${STUDY}`], dir);
  assert.equal(found.status, 200);
  assert.equal(found.json().length, 1);
  assert.equal((await curl([...tls, `${base}/api/health`], dir)).status, 200, 'monitoring needs no credentials');
  assert.equal((await curl([...tls, `${base}/api/worklist`], dir)).status, 401);
  // Plain HTTP to the HTTPS port gets nothing usable.
  await assert.rejects(run('curl', ['-sS', '--max-time', '5', `http://127.0.0.1:${node.httpPort}/api/health`]));
  assert.match(node.output(), /"event":"http-auth-failed"/);
  assert.doesNotMatch(node.output(), /s3cret|wrong/, 'passwords never logged');

  // A renewal: a certificate from a new CA written over the files, SIGHUP, no restart.
  const renewed = await makeCertificates(await mkdtemp(join(certDir, 'renewed-')));
  await copyFile(renewed.leaf.certFile, certs.leaf.certFile);
  await copyFile(renewed.leaf.keyFile, certs.leaf.keyFile);
  process.kill(node.pid, 'SIGHUP');
  for (let i = 0; i < 500 && !node.output().includes('"event":"https-reloaded"'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(node.output(), /"event":"https-reloaded"/);
  assert.equal((await curl(['--cacert', renewed.caFile, `${base}/api/health`], dir)).status, 200, 'the new certificate is served');
  await assert.rejects(run('curl', ['-sS', '--cacert', certs.caFile, `${base}/api/health`]), 'the old CA no longer verifies it');
});

test('Orthanc\'s DICOMweb client STOWs with the credentials of its DicomWeb.Servers entry, and is refused without', async (t) => {
  if (!requireOrthanc()) return t.skip(skipMessage('Orthanc with orthanc-dicomweb', ORTHANC_HINT));
  if (!CT) return t.skip('real data missing under ../shared/data/real');
  const { node } = await withNode(t, { users: [{ username: 'orthanc', password: 'pw-1' }] });
  const url = `${node.httpUrl}/dicom-web/`;
  const orthanc = await startOrthanc({ dicomWebServers: { good: [url, 'orthanc', 'pw-1'], bad: [url, 'orthanc', 'nope'] } });
  t.after(() => orthanc.stop());
  const { studies } = await uploadToOrthanc(orthanc, [CT]);
  const stow = (server: string) => orthancJson<unknown>(orthanc.httpUrl, `/dicom-web/servers/${server}/stow`, { method: 'POST', body: JSON.stringify({ Resources: [...studies], Synchronous: true }) });
  await assert.rejects(stow('bad'));
  const count = async () => {
    const res = await fetch(`${node.httpUrl}/dicom-web/studies?StudyInstanceUID=${STUDY}`, { headers: { authorization: `Basic ${Buffer.from('orthanc:pw-1').toString('base64')}` } });
    assert.ok(res.ok, `QIDO-RS: HTTP ${res.status}`);
    const text = await res.text();
    // PS3.18 8.3.4.4: no match is 204 without a body.
    return text ? (JSON.parse(text) as unknown[]) : [];
  };
  assert.equal((await count()).length, 0);
  await stow('good');
  assert.equal((await count()).length, 1);
});
