/**
 * The DIMSE listener (house style 6: start, stop, status). Accepts TCP connections on
 * config.host:config.port (0 = a free port) and serves each as an association (scp-association.ts):
 * Verification, Storage of every standard storage SOP class through ingest, and Study Root C-FIND.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { MedgeConfig } from '../config/schema.js';
import { MedgeError } from '../errors.js';
import type { NodeEvents } from '../events/node-events.js';
import type { Ingest } from '../ingest/types.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { Logger } from '../observability/log.js';
import type { Db } from '../store/index-db.js';
import { ScpAssociation } from './scp-association.js';
import { withReadBuffer } from './read-buffer.js';

/**
 * Each connection reads into one buffer of this size (read-buffer.ts); a read takes what the
 * socket holds, up to it. Loopback reads average about 70 KB, so 256 KiB costs nothing in reads
 * and bounds the buffers at 16 MB for the default 64 associations.
 */
const READ_BUFFER_BYTES = 256 * 1024;

export interface DimseServerDeps {
  config: MedgeConfig['dicom'];
  ingest: Ingest;
  db: Db;
  events: NodeEvents;
  metrics: MetricsRegistry;
  log: Logger;
}

export interface DimseServerStatus {
  listening: boolean;
  port: number | null;
  aeTitle: string;
  activeAssociations: number;
  /** Associations accepted since start. */
  acceptedAssociations: number;
}

export interface DimseServer {
  /** Listens; resolves with the bound port. Rejects with a MedgeError if the port cannot be bound. */
  start(): Promise<{ port: number }>;
  /** Stops listening, aborts open associations (A-ABORT) and waits until they are closed. */
  stop(): Promise<void>;
  status(): DimseServerStatus;
}

export function createDimseServer(deps: DimseServerDeps): DimseServer {
  const { config, log } = deps;
  const associations = new Set<ScpAssociation>();
  const results = deps.metrics.counter('medge_dimse_associations_total', 'DIMSE associations by result (accepted, rejected, released, aborted)');
  const rejections = deps.metrics.counter('medge_dimse_rejections_total', 'A-ASSOCIATE-RJ sent, by reason');
  deps.metrics.gauge('medge_dimse_active_associations', 'DIMSE associations open now', (g) => g.set({}, associations.size));
  let server: Server | undefined;
  let port: number | null = null;
  let accepted = 0;

  function onConnection(raw: Socket): void {
    const socket = withReadBuffer(raw, READ_BUFFER_BYTES);
    socket.setNoDelay(true);
    const assoc = new ScpAssociation(socket, {
      config,
      ingest: deps.ingest,
      db: deps.db,
      events: deps.events,
      log,
      activeCount: () => associations.size - 1,
      onResult: (result, why) => {
        results.inc({ result });
        if (result === 'accepted') accepted++;
        if (why) rejections.inc({ reason: why });
      },
    });
    associations.add(assoc);
    void assoc.closed.then(() => associations.delete(assoc));
  }

  return {
    start() {
      if (server) return Promise.reject(new MedgeError('MEDGE_ERR_INTERNAL', 'the DIMSE server is already started'));
      const srv = createServer({ noDelay: true, pauseOnConnect: true }, onConnection);
      server = srv;
      return new Promise((resolve, reject) => {
        srv.once('error', (err: NodeJS.ErrnoException) => {
          server = undefined;
          reject(new MedgeError('MEDGE_ERR_NODE_LISTEN', `dicom.port: cannot listen on ${config.host}:${config.port} (${err.code ?? err.message})`, { key: 'dicom.port', host: config.host, port: config.port }, err));
        });
        srv.listen({ host: config.host, port: config.port }, () => {
          const address = srv.address();
          port = typeof address === 'object' && address ? address.port : config.port;
          srv.on('error', (err) => log.error({ event: 'dimse-listener-error', reason: err.message }));
          log.info({ event: 'dimse-listening', host: config.host, port, aeTitle: config.aeTitle });
          resolve({ port });
        });
      });
    },

    async stop() {
      const srv = server;
      server = undefined;
      if (!srv) return;
      const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
      for (const a of associations) a.abort();
      await Promise.all([...associations].map((a) => a.closed));
      await closed;
      port = null;
      log.info({ event: 'dimse-stopped' });
    },

    status() {
      return { listening: server !== undefined, port, aeTitle: config.aeTitle, activeAssociations: associations.size, acceptedAssociations: accepted };
    },
  };
}
