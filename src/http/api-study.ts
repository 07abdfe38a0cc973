import type { Db } from '../store/index-db.js';
import { listAlerts, type AlertView } from '../alerts/alert-views.js';
import { readStudyTimeline, type StudyTimeline } from '../pipeline/timeline.js';
import { studyState, type StudyState } from './api-worklist.js';

/** GET /api/studies/{studyUid}: the study, its series with their pipeline state and analyses, its alerts and its timeline. */
export interface StudyDetail {
  study: {
    studyInstanceUid: string;
    patient: { name: string | null; id: string | null; issuer: string | null; birthDate: string | null; sex: string | null };
    studyDate: string | null;
    studyTime: string | null;
    accessionNumber: string | null;
    studyId: string | null;
    description: string | null;
    referringPhysician: string | null;
    firstReceivedAt: string;
    lastReceivedAt: string;
    state: StudyState;
  };
  series: SeriesDetail[];
  alerts: AlertView[];
  timeline: StudyTimeline;
}

export interface SeriesDetail {
  seriesInstanceUid: string;
  modality: string | null;
  seriesNumber: string | null;
  description: string | null;
  instances: number;
  /** True for series the node made itself (SR, SEG, key image). */
  results: boolean;
  pipeline: {
    state: string; priority: number; priorityReason: string | null; readyAt: string | null; readyTrigger: string | null;
    queuedAt: string | null; analysisStartedAt: string | null; analysisFinishedAt: string | null; attempts: number;
  } | null;
  /** Newest first; superseded ones stay, marked. */
  analyses: AnalysisDetail[];
}

export interface AnalysisDetail {
  id: number;
  analyzerId: string | null;
  analyzerVersion: string | null;
  status: string;
  reason: string | null;
  findings: unknown[];
  midlineShiftMm: number | null;
  instanceCount: number;
  startedAt: string;
  finishedAt: string;
  elapsedMs: number | null;
  superseded: boolean;
  supersededBy: number | null;
  /** The DICOM result objects stored in the study: [{ kind, sopInstanceUid, seriesInstanceUid, sopClassUid }]. */
  results: unknown[];
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** The study's detail, or null when the study is unknown. */
export function readStudyDetail(db: Db, studyUid: string): StudyDetail | null {
  const st = db
    .prepare(
      `SELECT st.*, p.patient_id, p.issuer, p.patient_name, p.birth_date, p.sex FROM studies st LEFT JOIN patients p ON p.pk = st.patient_pk
       WHERE st.study_uid = ?`,
    )
    .get(studyUid) as Record<string, string | number | null> | undefined;
  if (!st) return null;
  const series = db
    .prepare(
      `SELECT se.*, (SELECT count(*) FROM instances i WHERE i.series_uid = se.series_uid) AS n,
              (SELECT count(*) FROM instances i WHERE i.series_uid = se.series_uid AND i.protocol = 'local') AS local
       FROM series se WHERE se.study_uid = ? ORDER BY CAST(se.series_number AS INTEGER), se.series_uid`,
    )
    .all(studyUid) as Record<string, string | number | null>[];
  const stateOf = db.prepare(`SELECT * FROM series_state WHERE series_uid = ?`);
  const analysesOf = db.prepare(`SELECT * FROM analyses WHERE series_uid = ? ORDER BY id DESC`);
  const details: SeriesDetail[] = series.map((se) => {
    const ps = stateOf.get(se.series_uid) as Record<string, string | number | null> | undefined;
    return {
      seriesInstanceUid: se.series_uid as string,
      modality: se.modality as string | null,
      seriesNumber: se.series_number as string | null,
      description: se.description as string | null,
      instances: se.n as number,
      results: (se.n as number) > 0 && se.local === se.n,
      pipeline: ps
        ? {
            state: ps.state as string, priority: ps.priority as number, priorityReason: ps.priority_reason as string | null,
            readyAt: iso(ps.ready_at as number | null), readyTrigger: ps.ready_trigger as string | null, queuedAt: iso(ps.queued_at as number | null),
            analysisStartedAt: iso(ps.analysis_started_at as number | null), analysisFinishedAt: iso(ps.analysis_finished_at as number | null),
            attempts: ps.attempts as number,
          }
        : null,
      analyses: (analysesOf.all(se.series_uid) as Record<string, string | number | null>[]).map((a) => ({
        id: a.id as number,
        analyzerId: a.analyzer_id as string | null,
        analyzerVersion: a.analyzer_version as string | null,
        status: a.status as string,
        reason: a.reason as string | null,
        findings: JSON.parse(a.findings as string) as unknown[],
        midlineShiftMm: a.midline_shift_mm as number | null,
        instanceCount: a.instance_count as number,
        startedAt: iso(a.started_at as number)!,
        finishedAt: iso(a.finished_at as number)!,
        elapsedMs: a.elapsed_ms as number | null,
        superseded: a.superseded_by !== null,
        supersededBy: a.superseded_by as number | null,
        results: a.results ? (JSON.parse(a.results as string) as unknown[]) : [],
      })),
    };
  });
  const current = details.flatMap((d) => d.analyses.filter((a) => !a.superseded).map((a) => a.status));
  return {
    study: {
      studyInstanceUid: studyUid,
      patient: { name: st.patient_name as string | null, id: (st.patient_id as string) || null, issuer: (st.issuer as string) || null, birthDate: st.birth_date as string | null, sex: st.sex as string | null },
      studyDate: st.study_date as string | null,
      studyTime: st.study_time as string | null,
      accessionNumber: st.accession_number as string | null,
      studyId: st.study_id as string | null,
      description: st.description as string | null,
      referringPhysician: st.referring_physician as string | null,
      firstReceivedAt: iso(st.first_received_at as number)!,
      lastReceivedAt: iso(st.last_received_at as number)!,
      state: studyState(details.flatMap((d) => (d.pipeline ? [d.pipeline.state] : [])), current),
    },
    series: details,
    alerts: listAlerts(db, { studyInstanceUid: studyUid, limit: 1000 }),
    timeline: readStudyTimeline(db, studyUid)!,
  };
}
