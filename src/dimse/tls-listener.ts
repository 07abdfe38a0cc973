/**
 * The DICOM TLS listener (PS3.15 B.1, the TLS Secure Transport Connection Profile): a second port
 * beside the plain one whose connections, once the TLS handshake is done, are served as any other
 * association. TLS 1.2 or later with Node's default ciphers, which are those BCP 195 recommends
 * (PS3.15 B.9: ECDHE with AES-GCM or ChaCha20-Poly1305, forward secrecy); dcmtk's default
 * "Non-downgrading BCP 195" profile connects to it (scp-tls.int.test.ts).
 *
 * With `caFile`, a sender must present a certificate signed by one of those CAs (mutual
 * authentication, as PS3.15 B.1 lets each side require); without it, the node authenticates itself
 * only. A refused handshake is logged with what the operator can do about it.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { DicomTlsListenerConfig } from '../config/schema.js';
import { MedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';

/** Why a sender's handshake failed, by OpenSSL / Node error code, for the log. */
const REFUSALS: Record<string, string> = {
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: 'the sender presented no certificate; this listener requires one signed by a CA of dicom.tls.caFile',
  ERR_SSL_CERTIFICATE_VERIFY_FAILED: 'the sender\'s certificate is not signed by a CA of dicom.tls.caFile, or has expired',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'the sender does not trust this node\'s certificate: give it the CA that signed dicom.tls.certFile',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the sender refused this node\'s certificate: give it the CA that signed dicom.tls.certFile',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'the sender refused this node\'s certificate: give it the CA that signed dicom.tls.certFile',
  ERR_SSL_WRONG_VERSION_NUMBER: 'the sender does not speak TLS: send to the plain DICOM port, or turn on TLS in the sender',
  ERR_SSL_HTTP_REQUEST: 'the sender spoke HTTP, not DICOM over TLS',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'the sender offers only TLS versions older than 1.2',
  ERR_SSL_NO_SHARED_CIPHER: 'no cipher in common with the sender (this listener offers the BCP 195 ciphers of TLS 1.2 and 1.3)',
  ECONNRESET: 'the sender closed the connection during the TLS handshake (a sender that does not trust this node\'s certificate may do that: give it the CA that signed dicom.tls.certFile)',
};

/** What to log about a refused TLS handshake. */
export function tlsRefusal(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return REFUSALS[code] ?? `the TLS handshake failed (${code || err.message})`;
}

/** The listener's PEM files, read now; one that cannot be read is a MEDGE_ERR_CONFIG_FILE naming its key. */
function readFiles(config: DicomTlsListenerConfig): { cert: Buffer; key: Buffer; ca?: Buffer } {
  const read = (key: 'certFile' | 'keyFile' | 'caFile'): Buffer => {
    const file = config[key]!;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new MedgeError('MEDGE_ERR_CONFIG_FILE', `dicom.tls.${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { key: `dicom.tls.${key}`, file }, err);
    }
  };
  return { cert: read('certFile'), key: read('keyFile'), ca: config.caFile !== undefined ? read('caFile') : undefined };
}

function unusable(err: unknown): MedgeError {
  return new MedgeError('MEDGE_ERR_CONFIG_FILE', `dicom.tls: the certificate, key or CA cannot be used (${(err as Error).message}); certFile and keyFile must be a PEM certificate and its unencrypted private key`, { key: 'dicom.tls' }, err);
}

/**
 * A TLS server for the listener, its certificate, key and CA read now: a file that cannot be read
 * or a key that does not fit the certificate is a MEDGE_ERR_CONFIG_FILE naming the key, at start.
 */
export function createTlsListener(config: DicomTlsListenerConfig, log: Logger, onSecure: (socket: TLSSocket) => void, onRefused?: (code: string) => void): Server {
  const files = readFiles(config);
  let server: Server;
  try {
    server = createServer({
      ...files,
      requestCert: files.ca !== undefined,
      rejectUnauthorized: files.ca !== undefined,
      minVersion: 'TLSv1.2',
      noDelay: true,
    }, onSecure);
  } catch (err) {
    throw unusable(err);
  }
  server.on('tlsClientError', (err, socket) => {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    onRefused?.(code);
    log.warn({ event: 'dicom-tls-refused', remote: socket.remoteAddress, code, reason: tlsRefusal(err) });
  });
  return server;
}

/**
 * Reads the listener's files again and uses them for the next handshakes (a renewed certificate,
 * a new CA bundle) without a restart; open associations keep theirs. Whether client certificates
 * are asked for stays as at start. On any error the running certificate stays and the error is thrown.
 */
export function reloadTlsListener(server: Server, config: DicomTlsListenerConfig): void {
  const files = readFiles(config);
  try {
    server.setSecureContext({ ...files, minVersion: 'TLSv1.2' });
  } catch (err) {
    throw unusable(err);
  }
}
