import { randomUUID } from 'node:crypto';
import type { AlertMessage } from '../alerts/types.js';
import type { ReportedFinding } from '../analyzers/offline.js';
import { MedgeError } from '../errors.js';
import {
  ALERT_DELIVERY_SYSTEM, ALERT_FINDING_SYSTEM, ALERT_ID_SYSTEM, CT_HEAD, DISCLAIMER, FHIR_SYSTEM, findingConcept,
  locationText, OBS, regionConcept, subtypeConcept, UNITS, type Concept,
} from './result-codes.js';

/**
 * An alert as a FHIR R4 `transaction` Bundle (R4 3.1.0.11 "Transactions"), one atomic write:
 *
 * - Patient: conditional create by identifier (`ifNoneExist`), so the EHR's record is reused;
 * - DiagnosticReport: conditional update by the alert id (`PUT DiagnosticReport?identifier=`), so a
 *   revision replaces the report it corrects; status final, corrected from revision 2 on; category
 *   RAD and imaging; LOINC 24725-4 CT Head; the study as a logical ImagingStudy reference
 *   (identifier urn:dicom:uid, R4 ImagingStudy notes) because the EHR need not hold the study;
 * - Observation per finding (and one for the midline shift): conditional update by alert id and finding
 *   number; code SCT 1386000, volume as a UCUM mL quantity, subtype (DCM 121071 Finding) and thickness
 *   (LN 59089-3) as components, region as bodySite, interpretation AA (critical abnormal) or A;
 * - Communication: priority from the severity (critical: stat), about the DiagnosticReport, the
 *   headline as payload; conditional create by alert id, revision and event, so a retried delivery
 *   does not page twice.
 *
 * Entries reference each other by their `urn:uuid:` fullUrl; the server resolves those on commit.
 */

export type FhirResource = { resourceType: string } & Record<string, unknown>;

export interface BundleEntry {
  fullUrl: string;
  resource: FhirResource;
  request: { method: 'POST' | 'PUT'; url: string; ifNoneExist?: string };
}

export interface TransactionBundle {
  resourceType: 'Bundle';
  type: 'transaction';
  timestamp: string;
  entry: BundleEntry[];
}

export interface FhirBundleOptions {
  /** Bundle.timestamp; default now. */
  now?: Date;
  /** fullUrl ids; default crypto.randomUUID. */
  uuid?: () => string;
}

export function buildFhirTransaction(message: AlertMessage, options: FhirBundleOptions = {}): TransactionBundle {
  const uuid = options.uuid ?? randomUUID;
  const m = message;
  if (!m.study.studyInstanceUid) throw new MedgeError('MEDGE_ERR_RESULTS_BUILD', `alert ${m.alertId}: the study has no Study Instance UID`, { alertId: m.alertId });
  const status = m.revision > 1 ? 'corrected' : 'final';
  const issued = instant(m.dispatchedAt);
  const effective = fhirDate(m.study.studyDate) ?? instant(m.analysis.finishedAt);
  const study = { type: 'ImagingStudy', identifier: { system: FHIR_SYSTEM.dicomUid, value: `urn:oid:${m.study.studyInstanceUid}` }, display: m.study.description ?? undefined };
  const entries: BundleEntry[] = [];

  const patient = patientEntry(m, uuid());
  if (patient) entries.push(patient);
  const subject = patient ? { reference: patient.fullUrl } : undefined;
  const reportUrl = `urn:uuid:${uuid()}`;
  const interpretation = [coding(FHIR_SYSTEM.interpretation, m.severity === 'critical' ? ['AA', 'Critical abnormal'] : ['A', 'Abnormal'])];
  const observation = (key: string, resource: Record<string, unknown>): BundleEntry => ({
    fullUrl: `urn:uuid:${uuid()}`,
    resource: {
      resourceType: 'Observation',
      identifier: [{ system: ALERT_FINDING_SYSTEM, value: `${m.alertId}:${key}` }],
      status,
      category: [coding(FHIR_SYSTEM.observationCategory, ['imaging', 'Imaging'])],
      ...resource,
      subject,
      effectiveDateTime: effective,
      issued,
      derivedFrom: [study],
    },
    request: { method: 'PUT', url: `Observation?identifier=${token(ALERT_FINDING_SYSTEM, `${m.alertId}:${key}`)}` },
  });
  const observations = m.analysis.findings.map((f, i) => observation(String(i + 1), findingObservation(m.rule, f, interpretation)));
  if (m.analysis.midlineShiftMm !== undefined) {
    observations.push(observation('midline-shift', { code: concept(OBS.midlineShift), valueQuantity: quantity(m.analysis.midlineShiftMm, UNITS.mm) }));
  }
  const positive = m.analysis.status === 'positive' && m.analysis.findings.length > 0;

  entries.push({
    fullUrl: reportUrl,
    resource: {
      resourceType: 'DiagnosticReport',
      identifier: [{ system: ALERT_ID_SYSTEM, value: m.alertId }],
      basedOn: m.study.accessionNumber ? [{ type: 'ServiceRequest', identifier: accession(m.study.accessionNumber) }] : undefined,
      status,
      category: [
        coding(FHIR_SYSTEM.v2DiagnosticService, ['RAD', 'Radiology']),
        coding(FHIR_SYSTEM.observationCategory, ['imaging', 'Imaging']),
      ],
      code: concept(CT_HEAD),
      subject,
      effectiveDateTime: effective,
      issued,
      imagingStudy: [study],
      result: observations.map((o) => ({ reference: o.fullUrl })),
      conclusion: `${m.headline}. ${DISCLAIMER}.`,
      conclusionCode: positive ? [concept(findingConcept(m.rule))] : undefined,
    },
    request: { method: 'PUT', url: `DiagnosticReport?identifier=${token(ALERT_ID_SYSTEM, m.alertId)}` },
  });
  entries.push(...observations);

  const deliveryKey = `${m.alertId}:${m.revision}:${m.event}`;
  entries.push({
    fullUrl: `urn:uuid:${uuid()}`,
    resource: {
      resourceType: 'Communication',
      identifier: [{ system: ALERT_DELIVERY_SYSTEM, value: deliveryKey }],
      status: 'completed',
      category: [coding(FHIR_SYSTEM.communicationCategory, ['alert', 'Alert'])],
      priority: m.severity === 'critical' ? 'stat' : m.severity,
      subject,
      about: [{ reference: reportUrl }],
      sent: issued,
      payload: [{ contentString: m.headline }, { contentString: `${DISCLAIMER}. ${m.links.study}` }],
    },
    request: { method: 'POST', url: 'Communication', ifNoneExist: `identifier=${token(ALERT_DELIVERY_SYSTEM, deliveryKey)}` },
  });

  return { resourceType: 'Bundle', type: 'transaction', timestamp: new Date(options.now ?? Date.now()).toISOString(), entry: entries.map((e) => ({ ...e, resource: prune(e.resource) })) };
}

