import type { Db } from '../store/index-db.js';
import type { MedgeConfig } from '../config/schema.js';
import type { Logger } from '../observability/log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { NodeEvents } from '../events/node-events.js';
import type { AnalysisRecord } from '../pipeline/types.js';
import { MedgeError } from '../errors.js';
import { systemClock, type Clock } from './clock.js';
import { Outbox } from './outbox.js';
import type { AlertChannel } from './types.js';
import { createAlertWriter, type AlertChange } from './alert-writer.js';
import { ChannelSender, type ChannelStatus } from './channel-sender.js';
import { listAlerts, readAlert, type AlertFilter, type AlertView } from './alert-views.js';
import { createEscalationTimer } from './escalation.js';

export interface AlertDispatcherDeps {
  db: Db;
  events: NodeEvents;
  /** Every channel, the dashboard hub included; ids must be unique. */
  channels: AlertChannel[];
  config: MedgeConfig['alerts'];
  log: Logger;
  metrics: MetricsRegistry;
  clock?: Clock;
  /** The node's public base URL for the links in messages; without it, paths. */
  publicUrl?: string;
  /** Jitter source of the retry backoff, uniform in [0, 1). */
  random?: () => number;
}

/** Per attempt when the channel's configuration sets none (the dashboard), ms. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** At start, analyses finished this long ago or less that no alert reflects yet are applied, ms. */
const RECOVERY_WINDOW_MS = 24 * 3600 * 1000;

export interface AlertDispatcherStatus {
  running: boolean;
  alerts: { active: number; unacknowledged: number; unacknowledgedCritical: number };
  channels: ChannelStatus[];
  nextEscalationAt: string | null;
}

export interface AlertDispatcher {
  /** Applies analyses recorded while the node was down, resumes pending deliveries, arms escalation, listens. */
  start(): void;
  /** Stops listening and sending; pending items stay in the outbox for the next start. */
  stop(): Promise<void>;
  status(): AlertDispatcherStatus;
  /** Records who acknowledged (the first acknowledgement stands); stops escalation. Throws MEDGE_ERR_ALERT_NOT_FOUND. */
  acknowledge(alertId: string, by: string): AlertView;
  get(alertId: string): AlertView | null;
  list(filter?: AlertFilter): AlertView[];
  /** Applies one recorded analysis (what 'analysis-finished' triggers); returns what changed. */
  applyAnalysis(analysisId: number): AlertChange[];
  /** Resolves when no sender is working through its due items (tests await this instead of sleeping). */
  idle(): Promise<void>;
  readonly outbox: Outbox;
}

/**
 * The alert dispatcher: turns each finished analysis into alerts (one per study and rule, written
 * with their outbox items in one transaction), sends them on every channel of the tiers reached,
 * escalates what nobody acknowledges, and records every delivery.
 */
