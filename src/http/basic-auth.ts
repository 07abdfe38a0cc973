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
  const failures = new FailureLog(log);
  app.addHook('onRequest', async (request, reply) => {
    if (OPEN_PATHS.has(request.url.split('?')[0]!)) return;
    const given = credentials(request);
    const expected = given && byName.get(given.username);
    // Compared in constant time whether or not the user exists: the timing tells nothing.
    const ok = timingSafeEqual(digest(given?.password ?? ''), expected ?? digest('\0no user')) && expected !== undefined;
    if (ok) return;
    failures.note(request.socket.remoteAddress ?? null, given?.username ?? null, request.method);
    reply.header('www-authenticate', CHALLENGE);
    throw new MedgeError('MEDGE_ERR_HTTP_UNAUTHORIZED', given ? `user ${given.username} is not in http.users or its password is wrong` : 'this node requires HTTP Basic credentials of a user in http.users');
  });
}

/** A refused request is logged once a minute per address and user, with how many were refused since. */
const FAILURE_LOG_EVERY_MS = 60_000;
/** Addresses and users remembered for that; beyond, the memory starts over. */
const FAILURE_KEYS = 1000;

/** `http-auth-failed` events, at most one a minute per address and user (a client retrying every second would flood the log). */
export class FailureLog {
  private readonly last = new Map<string, { at: number; refused: number }>();

  constructor(private readonly log: Logger, private readonly now: () => number = () => performance.now()) {}

  note(remote: string | null, user: string | null, method: string): void {
    const key = `${remote}|${user}`;
    const t = this.now();
    const seen = this.last.get(key);
    if (seen && t - seen.at < FAILURE_LOG_EVERY_MS) {
      seen.refused++;
      return;
    }
    if (!seen && this.last.size >= FAILURE_KEYS) this.last.clear();
    this.log.warn({ event: 'http-auth-failed', user, remote, method, refusedSinceLastLog: seen?.refused ?? 0 }, 'HTTP request without valid credentials refused');
    this.last.set(key, { at: t, refused: 0 });
  }
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
