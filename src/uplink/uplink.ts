import { readTlsFiles } from '../util/tls-files.js';
import { join } from 'node:path';
import type { MedgeConfig, UplinkDestinationConfig } from '../config/schema.js';
import { MedgeError } from '../errors.js';
import type { NodeEvents, NodeEventMap } from '../events/node-events.js';
import type { Logger } from '../observability/log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { systemClock, type Clock } from '../pipeline/clock.js';
import type { BlobStore } from '../store/blob-store.js';
import type { Db, InstanceIndex } from '../store/index-db.js';
import { createDeidentifier, createSqliteDeidMap, deriveUid, loadOrCreateSecret, type DeidMap, type DeidOptions } from '../dicom/deid/index.js';
import { createDimseSender } from './dimse-sender.js';
import { parseDailyWindow } from './daily-window.js';
import { DEFAULT_CONCURRENCY, Forwarder } from './forwarder.js';
import type { UplinkDeid } from './prepare-item.js';
import { createAlertPoster, createStowSender } from './stow-sender.js';
import { TokenBucket } from './token-bucket.js';
import { createUplinkDue, sendsAlerts, type UplinkDue } from './uplink-due.js';
import { UplinkMeter } from './uplink-meter.js';
import { UplinkQueue } from './uplink-queue.js';
import type { AlertSender, UplinkSender } from './uplink-sender.js';
import { uplinkStatus, type UplinkStatus } from './uplink-status.js';
import type { OutboxItem } from '../alerts/outbox.js';

export interface UplinkDeps {
  db: Db;
  index: InstanceIndex;
  store: BlobStore;
  events: NodeEvents;
  config: MedgeConfig['uplink'];
  /** This node's AE title: the calling AE of DIMSE destinations by default, and the `node` of alert notices. */
  nodeAe: string;
  /** Holds deid.secret (the de-identification key) and the temporary copies of DIMSE sends. */
  dataDir: string;
  log: Logger;
  metrics: MetricsRegistry;
  clock?: Clock;
  /** Jitter source of the backoff (a seeded generator in tests). */
  random?: () => number;
  /** Senders instead of the real protocols, by destination id (tests: MemoryDestination). */
  senders?: Record<string, { sender: UplinkSender; alertSender?: AlertSender }>;
  onConfirmed?(destination: string, item: OutboxItem, how: 'stored' | 'already-there'): void;
}

export interface Uplink {
  /** Loads the de-identification key, re-derives what became due while the node was down, starts the forwarders. */
  start(): Promise<void>;
  /** Stops listening and the forwarders; what is in flight is resolved at the next start. */
  stop(): Promise<void>;
  status(): UplinkStatus;
  /** Puts a parked or waiting item back (due now); MEDGE_ERR_HTTP_NOT_FOUND when there is no such uplink item. */
  retry(id: number): { id: number; destination: string };
  /** Puts every parked and waiting item back, closes the breakers; the count. */
  retryAll(destination?: string): { items: number };
  /** Resolves when every forwarder has nothing due left to work through now. */
  idle(): Promise<void>;
  readonly due: UplinkDue;
}

/**
 * The uplink to the cloud PACS (issue 5, docs/uplink.md): what becomes due (uplink-due.ts) goes
 * into the durable outbox; one forwarder per destination sends it under the destination's policy.
 */
