/**
 * The DICOM TLS flags of the SCU commands (`medge echo`, `medge send`): PS3.15 B.1 to a peer, for
 * example a node's own TLS listener (dicom.tls) or an archive's TLS port.
 */
import { readFile } from 'node:fs/promises';
import type { ScuTlsOptions } from '../dimse/scu-association.js';
import { MedgeError } from '../errors.js';
import { tlsProblem, type TlsRemedies } from '../util/tls-problems.js';

const FLAG_REMEDIES: TlsRemedies = { ca: '--ca', clientCertificate: '--cert, --key', withoutTls: 'leave out --tls' };

export const TLS_FLAGS = {
  tls: { type: 'boolean' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
} as const;

export const TLS_HELP = `  --tls                DICOM TLS (PS3.15 B.1) to the peer, TLS 1.2 or later
  --ca FILE            PEM file of the CA(s) that signed the peer's certificate
                       (default: the system's list); implies --tls
  --cert FILE          this node's certificate and its unencrypted private key,
  --key FILE           PEM, for a peer that requires a client certificate; imply --tls`;

/** The TLS options the flags ask for, files read; undefined without any TLS flag. */
export async function tlsFromFlags(values: { tls?: boolean; ca?: string; cert?: string; key?: string }): Promise<ScuTlsOptions | undefined> {
  if (!values.tls && values.ca === undefined && values.cert === undefined && values.key === undefined) return undefined;
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw new MedgeError('MEDGE_ERR_CLI_USAGE', '--cert and --key go together (this node\'s certificate and its private key)');
  }
  const read = async (flag: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw new MedgeError('MEDGE_ERR_CLI_USAGE', `${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { flag });
    }
  };
  return { ca: await read('--ca', values.ca), cert: await read('--cert', values.cert), key: await read('--key', values.key) };
}

/** What to do about a failed TLS connection, in terms of the flags; undefined when `err` is not a TLS failure. */
export function tlsAdvice(err: unknown): string | undefined {
  const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
  return tlsProblem(cause?.code ?? '', FLAG_REMEDIES);
}
