import type { FastifyInstance } from 'fastify';
import type { DashboardHub } from '../alerts/channels/dashboard.js';

/**
 * GET /api/events: the dashboard's server-sent event stream (text/event-stream). The hub writes
 * the frames; this route hands it the response and unhooks it when the browser goes away. The
 * streams are ended before the server closes, so that a node stop is not held up by open streams.
 */
export function registerEventRoutes(app: FastifyInstance, deps: { dashboard: DashboardHub }): void {
  app.addHook('preClose', async () => deps.dashboard.disconnectAll());
  app.get('/api/events', (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    request.raw.socket.setNoDelay(true);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and similar proxies buffer responses unless told not to.
      'x-accel-buffering': 'no',
    });
    const disconnect = deps.dashboard.connect({
      write: (chunk) => void res.write(chunk),
      end: () => res.end(),
      buffered: () => res.writableLength,
    });
    res.on('close', disconnect);
  });
}
