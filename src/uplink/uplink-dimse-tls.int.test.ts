import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newStudy, sendTo, uplinkStatus, waitFor, writeConfig, writePhantoms } from './int-test-support.js';
import { echo } from '../dimse/scu.js';
import { readFileMeta } from '../dicom/part10.js';
import { startMedge } from '../../test/helpers/medge-process.js';
import { freePort } from '../../test/helpers/free-port.js';
import { DCMTK_HINT, requireTool, skipMessage } from '../../test/helpers/peers.js';
import { makeCertificates, OPENSSL_HINT } from '../../test/helpers/tls-certs.js';

/**
 * The uplink to a DIMSE archive over DICOM TLS with mutual authentication (PS3.15 B.1, B.9): dcmtk's
 * storescp with `+tls`, requiring a client certificate signed by the private CA. The destination
 * configured with the node's certificate and key gets the results; the same archive configured
 * without them is refused, and the status says why (a TLS failure a person must fix, not retried).
 */
test('uplink over DICOM TLS with a client certificate: results confirmed at the archive; without the certificate the destination is down with a TLS reason', async (t) => {
  if (!requireTool('storescp', DCMTK_HINT)) return t.skip(skipMessage('storescp', DCMTK_HINT));
  if (!requireTool('openssl', OPENSSL_HINT)) return t.skip(skipMessage('openssl', OPENSSL_HINT));
  const dir = await mkdtemp(join(tmpdir(), 'medge-uplink-tls-'));
  const peers: ChildProcess[] = [];
  try {
    const certs = await makeCertificates(dir);
    const received = join(dir, 'received');
    await mkdir(received);
    const port = await freePort();
    peers.push(spawn('storescp', ['-aet', 'ARCHIVE', '+tls', certs.leaf.keyFile, certs.leaf.certFile, '+cf', certs.caFile, '-od', received, String(port)], { stdio: 'ignore' }));
    const mutual = { ca: certs.ca, cert: certs.client.cert, key: certs.client.key };
    await waitFor('storescp +tls listening', () => echo({ host: '127.0.0.1', port, calledAe: 'ARCHIVE', tls: mutual }).then(() => true, () => undefined), 10_000, 100);

    const results = { what: 'results', when: 'immediate', privacy: 'identified' };
    const config = await writeConfig(dir, [
      { id: 'archive', type: 'dimse', aeTitle: 'ARCHIVE', host: '127.0.0.1', port, tls: { caFile: certs.caFile, certFile: certs.client.certFile, keyFile: certs.client.keyFile }, policy: results },
      { id: 'no-client-cert', type: 'dimse', aeTitle: 'ARCHIVE', host: '127.0.0.1', port, tls: { caFile: certs.caFile }, policy: results },
    ]);
    const node = await startMedge({ dataDir: join(dir, 'data'), args: ['--config', config] });
    try {
      const templates = await writePhantoms(join(dir, 'templates'));
      const study = await newStudy(templates.pos, dir, 1);
      await sendTo(node.dicomPort, study.files);
      const st = await waitFor('results confirmed at the archive, and the other destination down', async () => {
        const s = await uplinkStatus(node.httpUrl);
        const ok = s.destinations.find((d) => d.id === 'archive')!;
        const refused = s.destinations.find((d) => d.id === 'no-client-cert')!;
        return ok.queue.confirmed >= 3 && ok.queue.pending === 0 && refused.link === 'down' ? s : undefined;
      }, 60_000, 250);
      const sops = new Set<string>();
      for (const name of await readdir(received)) sops.add(readFileMeta(await readFile(join(received, name)))!.mediaStorageSopInstanceUid);
      assert.ok(sops.size >= 3, `the archive holds the results (${sops.size})`);
      const refused = st.destinations.find((d) => d.id === 'no-client-cert')!;
      assert.equal(refused.queue.confirmed, 0);
      assert.match(refused.reason ?? '', /TLS with ARCHIVE@127\.0\.0\.1:\d+ \(TLS\) failed: the destination requires a client certificate: give the node's certificate and key \(`certFile`, `keyFile`\) \[ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\]/, String(refused.reason));
    } finally {
      await node.stop();
    }
  } finally {
    for (const p of peers) p.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
});
