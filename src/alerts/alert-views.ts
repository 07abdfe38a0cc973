import type { Db } from '../store/index-db.js';
import type { AlertSeverity } from '../config/schema.js';
import type { OutboxState } from './outbox.js';

/** An alert as the API shows it: no patient data (the worklist joins that in). Times ISO 8601 with ms. */
export interface AlertView {
  id: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  analysisId: number;
  rule: string;
  severity: AlertSeverity;
  state: 'active' | 'retracted';
  revision: number;
  headline: string;
  createdAt: string;
  dispatchedAt: string;
  updatedAt: string;
  tier: number;
  escalatedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  deliveries: DeliveryView[];
}

/** One revision of the alert on one channel. */
export interface DeliveryView {
  channel: string;
  revision: number;
  tier: number;
  dispatchedAt: string;
  deliveredAt: string | null;
  /** What the peer said (an HL7 ACK code, an HTTP status, the dashboard's client count). */
  detail: string | null;
  attempts: number;
  lastError: string | null;
  /** The outbox item's state: pending (in flight or waiting to retry), done, parked. */
  state: OutboxState | null;
}

interface AlertRow {
  id: string; study_uid: string; series_uid: string; analysis_id: number; rule: string; severity: AlertSeverity;
  state: 'active' | 'retracted'; revision: number; summary: string; created_at: number; dispatched_at: number;
  updated_at: number; tier: number; escalated_at: number | null; acknowledged_at: number | null; acknowledged_by: string | null;
}

interface DeliveryRow {
  alert_id: string; channel: string; revision: number; tier: number; dispatched_at: number; delivered_at: number | null;
  detail: string | null; attempts: number; last_error: string | null; state: OutboxState | null;
}

export const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

const DELIVERIES = `
  SELECT d.alert_id, d.channel, d.revision, d.tier, d.dispatched_at, d.delivered_at, d.detail, d.attempts, d.last_error, o.state
  FROM alert_deliveries d
  LEFT JOIN outbox o ON o.kind = 'alert-delivery' AND o.destination = d.channel AND o.ref = d.alert_id || '#' || d.revision`;

function toView(r: AlertRow, deliveries: DeliveryRow[]): AlertView {
  return {
    id: r.id,
    studyInstanceUid: r.study_uid,
    seriesInstanceUid: r.series_uid,
    analysisId: r.analysis_id,
    rule: r.rule,
    severity: r.severity,
    state: r.state,
    revision: r.revision,
    headline: r.summary,
    createdAt: iso(r.created_at)!,
    dispatchedAt: iso(r.dispatched_at)!,
    updatedAt: iso(r.updated_at)!,
    tier: r.tier,
    escalatedAt: iso(r.escalated_at),
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    deliveries: deliveries.map((d) => ({
      channel: d.channel,
      revision: d.revision,
      tier: d.tier,
      dispatchedAt: iso(d.dispatched_at)!,
      deliveredAt: iso(d.delivered_at),
      detail: d.detail,
      attempts: d.attempts,
      lastError: d.last_error,
      state: d.state,
    })),
  };
}

/** One alert with its deliveries, or null. */
export function readAlert(db: Db, id: string): AlertView | null {
  const row = db.prepare(`SELECT * FROM alerts WHERE id = ?`).get(id) as AlertRow | undefined;
  if (!row) return null;
  const deliveries = db.prepare(`${DELIVERIES} WHERE d.alert_id = ? ORDER BY d.revision, d.tier, d.channel`).all(id) as DeliveryRow[];
  return toView(row, deliveries);
}

export interface AlertFilter {
  studyInstanceUid?: string;
  state?: 'active' | 'retracted';
  /** true: only alerts nobody acknowledged. */
  unacknowledged?: boolean;
  limit?: number;
}

/** Alerts, most recently changed first. */
export function listAlerts(db: Db, filter: AlertFilter = {}): AlertView[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.studyInstanceUid !== undefined) (where.push('study_uid = ?'), args.push(filter.studyInstanceUid));
  if (filter.state !== undefined) (where.push('state = ?'), args.push(filter.state));
  if (filter.unacknowledged) where.push('acknowledged_at IS NULL');
  const rows = db
    .prepare(`SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, id LIMIT ?`)
    .all(...args, filter.limit ?? 100) as AlertRow[];
  if (rows.length === 0) return [];
  const deliveries = db
    .prepare(`${DELIVERIES} WHERE d.alert_id IN (${rows.map(() => '?').join(',')}) ORDER BY d.revision, d.tier, d.channel`)
    .all(...rows.map((r) => r.id)) as DeliveryRow[];
  return rows.map((r) => toView(r, deliveries.filter((d) => d.alert_id === r.id)));
}
