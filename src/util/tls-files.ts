import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { MedgeError } from '../errors.js';

/** The PEM file keys of a TLS client configuration: the peer's CA, and the node's certificate and key. */
export interface TlsFileConfig {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/**
 * Reads the PEM files a peer's configuration names (an uplink destination, a remote AE); `owner`
 * names the configuration entry in the MEDGE_ERR_CONFIG_FILE of a file that cannot be read.
 */
export async function readTlsFiles(f: TlsFileConfig, owner: string): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> {
  return {
    ca: f.caFile ? await readPem(f.caFile, owner, 'CA') : undefined,
    cert: f.certFile ? await readPem(f.certFile, owner, 'certificate') : undefined,
    key: f.keyFile ? await readPem(f.keyFile, owner, 'private key') : undefined,
  };
}

/**
 * A server's certificate and private key (PEM), read and checked now to be usable together (a key
 * that does not fit its certificate would otherwise fail only at the first handshake).
 */
export async function readServerPair(f: { certFile: string; keyFile: string }, owner: string): Promise<{ cert: Buffer; key: Buffer }> {
  const { cert, key } = await readTlsFiles(f, owner);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new MedgeError('MEDGE_ERR_CONFIG_FILE', `${owner}: the certificate and key cannot be used (${(err as Error).message}); certFile and keyFile must be a PEM certificate and its unencrypted private key`, { key: owner }, err);
  }
  return { cert: cert!, key: key! };
}

async function readPem(file: string, owner: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new MedgeError('MEDGE_ERR_CONFIG_FILE', `${owner}: cannot read the ${what} file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { file }, err);
  }
}
