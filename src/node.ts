import { mkdir, writeFile, rename } from 'node:fs/promises';
import type { Server as TlsServer } from 'node:tls';
import { join, resolve } from 'node:path';
import type { MedgeConfig } from './config/schema.js';
import { MedgeError } from './errors.js';
import { createLogger, type Logger } from './observability/log.js';
import { MetricsRegistry } from './observability/metrics.js';
import { NodeEvents } from './events/node-events.js';
import { createFsBlobStore } from './store/fs-blob-store.js';
import { InstanceIndex, moveIndexAside, openIndexDb } from './store/index-db.js';
import { recoverStore } from './ingest/recover.js';
import { StoreMarks } from './store/store-marks.js';
import { ConsistencyMarker } from './store/consistency-marker.js';
import { DiskForecast } from './store/disk-forecast.js';
import { StudyRemover } from './store/study-removal.js';
import { Retention } from './store/retention.js';
import { createIngest } from './ingest/ingest.js';
import { createDimseServer } from './dimse/scp.js';
import { createHttpApp } from './http/app.js';
import { createPipeline } from './pipeline/pipeline.js';
import { DashboardHub } from './alerts/channels/dashboard.js';
import { createAlertChannels } from './alerts/channels/create-channels.js';
import { createAlertDispatcher } from './alerts/dispatcher.js';
import { createUplink } from './uplink/uplink.js';
import { CommitmentReports } from './commitment/reports.js';
import { createCommitmentScp } from './commitment/commitment.js';
import { loadRemoteAes } from './dimse/remote-aes.js';
import { readServerPair } from './util/tls-files.js';

export interface RunningNode {
  /** dicomTls: the DICOM TLS listener's, when dicom.tls is configured. */
  ports: NodePorts;
  /**
   * Re-reads the certificates of the DICOM TLS listener (certificate, key, CA) and of HTTPS (on
   * SIGHUP): each used from the next handshake on; a file that cannot be used is logged and the
   * running certificate stays. False when neither is configured.
   */
  reloadCertificates(): Promise<boolean>;
  status(): Record<string, unknown>;
  stop(): Promise<void>;
}

export interface NodePorts {
  dicom: number;
  http: number;
  dicomTls?: number;
}

/** What one start does besides running the node (flags of `medge start`, not configuration). */
export interface StartOptions {
  /** Move a damaged index aside and build a new one from the instance files (`--rebuild-index`). */
  rebuildIndex?: boolean;
}

/**
 * The composition root (house style 6 and 7): builds every part with explicit dependencies, in
 * dependency order, starts the listeners, and stops them in reverse. A listener that cannot start
 * rejects the returned promise with the reason.
 */
