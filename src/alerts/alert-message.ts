import type { Db } from '../store/index-db.js';
import type { AlertSeverity } from '../config/schema.js';
import type { ReportedFinding } from '../analyzers/offline.js';
import type { AlertMessage } from './types.js';
import { MedgeError } from '../errors.js';

/** What one dispatch says: which alert, why it is sent now, when. */
export interface MessageRequest {
  alertId: string;
  event: AlertMessage['event'];
  /** ms since the epoch. */
  dispatchedAt: number;
  /** The node's public base URL (e.g. https://medge.example.org); without it links are paths. */
  publicUrl?: string;
}

interface Row {
  id: string; revision: number; severity: AlertSeverity; rule: string; state: string; created_at: number;
  study_uid: string; series_uid: string; analysis_id: number;
  a_analyzer_id: string | null; a_analyzer_version: string | null; a_status: AlertMessage['analysis']['status'];
  a_findings: string; a_midline: number | null; a_instances: number; a_finished_at: number;
  patient_id: string | null; issuer: string | null; patient_name: string | null; birth_date: string | null; sex: string | null;
  accession_number: string | null; study_id: string | null; study_date: string | null; study_time: string | null;
  study_description: string | null; referring_physician: string | null;
  modality: string | null; series_description: string | null;
}

const QUERY = `
  SELECT al.id, al.revision, al.severity, al.rule, al.state, al.created_at, al.study_uid, al.series_uid, al.analysis_id,
         a.analyzer_id AS a_analyzer_id, a.analyzer_version AS a_analyzer_version, a.status AS a_status,
         a.findings AS a_findings, a.midline_shift_mm AS a_midline, a.instance_count AS a_instances, a.finished_at AS a_finished_at,
         p.patient_id, p.issuer, p.patient_name, p.birth_date, p.sex,
         st.accession_number, st.study_id, st.study_date, st.study_time, st.description AS study_description,
         st.referring_physician, se.modality, se.description AS series_description
  FROM alerts al JOIN analyses a ON a.id = al.analysis_id
  LEFT JOIN studies st ON st.study_uid = al.study_uid
  LEFT JOIN patients p ON p.pk = st.patient_pk
  LEFT JOIN series se ON se.series_uid = al.series_uid
  WHERE al.id = ?`;

/**
 * Builds the message every channel is given from the stored rows (alert, the analysis it stands
 * on, patient, study, series), so that what is sent is what is recorded. Throws
 * MEDGE_ERR_ALERT_NOT_FOUND when the alert does not exist.
 */
export function buildAlertMessage(db: Db, req: MessageRequest): AlertMessage {
  const r = db.prepare(QUERY).get(req.alertId) as Row | undefined;
  if (!r) throw new MedgeError('MEDGE_ERR_ALERT_NOT_FOUND', `no alert ${req.alertId}`, { alertId: req.alertId });
  const findings = (JSON.parse(r.a_findings) as ReportedFinding[])
    .filter((f) => f.type === r.rule)
    .sort((a, b) => b.volumeMl - a.volumeMl);
  const studyPath = `/api/studies/${encodeURIComponent(r.study_uid)}`;
  return {
    alertId: r.id,
    revision: r.revision,
    event: req.event,
    severity: r.severity,
    rule: r.rule,
    headline: headline(r.rule, r.state === 'retracted' ? [] : findings),
    createdAt: new Date(r.created_at).toISOString(),
    dispatchedAt: new Date(req.dispatchedAt).toISOString(),
    patient: { id: r.patient_id || null, issuer: r.issuer || null, name: r.patient_name, birthDate: r.birth_date, sex: r.sex },
    study: {
      studyInstanceUid: r.study_uid,
      accessionNumber: r.accession_number,
      studyId: r.study_id,
      studyDate: r.study_date,
      studyTime: r.study_time,
      description: r.study_description,
      referringPhysician: r.referring_physician,
    },
    series: { seriesInstanceUid: r.series_uid, modality: r.modality, description: r.series_description, instances: r.a_instances },
    analysis: {
      id: r.analysis_id,
      analyzerId: r.a_analyzer_id ?? '',
      analyzerVersion: r.a_analyzer_version ?? '',
      status: r.a_status,
      findings,
      ...(r.a_midline !== null ? { midlineShiftMm: r.a_midline } : {}),
      finishedAt: new Date(r.a_finished_at).toISOString(),
    },
    links: { study: req.publicUrl ? `${req.publicUrl.replace(/\/+$/, '')}${studyPath}` : studyPath },
  };
}

/**
 * One line for a pager, largest finding first: "Intracranial hemorrhage, 12.3 mL, left frontal
 * subdural (+1 more)"; with no finding (retracted): "Intracranial hemorrhage no longer found".
 * No patient data: it is also stored as the alert's summary.
 */
export function headline(rule: string, findings: readonly ReportedFinding[]): string {
  const label = rule.charAt(0).toUpperCase() + rule.slice(1).replace(/-/g, ' ');
  const top = findings[0];
  if (!top) return `${label} no longer found`;
  const where = [top.side, top.region, top.subtype].filter((s) => s && s.length > 0).join(' ');
  const more = findings.length > 1 ? ` (+${findings.length - 1} more)` : '';
  return `${label}, ${top.volumeMl.toFixed(1)} mL, ${where}${more}`;
}
