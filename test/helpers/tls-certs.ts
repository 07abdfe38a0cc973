import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const OPENSSL_HINT = 'sudo apt-get install openssl';

/** A leaf certificate and its key, PEM, and the files they are in. */
export interface TestLeaf {
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
}

/**
 * A private CA and three leaves signed by it (P-256, valid two days), made in `dir` by the openssl
 * CLI: servers `leaf` (names 127.0.0.1) and `otherName` (another host), and `client` (clientAuth,
 * for a peer that authenticates its clients). `ca` is the CA certificate, PEM.
 */
export async function makeCertificates(dir: string): Promise<{ ca: string; caFile: string; leaf: TestLeaf; otherName: TestLeaf; client: TestLeaf }> {
  const p = (f: string) => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=medge test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const leaf = async (name: string, san: string, usage = 'serverAuth'): Promise<TestLeaf> => {
    await writeFile(p(`${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${usage}\n`);
    await run('openssl', ['req', ...ec, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${name}`]);
    await run('openssl', ['x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p(`${name}.pem`), '-days', '2', '-extfile', p(`${name}.ext`)]);
    return { key: await readFile(p(`${name}.key`), 'utf8'), cert: await readFile(p(`${name}.pem`), 'utf8'), keyFile: p(`${name}.key`), certFile: p(`${name}.pem`) };
  };
  return {
    ca: await readFile(p('ca.pem'), 'utf8'),
    caFile: p('ca.pem'),
    leaf: await leaf('loopback', 'IP:127.0.0.1'),
    otherName: await leaf('elsewhere', 'DNS:pacs.elsewhere.example'),
    client: await leaf('node', 'DNS:medge.node.example', 'clientAuth'),
  };
}