function findingObservation(rule: string, f: ReportedFinding, interpretation: unknown[]): Record<string, unknown> {
  const location = locationText(f);
  const sub = subtypeConcept(f.subtype);
  const component: unknown[] = [{ code: concept(OBS.finding), valueCodeableConcept: concept(sub) }];
  if (f.maxThicknessMm !== undefined) component.push({ code: concept(OBS.thickness), valueQuantity: quantity(f.maxThicknessMm, UNITS.mm) });
  return {
    code: { ...concept(findingConcept(rule)), text: `${sub.display}, ${location}` },
    valueQuantity: quantity(f.volumeMl, UNITS.mL),
    interpretation,
    bodySite: { ...concept(regionConcept(f.region)), text: location },
    component,
  };
}

function patientEntry(m: AlertMessage, id: string): BundleEntry | undefined {
  const p = m.patient;
  if (!p.id) return undefined; // without an identifier a conditional create would duplicate the patient
  const system = patientIdSystem(p.issuer);
  const [family, given, middle, prefix, suffix] = (p.name ?? '').split('=')[0]!.split('^').map((s) => s.trim());
  const name = family || given ? [{ family: family || undefined, given: [given, middle].filter((s): s is string => !!s), prefix: prefix ? [prefix] : undefined, suffix: suffix ? [suffix] : undefined }] : undefined;
  return {
    fullUrl: `urn:uuid:${id}`,
    resource: {
      resourceType: 'Patient',
      identifier: [{ system, value: p.id, assigner: p.issuer ? { display: p.issuer } : undefined }],
      name,
      gender: p.sex === 'M' ? 'male' : p.sex === 'F' ? 'female' : p.sex === 'O' ? 'other' : 'unknown',
      birthDate: fhirDate(p.birthDate),
    },
    request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${token(system, p.id)}` },
  };
}

/**
 * The identifier system of a DICOM Issuer of Patient ID (0010,0021): an OID as urn:oid:, a URI as it
 * is, a plain name under urn:medge:patient-id-issuer: (a local namespace an EHR maps to its own).
 */
export function patientIdSystem(issuer: string | null): string {
  if (!issuer) return 'urn:medge:patient-id-issuer';
  if (/^[0-2](\.(0|[1-9]\d*))+$/.test(issuer)) return `urn:oid:${issuer}`;
  if (/^[a-z][a-z0-9+.-]*:\S+$/i.test(issuer)) return issuer;
  return `urn:medge:patient-id-issuer:${encodeURIComponent(issuer)}`;
}

/** A token search value `system|value`, with FHIR search escaping (R4 search 3.1.1.5.7) then URL encoding. */
function token(system: string, value: string): string {
  const esc = (s: string) => s.replace(/[\\,$|]/g, (c) => `\\${c}`);
  return encodeURIComponent(`${esc(system)}|${esc(value)}`);
}

function accession(value: string) {
  return { type: coding(FHIR_SYSTEM.v2IdentifierType, ['ACSN', 'Accession ID']), value };
}

function coding(system: string, [code, display]: [string, string]) {
  return { coding: [{ system, code, display }] };
}

/** A CodeableConcept of one coding, with the display as text. */
function concept(c: Concept) {
  return { coding: [{ system: c.fhir, code: c.code, display: c.display }], text: c.display };
}

function quantity(value: number, unit: Concept) {
  return { value: Math.round(value * 100) / 100, unit: unit.code, system: unit.fhir, code: unit.code };
}

/** DICOM DA (YYYYMMDD) as FHIR date; undefined when missing or malformed. */
function fhirDate(da: string | null): string | undefined {
  const m = da ? /^(\d{4})(\d{2})(\d{2})$/.exec(da.trim()) : null;
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

/** An ISO 8601 string as a FHIR instant (UTC, with zone as the R4 instant type requires). */
function instant(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new MedgeError('MEDGE_ERR_RESULTS_BUILD', `not a date-time: ${JSON.stringify(iso)}`);
  return d.toISOString();
}

/** Drops undefined members and empty arrays: the R4 JSON format forbids empty arrays and nulls (R4 2.6.2). */
function prune<T>(value: T): T {
  if (Array.isArray(value)) return value.map(prune) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
      out[k] = prune(v);
    }
    return out as T;
  }
  return value;
}
