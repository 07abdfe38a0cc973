import type { FastifyInstance } from 'fastify';
import { MedgeError } from '../errors.js';
import type { Uplink } from '../uplink/uplink.js';
import { requireLocalOrAuthenticated } from './writes-allowed.js';

/** What the routes need of the uplink. */
export type UplinkApi = Pick<Uplink, 'status' | 'retry' | 'retryAll'>;

/**
 * GET /api/uplink: per destination, the queue depth, oldest item age, link state and reason,
 * parked items with their reasons, bytes sent by kind and the reduction; bytes received.
 * POST /api/uplink/retry { "id": N } or { "all": true, "destination"?: ID }: parked and waiting
 * items due again now, breakers closed. Like the alert acknowledgement, from loopback only unless
 * http.users is configured.
 */
export function registerUplinkRoutes(app: FastifyInstance, deps: { uplink: UplinkApi; authenticated?: boolean }): void {
  app.get('/api/uplink', async () => deps.uplink.status());

  app.post('/api/uplink/retry', async (request) => {
    requireLocalOrAuthenticated(request, deps.authenticated, 'uplink items can be retried');
    const body = (request.body ?? {}) as { id?: unknown; all?: unknown; destination?: unknown };
    if (body.all === true) {
      if (body.destination !== undefined && typeof body.destination !== 'string') throw new MedgeError('MEDGE_ERR_HTTP_BAD_REQUEST', 'destination must be a destination id', { field: 'destination' });
      return deps.uplink.retryAll(body.destination as string | undefined);
    }
    if (typeof body.id !== 'number' || !Number.isInteger(body.id) || body.id < 1) {
      throw new MedgeError('MEDGE_ERR_HTTP_BAD_REQUEST', 'the body must be JSON { "id": <item id> } or { "all": true, "destination"?: "<id>" }', { field: 'id' });
    }
    return deps.uplink.retry(body.id);
  });
}
