/**
 * The DIMSE listener (house style 6: start, stop, status). Accepts TCP connections on
 * config.host:config.port (0 = a free port), and DICOM TLS connections on config.tls.port when
 * configured (tls-listener.ts), and serves each as an association (scp-association.ts):
 * Verification, Storage of every standard storage SOP class through ingest, and Study Root C-FIND.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { MedgeConfig } from '../config/schema.js';
import { MedgeError } from '../errors.js';
import type { NodeEvents } from '../events/node-events.js';
import type { Ingest } from '../ingest/types.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { Logger } from '../observability/log.js';
import type { Db } from '../store/index-db.js';
import { ScpAssociation } from './scp-association.js';
import { withReadBuffer } from './read-buffer.js';
import { createTlsListener, reloadTlsListener } from './tls-listener.js';
import type { CommitmentScp } from '../commitment/commitment.js';
import type { BlobStore } from '../store/blob-store.js';
import type { InstanceIndex } from '../store/index-db.js';
import type { RemoteAeTable } from './remote-aes.js';
import type { RetrieveDeps } from './scp-retrieve.js';

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
  /** Storage commitment (PS3.4 J), when the node offers it. */
  commitment?: CommitmentScp;
  /** The index and store C-MOVE and C-GET send from, and where C-MOVE destinations listen. */
  retrieve?: { index: InstanceIndex; store: BlobStore; remoteAes: RemoteAeTable };
}

/** What an association needs to retrieve: where the instances are, where C-MOVE destinations listen, and a counter. */
export type RetrieveSources = NonNullable<DimseServerDeps['retrieve']> & { counted?: RetrieveDeps['counted'] };

export interface DimseServerStatus {
  listening: boolean;
  port: number | null;
  /** Port of the DICOM TLS listener; null when none is configured or it is stopped. */
  tlsPort: number | null;
  aeTitle: string;
  activeAssociations: number;
  /** Associations accepted since start. */
  acceptedAssociations: number;
}

export interface DimseServer {
  /** Listens; resolves with the bound ports. Rejects with a MedgeError if a port cannot be bound or the TLS files cannot be used. */
  start(): Promise<{ port: number; tlsPort: number | null }>;
  /** Stops listening, aborts open associations (A-ABORT) and waits until they are closed. */
  stop(): Promise<void>;
  status(): DimseServerStatus;
  /** Re-reads the TLS listener's certificate, key and CA (SIGHUP); false when there is no TLS listener. Throws, keeping the running ones, on a bad file. */
  reloadTls(): boolean;
}

export function createDimseServer(deps: DimseServerDeps): DimseServer {
  const { config, log } = deps;
  const associations = new Set<ScpAssociation>();
  const results = deps.metrics.counter('medge_dimse_associations_total', 'DIMSE associations by result (accepted, rejected, released, aborted)');
  const rejections = deps.metrics.counter('medge_dimse_rejections_total', 'A-ASSOCIATE-RJ sent, by reason');
  deps.metrics.gauge('medge_dimse_active_associations', 'DIMSE associations open now', (g) => g.set({}, associations.size));
  const tlsRefused = deps.metrics.counter('medge_dimse_tls_refused_total', 'TLS handshakes the DICOM TLS listener refused, by OpenSSL / Node error code');
  const subOperations = deps.metrics.counter('medge_retrieve_suboperations_total', 'C-STORE sub-operations of C-MOVE and C-GET, by kind and result (completed, failed, warning)');
  const retrieve: RetrieveSources | undefined = deps.retrieve && { ...deps.retrieve, counted: (kind, result) => subOperations.inc({ kind, result }) };
  let servers: Server[] = [];
  /** The DICOM TLS listener among `servers`, when configured. */
  let secureServer: TlsServer | undefined;
  let port: number | null = null;
  let tlsPort: number | null = null;
  let accepted = 0;

  /** A plain connection reads into its own buffer (read-buffer.ts); a TLS one gets its plaintext as data events. */
  function onConnection(raw: Socket, secure = false): void {
    const socket = secure ? raw : withReadBuffer(raw, READ_BUFFER_BYTES);
    socket.setNoDelay(true);
    const assoc = new ScpAssociation(socket, {
      config,
      ingest: deps.ingest,
      db: deps.db,
      events: deps.events,
      log,
      commitment: deps.commitment,
      retrieve,
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
    async start() {
      if (servers.length) throw new MedgeError('MEDGE_ERR_INTERNAL', 'the DIMSE server is already started');
      const plain = createServer({ noDelay: true, pauseOnConnect: true }, (s) => onConnection(s));
      servers = [plain];
      try {
        port = await listen(plain, config.port, 'dicom.port');
        log.info({ event: 'dimse-listening', host: config.host, port, aeTitle: config.aeTitle });
        if (config.tls) {
          const secure = createTlsListener(config.tls, log, (s) => onConnection(s, true), (code) => tlsRefused.inc({ code }));
          servers.push(secure);
          secureServer = secure;
          tlsPort = await listen(secure, config.tls.port, 'dicom.tls.port');
          log.info({ event: 'dimse-tls-listening', host: config.host, port: tlsPort, clientCertificates: config.tls.caFile ? 'required' : 'not asked' });
        }
      } catch (err) {
        await closeServers();
        throw err;
      }
      return { port, tlsPort };
    },

    async stop() {
      if (!servers.length) return;
      const closed = closeServers();
      for (const a of associations) a.abort();
      await Promise.all([...associations].map((a) => a.closed));
      await closed;
      log.info({ event: 'dimse-stopped' });
    },

    reloadTls() {
      if (!config.tls || !secureServer) return false;
      reloadTlsListener(secureServer, config.tls);
      log.info({ event: 'dimse-tls-reloaded', certFile: config.tls.certFile });
      return true;
    },

    status() {
      return { listening: servers.length > 0, port, tlsPort, aeTitle: config.aeTitle, activeAssociations: associations.size, acceptedAssociations: accepted };
    },
  };

  /** Binds `srv` on config.host:`wanted` (0: a free port); resolves with the port, rejects naming `key`. */
  function listen(srv: Server, wanted: number, key: string): Promise<number> {
    return new Promise((resolve, reject) => {
      srv.once('error', (err: NodeJS.ErrnoException) => {
        reject(new MedgeError('MEDGE_ERR_NODE_LISTEN', `${key}: cannot listen on ${config.host}:${wanted} (${err.code ?? err.message})`, { key, host: config.host, port: wanted }, err));
      });
      srv.listen({ host: config.host, port: wanted }, () => {
        const address = srv.address();
        srv.on('error', (err) => log.error({ event: 'dimse-listener-error', reason: err.message }));
        resolve(typeof address === 'object' && address ? address.port : wanted);
      });
    });
  }

  /** Stops accepting on every listener; resolves once they are closed. */
  function closeServers(): Promise<void> {
    const closing = servers.filter((srv) => srv.listening).map((srv) => new Promise<void>((resolve) => srv.close(() => resolve())));
    servers = [];
    secureServer = undefined;
    port = null;
    tlsPort = null;
    return Promise.all(closing).then(() => undefined);
  }
}
