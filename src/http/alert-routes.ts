import type { FastifyInstance } from 'fastify';
import type { Db } from '../store/index-db.js';
import { MedgeError } from '../errors.js';
import { listAlerts, readAlert, type AlertView } from '../alerts/alert-views.js';
import { parseLimit } from './study-routes.js';
import { accountableName, requireLocalOrAuthenticated } from './writes-allowed.js';

/** What the ack route needs of the dispatcher. */
export interface AlertAcknowledger {
  acknowledge(alertId: string, by: string): AlertView;
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
    requireLocalOrAuthenticated(request, deps.authenticated, 'alerts can be acknowledged');
    return acknowledger.acknowledge(id, accountableName(request.body, 'acknowledges'));
  });
}
