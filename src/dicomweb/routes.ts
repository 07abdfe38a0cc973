import type { FastifyInstance } from 'fastify';
import type { Ingest } from '../ingest/types.js';
import type { Db, InstanceIndex } from '../store/index-db.js';
import type { BlobStore } from '../store/blob-store.js';
import type { Logger } from '../observability/log.js';
import type { NodeEvents } from '../events/node-events.js';
import { registerStowRoutes } from './stow-routes.js';
import { registerWadoRoutes } from './wado-routes.js';
import { registerQidoRoutes } from './qido-routes.js';
import { registerFrameRoutes } from './wado-frames.js';
import { createDecoderPool, type DecoderPool } from '../dicom/codecs/index.js';

export interface DicomwebDeps {
  ingest: Ingest;
  db: Db;
  index: InstanceIndex;
  store: BlobStore;
  log: Logger;
  /** Optional: STOW-RS tells it the end of each request ('request-complete'). */
  events?: NodeEvents;
}

/** The DICOMweb services (PS3.18 10.4 WADO-RS, 10.5 STOW-RS, 10.6 QIDO-RS), mounted by the HTTP app. */
export async function registerDicomweb(app: FastifyInstance, deps: DicomwebDeps): Promise<void> {
  // STOW-RS replaces the body parsers, so it lives in a scope of its own.
  await app.register(async (scope) => registerStowRoutes(scope, deps));
  registerQidoRoutes(app, deps);
  registerWadoRoutes(app, deps);
  // One decoder thread, made when a compressed frame is first asked for uncompressed.
  let pool: DecoderPool | undefined;
  app.addHook('onClose', async () => {
    await pool?.close();
  });
  registerFrameRoutes(app, { ...deps, decoders: () => (pool ??= createDecoderPool({ size: 1 })) });
}