export function createAlertDispatcher(deps: AlertDispatcherDeps): AlertDispatcher {
  const { db, events, config, log, metrics } = deps;
  const clock = deps.clock ?? systemClock;
  const ids = new Set<string>();
  for (const ch of deps.channels) {
    if (ids.has(ch.id)) throw new MedgeError('MEDGE_ERR_CONFIG_INVALID', `alerts.channels: two channels have the id '${ch.id}'`, { key: 'alerts.channels', id: ch.id });
    ids.add(ch.id);
  }
  const outbox = new Outbox(db, { retryInitialMs: config.retryInitialMs, retryMaxMs: config.retryMaxMs, random: deps.random });
  const writer = createAlertWriter({ db, outbox, channels: deps.channels, rules: config.rules, publicUrl: deps.publicUrl });
  const timeoutOf = (id: string) => config.channels.find((c) => c.id === id)?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const senders = deps.channels.map(
    (channel) => new ChannelSender({ channel, db, outbox, events, clock, log, metrics, timeoutMs: timeoutOf(channel.id) }),
  );
  const timeToAlert = metrics.histogram('medge_time_to_alert_seconds', 'Last instance received to alert dispatched, seconds (first dispatch of each alert)');
  const changesTotal = metrics.counter('medge_alert_changes_total', 'Alerts raised, updated, retracted, escalated and acknowledged');
  const timeToAck = metrics.histogram('medge_alert_acknowledge_seconds', 'Alert dispatched to acknowledged by a person, seconds', [10, 30, 60, 120, 300, 600, 1800, 3600, 7200]);
  let running = false;

  function publish(changes: AlertChange[]): void {
    for (const c of changes) {
      changesTotal.inc({ change: c.change, severity: c.severity });
      if (c.timeToAlertMs !== undefined) timeToAlert.observe({ severity: c.severity }, Math.max(0, c.timeToAlertMs) / 1000);
      log.info({ event: `alert-${c.change}`, alertId: c.alertId, study: c.studyInstanceUid, severity: c.severity, revision: c.revision, tier: c.tier, timeToAlertMs: c.timeToAlertMs }, `alert ${c.change}`);
      events.emit('alert-changed', { alertId: c.alertId, studyInstanceUid: c.studyInstanceUid, change: c.change });
    }
    if (changes.length > 0 && running) {
      for (const s of senders) s.wake();
      escalation.rearm();
    }
  }

  const escalation = createEscalationTimer({
    clock,
    nextAt: () => writer.nextEscalationAt(config.escalateAfterMs),
    fire: () => publish(writer.escalateDue(clock.now(), config.escalateAfterMs)),
  });

  function applyAnalysis(analysisId: number): AlertChange[] {
    const changes = writer.recordAnalysis(analysisId, clock.now());
    publish(changes);
    return changes;
  }

  const onAnalysis = (a: AnalysisRecord) => {
    // An emitter's listener must not throw into the pipeline: the analysis is recorded, and the
    // next start applies it again (writer.unreflectedAnalyses).
    try {
      applyAnalysis(a.id);
    } catch (err) {
      log.error({ event: 'alert-record-failed', analysisId: a.id, study: a.studyInstanceUid, err: (err as Error).message }, 'alert could not be recorded');
    }
  };

  return {
    outbox,
    applyAnalysis,
    start() {
      if (running) return;
      running = true;
      for (const id of writer.unreflectedAnalyses(clock.now(), RECOVERY_WINDOW_MS)) applyAnalysis(id);
      for (const s of senders) s.start();
      escalation.rearm();
      events.on('analysis-finished', onAnalysis);
    },
    async stop() {
      if (!running) return;
      running = false;
      events.off('analysis-finished', onAnalysis);
      escalation.cancel();
      await Promise.all(senders.map((s) => s.stop()));
    },
    status() {
      const counts = db
        .prepare(
          `SELECT sum(state = 'active') AS active, sum(state = 'active' AND acknowledged_at IS NULL) AS unack,
                  sum(state = 'active' AND acknowledged_at IS NULL AND severity = 'critical') AS unackCritical FROM alerts`,
        )
        .get() as { active: number | null; unack: number | null; unackCritical: number | null };
      const next = writer.nextEscalationAt(config.escalateAfterMs);
      return {
        running,
        alerts: { active: counts.active ?? 0, unacknowledged: counts.unack ?? 0, unacknowledgedCritical: counts.unackCritical ?? 0 },
        channels: senders.map((s) => s.status()),
        nextEscalationAt: next === null ? null : new Date(next).toISOString(),
      };
    },
    acknowledge(alertId, by) {
      const now = clock.now();
      const { changed, studyInstanceUid } = writer.acknowledge(alertId, by, now);
      const view = readAlert(db, alertId)!;
      if (changed) {
        changesTotal.inc({ change: 'acknowledged', severity: view.severity });
        timeToAck.observe({ severity: view.severity }, Math.max(0, now - Date.parse(view.dispatchedAt)) / 1000);
        // Who acknowledged is a clinician's name: it is stored and shown, not logged (house style 12).
        log.info({ event: 'alert-acknowledged', alertId, study: studyInstanceUid }, 'alert acknowledged');
        events.emit('alert-changed', { alertId, studyInstanceUid, change: 'acknowledged' });
        if (running) escalation.rearm();
      }
      return view;
    },
    async idle() {
      await Promise.all(senders.map((s) => s.idle()));
    },
    get: (alertId) => readAlert(db, alertId),
    list: (filter) => listAlerts(db, filter),
  };
}
