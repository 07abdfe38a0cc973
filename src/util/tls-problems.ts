/**
 * What a person should do about a TLS failure, by OpenSSL / Node error code: one table for the
 * uplink's STOW-RS client and its DIMSE SCU. The config keys named are the destination's
 * (`caFile`; DIMSE: under `tls`).
 */
const TLS_PROBLEMS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate is not trusted (its issuer is unknown): give the destination\'s CA (`caFile`)',
  UNABLE_TO_GET_ISSUER_CERT: 'the certificate is not trusted (its issuer is unknown): give the destination\'s CA (`caFile`)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the certificate is not trusted (its issuer is unknown): give the destination\'s CA (`caFile`)',
  SELF_SIGNED_CERT_IN_CHAIN: 'the certificate is not trusted (a self-signed CA not in the trust store): give that CA (`caFile`)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is not trusted (self-signed): give it as the CA (`caFile`) or use a certificate from a CA',
  CERT_HAS_EXPIRED: 'the certificate has expired: the destination must renew it',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet: check the clocks of this node and the destination',
  CERT_REVOKED: 'the certificate has been revoked',
  CERT_SIGNATURE_FAILURE: 'the certificate signature does not verify',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate does not name this host: use the host name the certificate was issued for',
  ERR_SSL_WRONG_VERSION_NUMBER: 'the destination does not speak TLS on this port: use its TLS port, or no TLS (http://)',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'the destination does not trust this node\'s client certificate',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the destination requires a client certificate: give the node\'s certificate and key (`certFile`, `keyFile`)',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'no TLS version or cipher in common with the destination',
  EPROTO: 'the TLS handshake failed (protocol error)',
};

/** The explanation for `code`, a generic one for another TLS code, undefined for a code that is not TLS. */
export function tlsProblem(code: string): string | undefined {
  return TLS_PROBLEMS[code] ?? (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.includes('CERT') ? `TLS failed (${code})` : undefined);
}
