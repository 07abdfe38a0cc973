import type { Db } from '../store/index-db.js';
import type { AlertSeverity } from '../config/schema.js';

/**
 * The worklist (GET /api/studies): studies in the order a clinician should look at them. It
 * carries patient names and IDs on purpose (it is for clinicians); it is never logged.
 */
export interface WorklistRow {
  studyInstanceUid: string;
  patient: { name: string | null; id: string | null };
  studyDate: string | null;
  studyTime: string | null;
  accessionNumber: string | null;
  description: string | null;
  modalities: string[];
  /** Instances received (the node's own result objects not counted). */
  instances: number;
  state: StudyState;
  /** The study's most pressing alert, or null. */
  alert: { id: string; severity: AlertSeverity; state: 'active' | 'retracted'; revision: number; headline: string; dispatchedAt: string; acknowledgedAt: string | null; acknowledgedBy: string | null } | null;
  /** The latest of: an instance received, an analysis finished, an alert changed. */
  lastActivityAt: string;
}

/**
 * receiving: instances are arriving (no series judged ready yet); queued / analysing: a series is
 * waiting for or in analysis; then the outcome of the current analyses, the most telling first
 * (positive, negative, failed, not-assessable, not-applicable); received: nothing to analyse.
 */
export type StudyState = 'receiving' | 'queued' | 'analysing' | 'positive' | 'negative' | 'failed' | 'not-assessable' | 'not-applicable' | 'received';

const OUTCOMES: StudyState[] = ['positive', 'negative', 'failed', 'not-assessable', 'not-applicable'];

/** A study's state from its series' pipeline states and its current analyses' statuses. */
export function studyState(seriesStates: readonly string[], statuses: readonly string[]): StudyState {
  if (seriesStates.includes('running')) return 'analysing';
  if (seriesStates.includes('queued')) return 'queued';
  if (seriesStates.includes('receiving') && statuses.length === 0) return 'receiving';
  return OUTCOMES.find((o) => statuses.includes(o)) ?? (seriesStates.includes('receiving') ? 'receiving' : 'received');
}

/** 0: an active critical alert nobody acknowledged; 1: the same, urgent; 2: any other active alert; 3: none. */
const ORDER = `
  WITH a AS (
    SELECT study_uid,
      max(state = 'active' AND acknowledged_at IS NULL AND severity = 'critical') AS crit,
      max(state = 'active' AND acknowledged_at IS NULL AND severity = 'urgent') AS urg,
      max(state = 'active') AS active,
      max(updated_at) AS at
    FROM alerts GROUP BY study_uid),
  an AS (SELECT study_uid, max(finished_at) AS at FROM analyses GROUP BY study_uid)
  SELECT st.study_uid, st.study_date, st.study_time, st.accession_number, st.description, p.patient_name, p.patient_id,
    CASE WHEN a.crit THEN 0 WHEN a.urg THEN 1 WHEN a.active THEN 2 ELSE 3 END AS rank,
    max(st.last_received_at, coalesce(a.at, 0), coalesce(an.at, 0)) AS activity
  FROM studies st LEFT JOIN patients p ON p.pk = st.patient_pk
  LEFT JOIN a ON a.study_uid = st.study_uid LEFT JOIN an ON an.study_uid = st.study_uid
  ORDER BY rank, activity DESC, st.study_uid LIMIT ?`;

/** Up to `limit` studies, unacknowledged critical first, then urgent, then other alerts, then by latest activity. */
export function readWorklist(db: Db, limit = 100): WorklistRow[] {
  const rows = db.prepare(ORDER).all(limit) as {
    study_uid: string; study_date: string | null; study_time: string | null; accession_number: string | null; description: string | null;
    patient_name: string | null; patient_id: string | null; activity: number;
  }[];
  const s = {
    modalities: db.prepare(
      `SELECT DISTINCT se.modality FROM series se WHERE se.study_uid = ? AND se.modality IS NOT NULL
         AND EXISTS (SELECT 1 FROM instances i WHERE i.series_uid = se.series_uid AND i.protocol != 'local') ORDER BY se.modality`,
    ),
    instances: db.prepare(`SELECT count(*) AS n FROM instances i JOIN series se ON se.series_uid = i.series_uid WHERE se.study_uid = ? AND i.protocol != 'local'`),
    states: db.prepare(`SELECT state FROM series_state WHERE study_uid = ?`),
    statuses: db.prepare(`SELECT DISTINCT status FROM analyses WHERE study_uid = ? AND superseded_by IS NULL`),
    alert: db.prepare(
      `SELECT id, severity, state, revision, summary, dispatched_at, acknowledged_at, acknowledged_by FROM alerts WHERE study_uid = ?
       ORDER BY state = 'active' DESC, acknowledged_at IS NULL DESC, CASE severity WHEN 'critical' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END, created_at LIMIT 1`,
    ),
  };
  return rows.map((r) => {
    const alert = s.alert.get(r.study_uid) as
      | { id: string; severity: AlertSeverity; state: 'active' | 'retracted'; revision: number; summary: string; dispatched_at: number; acknowledged_at: number | null; acknowledged_by: string | null }
      | undefined;
    return {
      studyInstanceUid: r.study_uid,
      patient: { name: r.patient_name, id: r.patient_id || null },
      studyDate: r.study_date,
      studyTime: r.study_time,
      accessionNumber: r.accession_number,
      description: r.description,
      modalities: (s.modalities.all(r.study_uid) as { modality: string }[]).map((m) => m.modality),
      instances: (s.instances.get(r.study_uid) as { n: number }).n,
      state: studyState(
        (s.states.all(r.study_uid) as { state: string }[]).map((x) => x.state),
        (s.statuses.all(r.study_uid) as { status: string }[]).map((x) => x.status),
      ),
      alert: alert
        ? {
            id: alert.id, severity: alert.severity, state: alert.state, revision: alert.revision, headline: alert.summary,
            dispatchedAt: new Date(alert.dispatched_at).toISOString(),
            acknowledgedAt: alert.acknowledged_at === null ? null : new Date(alert.acknowledged_at).toISOString(),
            acknowledgedBy: alert.acknowledged_by,
          }
        : null,
      lastActivityAt: new Date(r.activity).toISOString(),
    };
  });
}
