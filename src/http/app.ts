import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Ingest } from '../ingest/types.js';
import type { Db, InstanceIndex } from '../store/index-db.js';
import type { BlobStore } from '../store/blob-store.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { Logger } from '../observability/log.js';
import { installErrorHandler } from './error-handler.js';
import { installBasicAuth } from './basic-auth.js';
import type { HttpUser } from '../config/schema.js';
import { registerDicomweb } from '../dicomweb/routes.js';
import type { NodeEvents } from '../events/node-events.js';
import type { DashboardHub } from '../alerts/channels/dashboard.js';
import { registerStudyRoutes } from './study-routes.js';
import type { StudyRemover } from '../store/study-removal.js';
import { registerAlertRoutes, type AlertAcknowledger } from './alert-routes.js';
import { registerEventRoutes } from './event-routes.js';
import { registerUplinkRoutes, type UplinkApi } from './uplink-routes.js';

export interface HttpAppDeps {
  ingest: Ingest;
  db: Db;
  index: InstanceIndex;
  store: BlobStore;
  metrics: MetricsRegistry;
  log: Logger;
  /** The node's health, answered as JSON by GET /api/health. */
  health: () => object;
  /** The alert dispatcher: without it POST /api/alerts/:id/ack is not served. */
  alerts?: AlertAcknowledger;
  /** The dashboard's server-sent events hub: without it GET /api/events is not served. */
  dashboard?: DashboardHub;
  /** The uplink: without it /api/uplink is not served. */
  uplink?: UplinkApi;
  /** The node's events: STOW-RS tells the end of each request ('request-complete') so the pipeline need not wait for a timer. */
  events?: NodeEvents;
  /** Removes studies (DELETE /api/studies/:uid); without it the route is not served. */
  remover?: StudyRemover;
  /** http.users: HTTP Basic credentials required of every route but health and metrics (basic-auth.ts); none: open. */
  users?: readonly HttpUser[];
  /** http.tls, read: HTTPS instead of HTTP. */
  https?: { cert: Buffer; key: Buffer };
}

/** Prometheus text exposition format (the one MetricsRegistry.render writes). */
const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Readable high-water mark of request bodies (and of sockets, both ways), bytes. */
const REQUEST_HIGH_WATER_MARK = 1024 * 1024;

/**
 * Builds the HTTP app (not yet listening): health, metrics, the worklist, study, alert and event
 * API under /api, and DICOMweb (PS3.18) under /dicom-web.
 * The caller listens (`app.listen({ port, host })`) and closes it.
 */
export function createHttpApp(deps: HttpAppDeps): FastifyInstance {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the generic parameters differ only in name.
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    // fastify's per-request logs carry the URL, and QIDO URLs carry patient IDs (house style 12).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    // Large STOW-RS uploads and WADO-RS downloads take as long as the network needs.
    requestTimeout: 0,
    // A request body is buffered up to 1 MiB before the socket is paused (Node 20's default is
    // 16 KB, under one 64 KB read: STOW-RS paused and resumed the socket on every read).
    ...(deps.https ? { https: { ...deps.https, highWaterMark: REQUEST_HIGH_WATER_MARK } } : { http: { highWaterMark: REQUEST_HIGH_WATER_MARK } }),
  });
  installErrorHandler(app, deps.log);
  installBasicAuth(app, deps.users ?? [], deps.log);
  const requests = deps.metrics.counter('medge_http_requests_total', 'HTTP requests answered, by route and status class');
  app.addHook('onResponse', async (request, reply) => {
    requests.inc({ route: request.routeOptions.url ?? 'unmatched', status: `${Math.floor(reply.statusCode / 100)}xx` });
  });

  app.get('/api/health', async () => deps.health());
  app.get('/metrics', async (_request, reply) => reply.header('content-type', METRICS_CONTENT_TYPE).send(deps.metrics.render()));

  const authenticated = (deps.users?.length ?? 0) > 0;
  registerStudyRoutes(app, { ...deps, authenticated });
  registerAlertRoutes(app, { ...deps, authenticated });
  if (deps.dashboard) registerEventRoutes(app, { dashboard: deps.dashboard });
  if (deps.uplink) registerUplinkRoutes(app, { uplink: deps.uplink, authenticated });
  app.register(async (scope) => registerDicomweb(scope, deps), { prefix: '/dicom-web' });
  return app;
}