export function createUplink(deps: UplinkDeps): Uplink {
  const clock = deps.clock ?? systemClock;
  const { config, db, log } = deps;
  const destinations = config.destinations;
  const queue = new UplinkQueue(db, { retryInitialMs: config.retryInitialMs, retryMaxMs: config.retryMaxMs, random: deps.random });
  const meter = new UplinkMeter(db, deps.metrics, destinations.map((d) => d.id));
  const forwarders = new Map<string, Forwarder>();
  const wake = (ids: string[]) => ids.forEach((id) => forwarders.get(id)?.wake());
  const due = createUplinkDue({ db, queue, destinations, clock, log, onEnqueued: wake });

  const listeners: { [K in keyof NodeEventMap]?: (...args: NodeEventMap[K]) => void } = {
    'results-stored': (info) => due.resultsStored(info),
    'instance-stored': (outcome, ctx) => {
      meter.received(outcome, ctx);
      due.instanceStored(outcome, ctx);
    },
    'alert-changed': (info) => due.alertChanged(info),
  };

  deps.metrics.gauge('medge_uplink_queue_items', 'Uplink items per destination and state (pending, parked)', (g) => {
    for (const [destination, d] of queue.depth(clock.now())) {
      g.set({ destination, state: 'pending' }, d.pending);
      g.set({ destination, state: 'parked' }, d.parked);
    }
  });
  deps.metrics.gauge('medge_uplink_oldest_pending_seconds', 'Age of the oldest pending uplink item per destination, seconds', (g) => {
    for (const [destination, d] of queue.depth(clock.now())) g.set({ destination }, (d.oldestPendingMs ?? 0) / 1000);
  });
  deps.metrics.gauge('medge_uplink_link_up', 'Uplink link state per destination: 1 up, 0.5 degraded, 0 down', (g) => {
    for (const f of forwarders.values()) {
      const link = f.status().link;
      g.set({ destination: f.id }, link === 'up' ? 1 : link === 'degraded' ? 0.5 : 0);
    }
  });

  async function build(d: UplinkDestinationConfig, deid: UplinkDeid | undefined): Promise<Forwarder> {
    const given = deps.senders?.[d.id];
    const { sender, alertSender } = given ?? (await makeSenders(d, deps));
    const now = clock.now();
    return new Forwarder({
      destination: d.id,
      queue,
      sender,
      alertSender,
      prepare: { index: deps.index, store: deps.store, deid: d.policy.privacy === 'deidentified' ? deid : undefined, compressResults: d.compressResults ?? true, log: log.child({ destination: d.id }) },
      concurrency: d.concurrency ?? DEFAULT_CONCURRENCY,
      meter,
      clock,
      log: log.child({ destination: d.id }),
      nodeAe: deps.nodeAe,
      breaker: { failures: config.breakerFailures, coolDownMs: config.breakerCoolDownMs },
      window: d.policy.window ? parseDailyWindow(d.policy.window) : undefined,
      criticalOutsideWindow: d.policy.criticalOutsideWindow ?? true,
      bucket: d.policy.maxBytesPerSecond ? new TokenBucket(d.policy.maxBytesPerSecond, now) : undefined,
      onConfirmed: (item, how) => deps.onConfirmed?.(d.id, item, how),
    });
  }

  return {
    due,
    async start() {
      const key = destinations.some((d) => d.policy.privacy === 'deidentified') ? await loadOrCreateSecret(join(deps.dataDir, 'deid.secret')) : undefined;
      const map = key ? createSqliteDeidMap(db) : undefined;
      for (const d of destinations) forwarders.set(d.id, await build(d, key && map ? makeDeid(key, map, d.policy.deid ?? {}) : undefined));
      // Listen first, then reconcile: an event in between is enqueued twice at most, which the
      // UNIQUE ref makes harmless; the other order could miss one.
      for (const [name, fn] of Object.entries(listeners)) deps.events.on(name as keyof NodeEventMap, fn as never);
      due.reconcile();
      for (const f of forwarders.values()) f.start();
      log.info({ event: 'uplink-started', destinations: destinations.map((d) => ({ id: d.id, type: d.type, what: d.policy.what, when: d.policy.when, privacy: d.policy.privacy })) }, 'uplink started');
    },
    async stop() {
      for (const [name, fn] of Object.entries(listeners)) deps.events.off(name as keyof NodeEventMap, fn as never);
      await Promise.all([...forwarders.values()].map((f) => f.stop()));
    },
    status: () => uplinkStatus({ destinations, forwarders, queue, meter, now: clock.now() }),
    retry(id) {
      const item = queue.outbox.get(id);
      if (!item || item.kind !== 'uplink' || !queue.retry(id, clock.now())) {
        throw new MedgeError('MEDGE_ERR_HTTP_NOT_FOUND', `no parked or waiting uplink item ${id}`, { id });
      }
      forwarders.get(item.destination)?.reset();
      log.info({ event: 'uplink-retry', item: id, destination: item.destination }, 'uplink item put back by a person');
      return { id, destination: item.destination };
    },
    retryAll(destination) {
      const items = queue.retryAll(clock.now(), destination);
      for (const f of forwarders.values()) if (!destination || f.id === destination) f.reset();
      log.info({ event: 'uplink-retry', items, destination: destination ?? 'all' }, 'uplink items put back by a person');
      return { items };
    },
    async idle() {
      await Promise.all([...forwarders.values()].map((f) => f.idle()));
    },
  };
}

async function makeSenders(d: UplinkDestinationConfig, deps: UplinkDeps): Promise<{ sender: UplinkSender; alertSender?: AlertSender }> {
  if (d.type === 'stow-rs') {
    const http = { auth: d.auth, ...(await readTlsFiles(d, `uplink destination ${d.id}`)), timeoutMs: d.timeoutMs };
    // One kept-alive connection per request in flight.
    const maxSockets = d.concurrency ?? DEFAULT_CONCURRENCY;
    return { sender: createStowSender({ baseUrl: d.baseUrl, ...http, maxSockets }), alertSender: sendsAlerts(d) && d.alertUrl ? createAlertPoster({ baseUrl: d.alertUrl, ...http }) : undefined };
  }
  const tls = d.tls && (await readTlsFiles(d.tls, `uplink destination ${d.id}`));
  const sender = createDimseSender({
    host: d.host, port: d.port, calledAe: d.aeTitle, callingAe: d.callingAeTitle ?? deps.nodeAe,
    tls, user: d.user, timeoutMs: d.timeoutMs, tmpDir: join(deps.dataDir, 'uplink-tmp'), log: deps.log,
  });
  return { sender, alertSender: sendsAlerts(d) && d.alertUrl ? createAlertPoster({ baseUrl: d.alertUrl, timeoutMs: d.timeoutMs }) : undefined };
}

/** One key and one mapping table per node; the Annex E options per destination. */
function makeDeid(secret: Uint8Array, map: DeidMap, options: DeidOptions): UplinkDeid {
  const deidentifier = createDeidentifier({ secret, map, options });
  return {
    deidentifier,
    replaceUid(uid) {
      if (options.retainUids) return uid;
      const replacement = deriveUid(secret, uid);
      map.record([{ kind: 'uid', original: uid, deidentified: replacement }]);
      return replacement;
    },
  };
}
