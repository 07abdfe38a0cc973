/**
 * What a person should do about a TLS failure, by OpenSSL / Node error code: one table for the
 * uplink's STOW-RS client, its DIMSE SCU and the command line. The remedies name what the person
 * can change: by default a destination's config keys (`caFile`; DIMSE: under `tls`), or the
 * command's flags (cli/tls-flags.ts).
 */
export interface TlsRemedies {
  /** Where to give the peer's CA. */
  ca: string;
  /** Where to give the node's certificate and key. */
  clientCertificate: string;
  /** The alternative of not using TLS. */
  withoutTls: string;
}

export const CONFIG_REMEDIES: TlsRemedies = { ca: '`caFile`', clientCertificate: '`certFile`, `keyFile`', withoutTls: 'no TLS (http://)' };

const TLS_PROBLEMS: Record<string, (r: TlsRemedies) => string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: (r) => `the certificate is not trusted (its issuer is unknown): give the destination's CA (${r.ca})`,
  UNABLE_TO_GET_ISSUER_CERT: (r) => `the certificate is not trusted (its issuer is unknown): give the destination's CA (${r.ca})`,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: (r) => `the certificate is not trusted (its issuer is unknown): give the destination's CA (${r.ca})`,
  SELF_SIGNED_CERT_IN_CHAIN: (r) => `the certificate is not trusted (a self-signed CA not in the trust store): give that CA (${r.ca})`,
  DEPTH_ZERO_SELF_SIGNED_CERT: (r) => `the certificate is not trusted (self-signed): give it as the CA (${r.ca}) or use a certificate from a CA`,
  CERT_HAS_EXPIRED: () => 'the certificate has expired: the destination must renew it',
  CERT_NOT_YET_VALID: () => 'the certificate is not valid yet: check the clocks of this node and the destination',
  CERT_REVOKED: () => 'the certificate has been revoked',
  CERT_SIGNATURE_FAILURE: () => 'the certificate signature does not verify',
  ERR_TLS_CERT_ALTNAME_INVALID: () => 'the certificate does not name this host: use the host name the certificate was issued for',
  ERR_SSL_WRONG_VERSION_NUMBER: (r) => `the destination does not speak TLS on this port: use its TLS port, or ${r.withoutTls}`,
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: () => 'the destination does not trust this node\'s client certificate',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: (r) => `the destination requires a client certificate: give the node's certificate and key (${r.clientCertificate})`,
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: () => 'no TLS version or cipher in common with the destination',
  EPROTO: () => 'the TLS handshake failed (protocol error)',
};

/** The explanation for `code`, a generic one for another TLS code, undefined for a code that is not TLS. */
export function tlsProblem(code: string, remedies: TlsRemedies = CONFIG_REMEDIES): string | undefined {
  const problem = TLS_PROBLEMS[code];
  if (problem) return problem(remedies);
  return code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.includes('CERT') ? `TLS failed (${code})` : undefined;
}
