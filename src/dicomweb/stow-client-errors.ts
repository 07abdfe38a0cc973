import { MedgeError } from '../errors.js';
import { tlsProblem } from '../util/tls-problems.js';

/**
 * One translator from what an HTTP exchange with a DICOMweb destination can go wrong into the
 * catalogue (house style 4). Every error carries `fields.retryable`: true when the same request
 * may succeed later without anyone changing anything (the link, a busy server), false when a
 * person must act (credentials, CA, URL, the data itself).
 */

/** Socket errors that a later attempt may not meet (the link or the destination is down). */
const NETWORK_PROBLEMS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection broken while sending',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EHOSTDOWN: 'host down',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed for now',
  ECONNABORTED: 'connection aborted',
  UND_ERR_SOCKET: 'connection closed',
};

export interface Destination {
  /** The base URL without credentials (never logged with them). */
  url: string;
}

/** An error of the socket, TLS or timer layer, classified. */
export function transportError(err: unknown, dest: Destination): MedgeError {
  if (err instanceof MedgeError) return err;
  const e = err as NodeJS.ErrnoException & { reason?: string };
  let code = e?.code ?? '';
  // Node reports some handshake failures as EPROTO with OpenSSL's reason only in the message.
  if (code === 'EPROTO' && /wrong version number/i.test(e.message ?? '')) code = 'ERR_SSL_WRONG_VERSION_NUMBER';
  const tls = tlsProblem(code);
  if (tls) {
    return new MedgeError('MEDGE_ERR_UPLINK_TLS', `TLS with ${dest.url} failed: ${tls} [${code}]`, { url: dest.url, tlsCode: code, retryable: false }, err);
  }
  const net = NETWORK_PROBLEMS[code] ?? (/socket hang up/i.test(e?.message ?? '') ? 'the connection closed before an answer' : undefined);
  if (net) {
    return new MedgeError('MEDGE_ERR_UPLINK_NETWORK', `${dest.url}: ${net} [${code || 'closed'}]; retried later`, { url: dest.url, errno: code, retryable: true }, err);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new MedgeError('MEDGE_ERR_UPLINK_NETWORK', `${dest.url}: ${message}`, { url: dest.url, errno: code, retryable: true }, err);
}

/** No progress (connect, bytes sent or received) for `ms`: the link is dead or the peer stalled. */
export function timeoutError(ms: number, dest: Destination, phase: string): MedgeError {
  return new MedgeError('MEDGE_ERR_UPLINK_NETWORK', `${dest.url}: no progress for ${ms} ms while ${phase} (timed out); retried later`, { url: dest.url, errno: 'ETIMEDOUT', phase, retryable: true });
}

/**
 * An HTTP status that is not a STOW-RS answer with per-instance results. `snippet` is the start of
 * the body, for the message (destinations put the reason there); `retryAfter` the header's value.
 */
export function httpStatusError(status: number, dest: Destination, snippet: string, headers: { retryAfter?: string; wwwAuthenticate?: string; location?: string } = {}): MedgeError {
  const said = snippet ? `: ${snippet.replace(/\s+/g, ' ').slice(0, 200)}` : '';
  const base = { url: dest.url, httpStatus: status };
  if (status === 401 || status === 403) {
    const scheme = headers.wwwAuthenticate ? ` (it asks for ${headers.wwwAuthenticate.split(/[ ,]/)[0]})` : '';
    const what = status === 401 ? 'refused the credentials or got none' : 'forbids this account to store';
    return new MedgeError('MEDGE_ERR_UPLINK_AUTH', `${dest.url} ${what}: HTTP ${status}${scheme}; check the user and password or the token${said}`, { ...base, retryable: false });
  }
  if (status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505)) {
    const retryAfterMs = parseRetryAfter(headers.retryAfter);
    return new MedgeError('MEDGE_ERR_UPLINK_UNAVAILABLE', `${dest.url} answered HTTP ${status}; retried later${said}`, { ...base, retryable: true, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  }
  if (status >= 300 && status < 400) {
    return new MedgeError('MEDGE_ERR_UPLINK_REJECTED', `${dest.url} redirects (HTTP ${status}) to ${headers.location ?? 'elsewhere'}: set the base URL to the final address`, { ...base, retryable: false });
  }
  return new MedgeError('MEDGE_ERR_UPLINK_REJECTED', `${dest.url} rejected the request: HTTP ${status}${said}`, { ...base, retryable: false });
}

/** A 2xx whose body is not the dicom+json STOW answer: the instances may be stored; check before resending. */
export function responseError(status: number, dest: Destination, problem: string): MedgeError {
  return new MedgeError('MEDGE_ERR_UPLINK_RESPONSE', `${dest.url} answered HTTP ${status} but ${problem}; check at the destination before sending again`, { url: dest.url, httpStatus: status, retryable: true });
}

/** Retry-After (RFC 9110 10.2.3): seconds or an HTTP date; in ms from now. */
export function parseRetryAfter(value: string | undefined, nowMs = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Whether an error of this module says that trying again later may work. */
export function isRetryable(err: unknown): boolean {
  return err instanceof MedgeError && err.fields.retryable === true;
}
