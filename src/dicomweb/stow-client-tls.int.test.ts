import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { once } from 'node:events';
import { readFile, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestApp } from './test-support.js';
import { createStowClient } from './stow-client.js';
import { writeSyntheticCtSeries } from '../dicom/synthetic/ct-series.js';
import { isMedgeError } from '../errors.js';
import { requireTool, skipMessage } from '../../test/helpers/peers.js';

/**
 * TLS to the destination with a private CA: a TLS terminator (node:tls, certificates made here by
 * the openssl CLI) in front of medge's own STOW-RS server.
 */

const run = promisify(execFile);
const OPENSSL_HINT = 'sudo apt-get install openssl';

/** A CA and two leaves signed by it: one for 127.0.0.1, one for another name. */
async function makeCertificates(dir: string): Promise<{ ca: string; leaf: { key: string; cert: string }; otherName: { key: string; cert: string } }> {
  const p = (f: string) => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=medge test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const leaf = async (name: string, san: string) => {
    await writeFile(p(`${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
    await run('openssl', ['req', ...ec, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${name}`]);
    await run('openssl', ['x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p(`${name}.pem`), '-days', '2', '-extfile', p(`${name}.ext`)]);
    return { key: await readFile(p(`${name}.key`), 'utf8'), cert: await readFile(p(`${name}.pem`), 'utf8') };
  };
  return { ca: await readFile(p('ca.pem'), 'utf8'), leaf: await leaf('loopback', 'IP:127.0.0.1'), otherName: await leaf('elsewhere', 'DNS:pacs.elsewhere.example') };
}

/** Terminates TLS on 127.0.0.1:0 and pipes each connection to `targetPort`. */
async function tlsTerminator(cert: { key: string; cert: string }, targetPort: number) {
  const server = createTlsServer({ key: cert.key, cert: cert.cert }, (tls) => {
    const plain = connect({ host: '127.0.0.1', port: targetPort });
    tls.on('error', () => plain.destroy());
    plain.on('error', () => tls.destroy());
    tls.pipe(plain).pipe(tls);
  });
  // Handshakes the client abandons (untrusted certificate) end here, not as uncaught errors.
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('TLS: with the private CA the store succeeds; without it the error says the certificate is not trusted; a certificate for another name is named as such', async (t) => {
  if (!requireTool('openssl', OPENSSL_HINT)) return t.skip(skipMessage('openssl', OPENSSL_HINT));
  const dir = await mkdtemp(join(tmpdir(), 'medge-stow-tls-'));
  const app = await startTestApp();
  const certs = await makeCertificates(dir);
  const appPort = Number(new URL(app.baseUrl).port);
  const good = await tlsTerminator(certs.leaf, appPort);
  const misnamed = await tlsTerminator(certs.otherName, appPort);
  const series = await writeSyntheticCtSeries({ dir: join(dir, 'ct'), slices: 2, rows: 64, columns: 64 });
  const instance = { part10: { path: series.files[0]! } };
  const clients: { close(): void }[] = [];
  const client = (o: Parameters<typeof createStowClient>[0]) => {
    const c = createStowClient(o);
    clients.push(c);
    return c;
  };
  try {
    const trusted = client({ baseUrl: `https://127.0.0.1:${good.port}/dicom-web`, ca: certs.ca });
    const result = await trusted.store(series.files.map((path) => ({ part10: { path } })));
    assert.deepEqual(result.outcomes.map((o) => o.status), ['stored', 'stored']);
    assert.equal(await trusted.exists(series.studyUid, series.seriesUid, series.sopInstanceUids[1]!), true);

    await assert.rejects(client({ baseUrl: `https://127.0.0.1:${good.port}/dicom-web` }).store(instance), (err) => {
      assert.ok(isMedgeError(err, 'MEDGE_ERR_UPLINK_TLS'), String(err));
      assert.match(err.message, /certificate is not trusted.*give .*CA with `ca`/);
      assert.equal(err.fields.retryable, false);
      return true;
    });
    await assert.rejects(client({ baseUrl: `https://127.0.0.1:${misnamed.port}/dicom-web`, ca: certs.ca }).store(instance), (err) => {
      assert.ok(isMedgeError(err, 'MEDGE_ERR_UPLINK_TLS'), String(err));
      assert.match(err.message, /does not name this host/);
      return true;
    });
    // https:// to a port that speaks plain HTTP.
    await assert.rejects(client({ baseUrl: `https://127.0.0.1:${appPort}/dicom-web`, ca: certs.ca }).store(instance), (err) => {
      assert.ok(isMedgeError(err, 'MEDGE_ERR_UPLINK_TLS'), String(err));
      assert.match(err.message, /does not speak TLS/);
      return true;
    });
  } finally {
    for (const c of clients) c.close();
    await good.close();
    await misnamed.close();
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
});
