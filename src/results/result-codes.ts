import type { IchSubtype } from '../analyzers/types.js';

/**
 * The codes the HL7 v2 and FHIR results share, in one place so that the RIS and the EHR see the same
 * concepts. Standard codes where a code is certain (LOINC for the procedure, UCUM units, HL7 tables);
 * medge-local codes for the findings themselves, on purpose: a wrong SNOMED CT code in a critical
 * result is worse than a local code that an interface engine maps once. Local codes are marked with
 * the HL7 local coding system `99MDG` (HL7 v2.5.1 table 0396: `99zzz` is a local system) and the
 * FHIR system `LOCAL_CODE_SYSTEM`.
 */

export interface Code {
  code: string;
  display: string;
}

/** HL7 v2 coding-system names (table 0396). */
export const HL7_SYSTEM = { loinc: 'LN', ucum: 'UCUM', local: '99MDG', yesNo: 'HL70136' } as const;

/** FHIR code-system URIs. */
export const FHIR_SYSTEM = {
  loinc: 'http://loinc.org',
  ucum: 'http://unitsofmeasure.org',
  /** FHIR R4 ImagingStudy.identifier: a DICOM UID as `urn:oid:<uid>` (R4 ImagingStudy, notes). */
  dicomUid: 'urn:dicom:uid',
  v2DiagnosticService: 'http://terminology.hl7.org/CodeSystem/v2-0074',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  interpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  communicationCategory: 'http://terminology.hl7.org/CodeSystem/communication-category',
} as const;

/** medge-local codes (findings, measurements) in FHIR. */
export const LOCAL_CODE_SYSTEM = 'urn:medge:code';
/** Identifier system of an alert (DiagnosticReport.identifier), so that a revision updates the same report. */
export const ALERT_ID_SYSTEM = 'urn:medge:alert-id';
/** Identifier system of one delivery of one revision (Communication.identifier), for idempotent retries. */
export const ALERT_DELIVERY_SYSTEM = 'urn:medge:alert-delivery';
/** Identifier system of one finding of an alert (Observation.identifier). */
export const ALERT_FINDING_SYSTEM = 'urn:medge:alert-finding';

/** LOINC 24725-4 "CT Head": the procedure (HL7 OBR-4, FHIR DiagnosticReport.code). */
export const CT_HEAD: Code = { code: '24725-4', display: 'CT Head' };

/** Local observation codes (HL7 OBX-3, FHIR Observation.code). */
export const OBS = {
  subtype: { code: 'ich-subtype', display: 'Intracranial hemorrhage subtype' },
  volume: { code: 'finding-volume', display: 'Finding volume' },
  location: { code: 'finding-location', display: 'Finding location' },
  maxThickness: { code: 'finding-max-thickness', display: 'Finding maximum thickness' },
  midlineShift: { code: 'midline-shift', display: 'Midline shift' },
  studyUid: { code: 'study-instance-uid', display: 'Study Instance UID' },
} as const satisfies Record<string, Code>;

/** The finding type of a rule, e.g. 'intracranial-hemorrhage', as a code. */
export function findingCode(type: string): Code {
  return { code: type, display: FINDING_DISPLAY[type] ?? type.replace(/-/g, ' ') };
}

const FINDING_DISPLAY: Record<string, string> = { 'intracranial-hemorrhage': 'Intracranial hemorrhage' };

export function subtypeCode(subtype: IchSubtype | string): Code {
  return { code: subtype, display: `${subtype[0]?.toUpperCase() ?? ''}${subtype.slice(1)} hemorrhage` };
}

/** UCUM units (code and print name). */
export const UNITS = {
  mL: { code: 'mL', display: 'milliliter' },
  mm: { code: 'mm', display: 'millimeter' },
} as const satisfies Record<string, Code>;

/** "left frontal", "bilateral temporoparietal": side and region in words. */
export function locationText(finding: { side: string; region: string }): string {
  return finding.side === 'midline' ? `midline ${finding.region}` : `${finding.side} ${finding.region}`;
}

/** The disclaimer every result carries (HL7 NTE, FHIR DiagnosticReport.conclusion). */
export const DISCLAIMER = 'Machine-generated triage result: not for diagnosis';