export async function startNode(config: MedgeConfig, log: Logger = createLogger(config.log.level), options: StartOptions = {}): Promise<RunningNode> {
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const startedAt = Date.now();
  const metrics = new MetricsRegistry();
  const events = new NodeEvents();
  const store = createFsBlobStore(dataDir);
  const indexFile = join(dataDir, 'index.sqlite');
  if (options.rebuildIndex) {
    const aside = await moveIndexAside(indexFile);
    log.warn({ event: 'index-rebuilt', damagedIndex: aside ?? null }, 'the index is built again from the instance files; analyses, alerts, upload, removal and de-identification records start empty');
  }
  const index = new InstanceIndex(openIndexDb(indexFile));
  const marks = new StoreMarks(index.db);
  const removedStudies = metrics.counter('medge_studies_removed_total', 'Studies removed from the store, by reason (retention-age, retention-disk, operator)');
  const removedBytes = metrics.counter('medge_studies_removed_bytes_total', 'Bytes of instance files removed with their studies, by reason');
  const remover = new StudyRemover({
    db: index.db,
    index,
    store,
    log,
    onRemoved: (removed) => {
      removedStudies.inc({ reason: removed.reason });
      removedBytes.inc({ reason: removed.reason }, removed.bytes);
      events.emit('study-removed', removed);
    },
  });
  // A removal a crash interrupted is finished first: the check below would re-index its files.
  await remover.resume();
  const { reindexedSeries, ...repair } = await recoverStore(store, index, log, { marks, checkAll: config.store.checkAllAtStart });
  const ingest = createIngest({ store, index, events, metrics, log, minFreeBytes: config.store.minFreeBytes });
  const marker = new ConsistencyMarker({ marks, publishingSince: () => ingest.publishingSince(), log });
  marker.start();
  // Before anything starts: a TLS file of dicom.remoteAes or http.tls that cannot be used stops the start.
  const [remoteAes, https] = await Promise.all([
    loadRemoteAes(config.dicom.remoteAes),
    config.http.tls ? readServerPair(config.http.tls, 'http.tls') : undefined,
  ]).catch((err: unknown) => {
    marker.stop();
    index.close();
    throw err;
  });

  const retention = new Retention({ db: index.db, remover, freeBytes: () => store.freeBytes(), config: config.store, log });
  const forecast = new DiskForecast({ freeBytes: () => store.freeBytes(), minFreeBytes: config.store.minFreeBytes, warnHours: config.store.warnHoursToFloor, log });
  forecast.start();
  const health = () => {
    const free = store.freeBytes();
    const diskOk = free >= config.store.minFreeBytes;
    return {
      status: diskOk ? 'ok' : 'degraded',
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      aeTitle: config.dicom.aeTitle,
      ports,
      disk: { freeBytes: free, minFreeBytes: config.store.minFreeBytes, ok: diskOk, ...forecast.outlook() },
      retention: retention.status(),
      index: index.counts(),
      dimse: dimse.status(),
      pipeline: pipeline.status(),
      alerts: dispatcher.status(),
      uplink: uplinkHealth(),
      storageCommitment: commitmentReports.status(),
      lastRepair: repair,
    };
  };
  metrics.gauge('medge_disk_free_bytes', 'Free bytes on the volume of the data directory', (g) => g.set({}, store.freeBytes()));
  metrics.gauge('medge_disk_hours_to_floor', 'Hours until free space reaches store.minFreeBytes at the last day\'s pace (absent while unknown or not shrinking)', (g) => {
    const hours = forecast.outlook().hoursToFloor;
    if (hours !== null) g.set({}, hours);
  });

  // The pipeline judges series complete and analyses them in worker threads; the dispatcher turns
  // analyses into alerts and delivers them through the outbox. Both resume persisted work at start.
  const pipeline = createPipeline({ db: index.db, index, store, ingest, events, config: config.pipeline, log, metrics, recoveredSeries: reindexedSeries });
  const dashboard = new DashboardHub({ events, log });
  dashboard.start();
  const channels = [dashboard, ...createAlertChannels(config.alerts.channels, { log })];
  const dispatcher = createAlertDispatcher({ db: index.db, events, channels, config: config.alerts, log, metrics });
  dispatcher.start();
  // After the dispatcher (it listens to the alerts' changes), before the pipeline resumes work.
  const uplink = createUplink({ db: index.db, index, store, events, config: config.uplink, nodeAe: config.dicom.aeTitle, dataDir, log, metrics });
  const uplinkHealth = () => uplink.status().destinations.map((d) => ({ id: d.id, link: d.link, pending: d.queue.pending, parked: d.queue.parked, reason: d.reason }));
  try {
    await uplink.start();
  } catch (err) {
    dashboard.stop();
    await dispatcher.stop().catch(() => undefined);
    await pipeline.stop().catch(() => undefined);
    marker.stop();
    forecast.stop();
    index.close();
    throw err;
  }
  await pipeline.start();

  // Storage commitment reports left pending by a restart go out as soon as the node runs.
  const commitmentReports = new CommitmentReports({ db: index.db, index, store, nodeAe: config.dicom.aeTitle, remoteAes, log, metrics });
  commitmentReports.start();
  const commitment = createCommitmentScp({ remoteAes, reports: commitmentReports, log, metrics });
  const dimse = createDimseServer({ config: config.dicom, ingest, db: index.db, events, metrics, log, commitment, retrieve: { index, store, remoteAes } });
  const http = createHttpApp({ ingest, db: index.db, index, store, metrics, log, health, alerts: dispatcher, dashboard, uplink, events, remover, users: config.http.users, https });

  /** Stops the domain parts in reverse order of their start, then closes the index. */
  async function stopDomain(): Promise<void> {
    await retention.stop();
    await commitmentReports.stop().catch((err) => log.error({ event: 'stop-failed', part: 'commitment', err }, 'storage commitment stop failed'));
    await pipeline.stop().catch((err) => log.error({ event: 'stop-failed', part: 'pipeline', err }, 'pipeline stop failed'));
    await uplink.stop().catch((err) => log.error({ event: 'stop-failed', part: 'uplink', err }, 'uplink stop failed'));
    await dispatcher.stop().catch((err) => log.error({ event: 'stop-failed', part: 'alerts', err }, 'alert dispatcher stop failed'));
    await Promise.all(channels.map((c) => c.close?.().catch(() => undefined)));
    // Nothing stores any more: the next start need not check the store (unless an instance was
    // still between rename and index commit).
    marker.stop();
    forecast.stop();
    marker.markClean();
    index.close();
  }

  const ports: NodePorts = { dicom: 0, http: 0 };
  try {
    const dimsePorts = await dimse.start();
    ports.dicom = dimsePorts.port;
    if (dimsePorts.tlsPort !== null) ports.dicomTls = dimsePorts.tlsPort;
    await http.listen({ port: config.http.port, host: config.http.host }).catch((err: NodeJS.ErrnoException) => {
      throw new MedgeError('MEDGE_ERR_NODE_LISTEN', `http.port: cannot listen on ${config.http.host}:${config.http.port} (${err.code ?? err.message})`, { port: config.http.port }, err);
    });
    const address = http.server.address();
    ports.http = typeof address === 'object' && address ? address.port : config.http.port;
  } catch (err) {
    await http.close().catch(() => undefined);
    await dimse.stop().catch(() => undefined);
    await stopDomain();
    throw err;
  }

  // Written atomically so that a script polling for it never reads half a file.
  const portsFile = join(dataDir, 'ports.json');
  await writeFile(`${portsFile}.tmp`, JSON.stringify({ ...ports, pid: process.pid }) + '\n');
  await rename(`${portsFile}.tmp`, portsFile);
  log.info({ event: 'node-started', aeTitle: config.dicom.aeTitle, ...ports, dataDir }, 'medge node started');
  retention.start();

  return {
    ports,
    async reloadCertificates() {
      let any = false;
      try {
        any = dimse.reloadTls();
      } catch (err) {
        any = true;
        log.error({ event: 'dimse-tls-reload-failed', reason: (err as Error).message }, 'the running DICOM TLS certificate stays');
      }
      if (config.http.tls) {
        any = true;
        try {
          (http.server as unknown as TlsServer).setSecureContext(await readServerPair(config.http.tls, 'http.tls'));
          log.info({ event: 'https-reloaded', certFile: config.http.tls.certFile });
        } catch (err) {
          log.error({ event: 'https-reload-failed', reason: (err as Error).message }, 'the running HTTPS certificate stays');
        }
      }
      return any;
    },
    status: health,
    async stop() {
      await dimse.stop();
      dashboard.stop();
      await http.close();
      await stopDomain();
      log.info({ event: 'node-stopped' }, 'medge node stopped');
    },
  };
}
