import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../store/index-db.js';
import { MedgeError } from '../errors.js';
import { listAlerts, readAlert, type AlertView } from '../alerts/alert-views.js';
import { parseLimit } from './study-routes.js';

/** What the ack route needs of the dispatcher. */
export interface AlertAcknowledger {
  acknowledge(alertId: string, by: string): AlertView;
}

/** Longest name accepted in `by`, characters. */
const MAX_BY = 200;

/** Whether the TCP peer is this host (127.0.0.0/8, ::1, or IPv4-mapped 127.x). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** The peer address of the connection itself: no proxy header is trusted for this check. */
function peerAddress(request: FastifyRequest): string | undefined {
  return request.raw.socket?.remoteAddress;
}

/**
 * GET /api/alerts (?state=active|retracted, ?unacknowledged=true, ?limit=), GET /api/alerts/:id,
 * and POST /api/alerts/:id/ack { "by": "Dr X" }. Until authentication arrives the acknowledgement
 * is accepted only from loopback (a browser on the node, or a proxy on it that authenticates).
 */
/** `authenticated`: http.users is configured (basic-auth.ts), so a request that got here carries valid credentials. */
export function registerAlertRoutes(app: FastifyInstance, deps: { db: Db; alerts?: AlertAcknowledger; authenticated?: boolean }): void {
  app.get('/api/alerts', async (request) => {
    const q = request.query as { state?: string; unacknowledged?: string; limit?: string };
    if (q.state !== undefined && q.state !== 'active' && q.state !== 'retracted') {
      throw new MedgeError('MEDGE_ERR_HTTP_BAD_REQUEST', 'state must be active or retracted', { state: q.state });
    }
    return { alerts: listAlerts(deps.db, { state: q.state, unacknowledged: q.unacknowledged === 'true', limit: parseLimit(q.limit) }) };
  });

  app.get('/api/alerts/:id', async (request) => {
    const { id } = request.params as { id: string };
    const alert = readAlert(deps.db, id);
    if (!alert) throw new MedgeError('MEDGE_ERR_ALERT_NOT_FOUND', `no alert ${id}`, { alertId: id });
    return alert;
  });

  const acknowledger = deps.alerts;
  if (!acknowledger) return;
  app.post('/api/alerts/:id/ack', async (request) => {
    const { id } = request.params as { id: string };
    const address = peerAddress(request);
    if (!deps.authenticated && !isLoopback(address)) {
      throw new MedgeError('MEDGE_ERR_HTTP_FORBIDDEN', 'alerts can be acknowledged only from the node itself (loopback) until authentication (http.users) is configured', { remoteAddress: address ?? null });
    }
    const body = request.body as { by?: unknown } | undefined;
    const by = typeof body?.by === 'string' ? body.by.trim() : '';
    if (by.length === 0 || by.length > MAX_BY) {
      throw new MedgeError('MEDGE_ERR_HTTP_BAD_REQUEST', `the body must be JSON { "by": "<who acknowledges, 1 to ${MAX_BY} characters>" }`, { field: 'by' });
    }
    return acknowledger.acknowledge(id, by);
  });
}
