/**
 * HTTP Basic authentication (RFC 7617) of the HTTP API and DICOMweb against `http.users`. Checked
 * in onRequest, before any body is read: a STOW-RS without credentials is refused before its first
 * byte is stored. /api/health and /metrics stay open (no patient data; monitoring reads them).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpUser } from '../config/schema.js';
import { MedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';

/** Routes monitoring reads without credentials. */
const OPEN_PATHS = new Set(['/api/health', '/metrics']);
/** RFC 7617 2.1: the realm, and UTF-8 for user-id and password. */
const CHALLENGE = 'Basic realm="medge", charset="UTF-8"';

export function installBasicAuth(app: FastifyInstance, users: readonly HttpUser[], log: Logger): void {
  if (users.length === 0) return;
  const byName = new Map(users.map((u) => [u.username, digest(u.password)]));
  app.addHook('onRequest', async (request, reply) => {
    if (OPEN_PATHS.has(request.url.split('?')[0]!)) return;
    const given = credentials(request);
    const expected = given && byName.get(given.username);
    // Compared in constant time whether or not the user exists: the timing tells nothing.
    const ok = timingSafeEqual(digest(given?.password ?? ''), expected ?? digest('\0no user')) && expected !== undefined;
    if (ok) return;
    log.warn({ event: 'http-auth-failed', user: given?.username ?? null, remote: request.socket.remoteAddress ?? null, method: request.method }, 'HTTP request without valid credentials refused');
    reply.header('www-authenticate', CHALLENGE);
    throw new MedgeError('MEDGE_ERR_HTTP_UNAUTHORIZED', given ? `user ${given.username} is not in http.users or its password is wrong` : 'this node requires HTTP Basic credentials of a user in http.users');
  });
}

/** The user-id and password of an `Authorization: Basic` header (RFC 7617 2), or undefined. */
function credentials(request: FastifyRequest): { username: string; password: string } | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
