import { randomUUID } from 'node:crypto';
import type { Db } from '../store/index-db.js';
import type { AlertRule, AlertSeverity } from '../config/schema.js';
import type { ReportedFinding } from '../analyzers/offline.js';
import { MedgeError } from '../errors.js';
import type { Outbox } from './outbox.js';
import type { AlertMessage } from './types.js';
import { evaluateRules, SEVERITY_RANK, type RuleMatch } from './rules.js';
import { buildAlertMessage, headline } from './alert-message.js';

/** The outbox kind of alert deliveries; the destination is the channel id, the ref `<alertId>#<revision>`. */
export const ALERT_DELIVERY_KIND = 'alert-delivery';

export const deliveryRef = (alertId: string, revision: number): string => `${alertId}#${revision}`;

export function parseDeliveryRef(ref: string): { alertId: string; revision: number } {
  const i = ref.lastIndexOf('#');
  return { alertId: ref.slice(0, i), revision: Number(ref.slice(i + 1)) };
}

/** A change the writer committed; the dispatcher emits it and wakes the senders. */
export interface AlertChange {
  alertId: string;
  studyInstanceUid: string;
  change: 'raised' | 'updated' | 'retracted' | 'escalated';
  severity: AlertSeverity;
  revision: number;
  tier: number;
  /** raised only: dispatch minus the last instance received before the analysis, ms. */
  timeToAlertMs?: number;
}

export interface AlertWriterDeps {
  db: Db;
  outbox: Outbox;
  /** Every channel's id and tier. */
  channels: readonly { id: string; tier: number }[];
  rules: readonly AlertRule[];
  publicUrl?: string;
  newId?: () => string;
}

interface AlertRow {
  id: string; study_uid: string; series_uid: string; analysis_id: number; rule: string; severity: AlertSeverity;
  state: 'active' | 'retracted'; revision: number; tier: number; dispatched_at: number; escalated_at: number | null;
  acknowledged_at: number | null;
}

interface AnalysisRow {
  id: number; study_uid: string; series_uid: string; status: string; findings: string; last_received_at: number;
  superseded_by: number | null;
}

/**
 * The alerts' state changes, each in ONE SQLite transaction with the outbox items that announce it
 * (house style 5): nothing is said to a channel that is not recorded, and nothing recorded is left
 * unsaid after a crash. Synchronous (better-sqlite3); the caller emits and wakes senders after.
 */
