import { readFile } from 'node:fs/promises';
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

async function readPem(file: string, owner: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new MedgeError('MEDGE_ERR_CONFIG_FILE', `${owner}: cannot read the ${what} file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { file }, err);
  }
}
