import type { FastifyRequest } from 'fastify';
import { MedgeError } from '../errors.js';

/** Whether the TCP peer is this host (127.0.0.0/8, ::1, or IPv4-mapped 127.x). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * The rule for requests that change something a person is accountable for (acknowledging an alert,
 * retrying an upload, removing a study): with http.users configured (`authenticated`: the request
 * got past basic-auth.ts) from anywhere, otherwise only from the node itself (a browser on it, or a
 * proxy on it that authenticates). The peer address is the connection's own: no proxy header is
 * trusted for this. Throws MEDGE_ERR_HTTP_FORBIDDEN naming `what`.
 */
export function requireLocalOrAuthenticated(request: FastifyRequest, authenticated: boolean | undefined, what: string): void {
  const address = request.raw.socket?.remoteAddress;
  if (authenticated || isLoopback(address)) return;
  throw new MedgeError('MEDGE_ERR_HTTP_FORBIDDEN', `${what} only from the node itself (loopback) until authentication (http.users) is configured`, { remoteAddress: address ?? null });
}

/** Longest name accepted in `by`, characters. */
const MAX_BY = 200;

/** The `by` of a JSON body { "by": "Dr X" }: who did it, for the record. Throws MEDGE_ERR_HTTP_BAD_REQUEST. */
export function accountableName(body: unknown, what: string): string {
  const by = typeof (body as { by?: unknown } | undefined)?.by === 'string' ? (body as { by: string }).by.trim() : '';
  if (by.length === 0 || by.length > MAX_BY) {
    throw new MedgeError('MEDGE_ERR_HTTP_BAD_REQUEST', `the body must be JSON { "by": "<who ${what}, 1 to ${MAX_BY} characters>" }`, { field: 'by' });
  }
  return by;
}