export function createAlertWriter(deps: AlertWriterDeps) {
  const { db, outbox } = deps;
  const newId = deps.newId ?? randomUUID;
  const tiers = [...new Set(deps.channels.map((c) => c.tier))].sort((a, b) => a - b);
  const nextTier = (t: number): number | null => tiers.find((x) => x > t) ?? null;
  const maxTier = tiers.length ? tiers[tiers.length - 1]! : 0;

  /** Writes one delivery row and one outbox item per channel chosen, with the message as it is now. */
  function dispatch(alertId: string, event: AlertMessage['event'], now: number, channels: readonly { id: string; tier: number }[]): void {
    const message = buildAlertMessage(db, { alertId, event, dispatchedAt: now, publicUrl: deps.publicUrl });
    const payload = JSON.stringify(message);
    for (const ch of channels) {
      db.prepare(
        `INSERT INTO alert_deliveries (alert_id, channel, revision, tier, dispatched_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ).run(alertId, ch.id, message.revision, ch.tier, now);
      outbox.enqueue(
        { kind: ALERT_DELIVERY_KIND, destination: ch.id, ref: deliveryRef(alertId, message.revision), payload, priority: SEVERITY_RANK[message.severity] },
        now,
      );
    }
  }

  const upTo = (tier: number) => deps.channels.filter((c) => c.tier <= tier);
  const readAlertRow = (id: string) => db.prepare(`SELECT * FROM alerts WHERE id = ?`).get(id) as AlertRow | undefined;

  function raise(a: AnalysisRow, m: RuleMatch, now: number): AlertChange {
    const id = newId();
    db.prepare(
      `INSERT INTO alerts (id, study_uid, series_uid, analysis_id, rule, severity, state, revision, summary, created_at,
                           dispatched_at, updated_at, tier)
       VALUES (?, ?, ?, ?, ?, ?, 'active', 1, ?, ?, ?, ?, 0)`,
    ).run(id, a.study_uid, a.series_uid, a.id, m.rule, m.severity, headline(m.rule, m.findings), now, now, now);
    dispatch(id, 'raised', now, upTo(0));
    return { alertId: id, studyInstanceUid: a.study_uid, change: 'raised', severity: m.severity, revision: 1, tier: 0, timeToAlertMs: now - a.last_received_at };
  }

  function revise(al: AlertRow, a: AnalysisRow, m: RuleMatch | null, now: number): AlertChange {
    const state = m ? 'active' : 'retracted';
    const severity = m?.severity ?? al.severity;
    db.prepare(
      `UPDATE alerts SET analysis_id = ?, series_uid = ?, severity = ?, state = ?, revision = revision + 1, summary = ?,
                         updated_at = ? WHERE id = ?`,
    ).run(a.id, a.series_uid, severity, state, headline(al.rule, m?.findings ?? []), now, al.id);
    const event = m ? 'updated' : 'retracted';
    dispatch(al.id, event, now, upTo(al.tier));
    return { alertId: al.id, studyInstanceUid: al.study_uid, change: event, severity, revision: al.revision + 1, tier: al.tier };
  }

  /** The newest current positive analysis of another series of `a`'s study that matches `rule`. */
  function otherPositive(a: AnalysisRow, rule: string): { analysis: AnalysisRow; match: RuleMatch } | null {
    const rows = db
      .prepare(`SELECT * FROM analyses WHERE study_uid = ? AND series_uid != ? AND status = 'positive' AND superseded_by IS NULL ORDER BY id DESC`)
      .all(a.study_uid, a.series_uid) as AnalysisRow[];
    for (const r of rows) {
      const match = evaluateRules(JSON.parse(r.findings) as ReportedFinding[], deps.rules).find((x) => x.rule === rule);
      if (match) return { analysis: r, match };
    }
    return null;
  }

  return {
    /**
     * Applies one recorded analysis to the alerts of its study: raises an alert per rule the
     * findings match that the study does not have yet; an analysis that supersedes the one an
     * alert stands on (same series, newer) updates it (revision + 1) or retracts it when the
     * finding is gone; a positive analysis of another series is deduplicated into the study's
     * existing alert (nothing sent); a negative one of another series changes nothing. Failed,
     * not-assessable and not-applicable analyses say nothing about the finding and change nothing.
     * Idempotent: an analysis already reflected, or superseded itself, changes nothing.
     */
    recordAnalysis(analysisId: number, now: number): AlertChange[] {
      return db.transaction(() => {
        const a = db.prepare(`SELECT * FROM analyses WHERE id = ?`).get(analysisId) as AnalysisRow | undefined;
        if (!a || a.superseded_by !== null || (a.status !== 'positive' && a.status !== 'negative')) return [];
        const matches = a.status === 'positive' ? evaluateRules(JSON.parse(a.findings) as ReportedFinding[], deps.rules) : [];
        const existing = db.prepare(`SELECT * FROM alerts WHERE study_uid = ?`).all(a.study_uid) as AlertRow[];
        const changes: AlertChange[] = [];
        for (const al of existing) {
          if (al.analysis_id >= a.id) continue;
          const m = matches.find((x) => x.rule === al.rule) ?? null;
          const sameSeries = al.series_uid === a.series_uid;
          if (m && (sameSeries || al.state === 'retracted')) changes.push(revise(al, a, m, now));
          else if (!m && sameSeries && al.state === 'active') {
            // Another series of the study may still show the finding (deduplicated into this alert):
            // the alert moves to it instead of being retracted.
            const other = otherPositive(a, al.rule);
            changes.push(other ? revise(al, other.analysis, other.match, now) : revise(al, a, null, now));
          }
        }
        for (const m of matches) if (!existing.some((al) => al.rule === m.rule)) changes.push(raise(a, m, now));
        return changes;
      })();
    },

    /** Sends every active, unacknowledged alert whose current tier went unanswered for `afterMs` to the next tier. */
    escalateDue(now: number, afterMs: number): AlertChange[] {
      if (afterMs <= 0) return [];
      return db.transaction(() => {
        const due = db
          .prepare(
            `SELECT * FROM alerts WHERE state = 'active' AND acknowledged_at IS NULL AND tier < ?
               AND coalesce(escalated_at, dispatched_at) + ? <= ? ORDER BY dispatched_at`,
          )
          .all(maxTier, afterMs, now) as AlertRow[];
        const changes: AlertChange[] = [];
        for (const al of due) {
          const tier = nextTier(al.tier);
          if (tier === null) continue;
          db.prepare(`UPDATE alerts SET tier = ?, escalated_at = ?, updated_at = ? WHERE id = ?`).run(tier, now, now, al.id);
          dispatch(al.id, 'escalated', now, deps.channels.filter((c) => c.tier === tier));
          changes.push({ alertId: al.id, studyInstanceUid: al.study_uid, change: 'escalated', severity: al.severity, revision: al.revision, tier });
        }
        return changes;
      })();
    },

    /** When the next escalation is due, or null when none can happen. */
    nextEscalationAt(afterMs: number): number | null {
      if (afterMs <= 0) return null;
      const row = db
        .prepare(`SELECT min(coalesce(escalated_at, dispatched_at)) AS t FROM alerts WHERE state = 'active' AND acknowledged_at IS NULL AND tier < ?`)
        .get(maxTier) as { t: number | null };
      return row.t === null ? null : row.t + afterMs;
    },

    /**
     * Records who acknowledged the alert and when; the first acknowledgement stands (a second
     * changes nothing and returns false). Throws MEDGE_ERR_ALERT_NOT_FOUND.
     */
    acknowledge(alertId: string, by: string, now: number): { changed: boolean; studyInstanceUid: string } {
      const al = readAlertRow(alertId);
      if (!al) throw new MedgeError('MEDGE_ERR_ALERT_NOT_FOUND', `no alert ${alertId}`, { alertId });
      const info = db.prepare(`UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?, updated_at = ? WHERE id = ? AND acknowledged_at IS NULL`).run(now, by, now, alertId);
      return { changed: info.changes === 1, studyInstanceUid: al.study_uid };
    },

    /**
     * Analyses finished in the last `windowMs` that no alert reflects yet (the node stopped between
     * recording an analysis and its alert): their ids, oldest first, for recordAnalysis.
     */
    unreflectedAnalyses(now: number, windowMs: number): number[] {
      const rows = db
        .prepare(
          `SELECT a.id FROM analyses a WHERE a.superseded_by IS NULL AND a.status IN ('positive', 'negative') AND a.finished_at >= ?
             AND (a.status = 'positive' OR EXISTS (SELECT 1 FROM alerts al WHERE al.study_uid = a.study_uid))
             AND NOT EXISTS (SELECT 1 FROM alerts al WHERE al.study_uid = a.study_uid AND al.analysis_id >= a.id) ORDER BY a.id`,
        )
        .all(now - windowMs) as { id: number }[];
      return rows.map((r) => r.id);
    },
  };
}

export type AlertWriter = ReturnType<typeof createAlertWriter>;
