import type { Db } from '../store/index-db.js';
import type { AlertSeverity } from '../config/schema.js';

/**
 * The study's clock (DESIGN.md, "The clock"), read from what the node stored: instances, the
 * series' pipeline state, analyses, alerts and their deliveries. Times are ISO 8601 with
 * milliseconds (UTC); null until the stage happened.
 */
export interface StudyTimeline {
  /** Of the series followed (below): first and last instance received, results the node made itself excluded. */
  firstReceivedAt: string | null;
  lastReceivedAt: string | null;
  /** When the series was judged complete, and by which signal. */
  readyAt: string | null;
  readyTrigger: string | null;
  analysisStartedAt: string | null;
  analysisFinishedAt: string | null;
  /** positive | negative | not-applicable | not-assessable | failed, or null before the analysis. */
  analysisStatus: string | null;
  alerts: TimelineAlert[];
}

export interface TimelineAlert {
  id: string;
  severity: AlertSeverity;
  headline: string;
  /** First dispatch: time-to-alert is this minus lastReceivedAt. */
  dispatchedAt: string;
  /** Per channel, the first time it confirmed a revision of the alert (null while it has not). */
  deliveries: { channel: string; deliveredAt: string | null }[];
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/**
 * The timeline of one study, or null when the study is unknown. The series followed is the one
 * the study's alert stands on (the most severe, then the first raised), else the series analysed
 * last, else the series judged ready last, else the whole study.
 */
export function readStudyTimeline(db: Db, studyUid: string): StudyTimeline | null {
  const study = db.prepare(`SELECT study_uid FROM studies WHERE study_uid = ?`).get(studyUid);
  if (!study) return null;
  const alerts = db
    .prepare(
      `SELECT id, series_uid, analysis_id, severity, summary, dispatched_at, acknowledged_at, acknowledged_by FROM alerts
       WHERE study_uid = ? ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END, created_at, id`,
    )
    .all(studyUid) as {
    id: string; series_uid: string; analysis_id: number; severity: AlertSeverity; summary: string; dispatched_at: number;
    acknowledged_at: number | null; acknowledged_by: string | null;
  }[];
  const latest = db
    .prepare(`SELECT id, series_uid FROM analyses WHERE study_uid = ? AND superseded_by IS NULL ORDER BY finished_at DESC, id DESC LIMIT 1`)
    .get(studyUid) as { id: number; series_uid: string } | undefined;
  const readyLast = db
    .prepare(`SELECT series_uid FROM series_state WHERE study_uid = ? AND ready_at IS NOT NULL ORDER BY ready_at DESC LIMIT 1`)
    .get(studyUid) as { series_uid: string } | undefined;
  const series = alerts[0]?.series_uid ?? latest?.series_uid ?? readyLast?.series_uid ?? null;

  const received = (series
    ? db.prepare(`SELECT min(received_at) AS first, max(received_at) AS last FROM instances WHERE series_uid = ? AND protocol != 'local'`).get(series)
    : db
        .prepare(
          `SELECT min(i.received_at) AS first, max(i.received_at) AS last FROM instances i JOIN series se ON se.series_uid = i.series_uid
           WHERE se.study_uid = ? AND i.protocol != 'local'`,
        )
        .get(studyUid)) as { first: number | null; last: number | null };

  // The analysis of that series the timeline shows: the alert's (it may be superseded by a
  // re-analysis in progress), else the series' current one.
  const analysis = series
    ? (db
        .prepare(
          `SELECT status, ready_at, ready_trigger, started_at, finished_at FROM analyses
           WHERE ${alerts[0] ? 'id = ?' : 'series_uid = ? AND superseded_by IS NULL ORDER BY id DESC LIMIT 1'}`,
        )
        .get(alerts[0] ? alerts[0].analysis_id : series) as
        | { status: string; ready_at: number | null; ready_trigger: string | null; started_at: number; finished_at: number }
        | undefined)
    : undefined;
  const state = series
    ? (db.prepare(`SELECT ready_at, ready_trigger, analysis_started_at FROM series_state WHERE series_uid = ?`).get(series) as
        | { ready_at: number | null; ready_trigger: string | null; analysis_started_at: number | null }
        | undefined)
    : undefined;

  const deliveries = db.prepare(
    `SELECT channel, min(delivered_at) AS deliveredAt, min(dispatched_at) AS firstDispatch FROM alert_deliveries
     WHERE alert_id = ? GROUP BY channel ORDER BY firstDispatch, channel`,
  );
  return {
    firstReceivedAt: iso(received.first),
    lastReceivedAt: iso(received.last),
    readyAt: iso(analysis?.ready_at ?? state?.ready_at),
    readyTrigger: analysis?.ready_trigger ?? state?.ready_trigger ?? null,
    analysisStartedAt: iso(analysis?.started_at ?? state?.analysis_started_at),
    analysisFinishedAt: iso(analysis?.finished_at),
    analysisStatus: analysis?.status ?? null,
    alerts: alerts.map((a) => ({
      id: a.id,
      severity: a.severity,
      headline: a.summary,
      dispatchedAt: iso(a.dispatched_at)!,
      deliveries: (deliveries.all(a.id) as { channel: string; deliveredAt: number | null }[]).map((d) => ({ channel: d.channel, deliveredAt: iso(d.deliveredAt) })),
      acknowledgedAt: iso(a.acknowledged_at),
      acknowledgedBy: a.acknowledged_by,
    })),
  };
}
