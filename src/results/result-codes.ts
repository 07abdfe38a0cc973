import type { IchSubtype } from '../analyzers/types.js';
import { CODES, LOCAL_SCHEME, regionCode, SUBTYPE_CODES, type Code as DicomCode } from './ich-codes.js';

/**
 * The coded concepts of the HL7 v2 and FHIR results. They are the DICOM SR's own codes
 * (src/results/ich-codes.ts, checked against PS3.16), so the RIS, the EHR and the PACS see the same
 * concepts; this file only names each coding scheme the way HL7 v2 (table 0396) and FHIR (system
 * URIs) spell it. Concepts without a confirmed standard code use the local scheme 99MEDGE, whose
 * FHIR system is `LOCAL_CODE_SYSTEM`.
 */

export interface Concept {
  code: string;
  display: string;
  /** HL7 v2 coding system name (table 0396), for CWE.3. */
  hl7: string;
  /** FHIR Coding.system. */
  fhir: string;
}

/** medge-local codes in FHIR. */
export const LOCAL_CODE_SYSTEM = 'urn:medge:code';

const SCHEMES: Readonly<Record<string, { hl7: string; fhir: string }>> = {
  SCT: { hl7: 'SCT', fhir: 'http://snomed.info/sct' },
  DCM: { hl7: 'DCM', fhir: 'http://dicom.nema.org/resources/ontology/DCM' },
  LN: { hl7: 'LN', fhir: 'http://loinc.org' },
  UCUM: { hl7: 'UCUM', fhir: 'http://unitsofmeasure.org' },
  [LOCAL_SCHEME.designator]: { hl7: LOCAL_SCHEME.designator, fhir: LOCAL_CODE_SYSTEM },
};

function concept(c: DicomCode): Concept {
  const scheme = SCHEMES[c.scheme] ?? SCHEMES[LOCAL_SCHEME.designator]!;
  return { code: c.value, display: c.meaning, ...scheme };
}

/** FHIR code-system URIs of HL7 terminology and identifiers. */
export const FHIR_SYSTEM = {
  ucum: 'http://unitsofmeasure.org',
  /** FHIR R4 ImagingStudy.identifier: a DICOM UID as `urn:oid:<uid>` (R4 ImagingStudy, notes). */
  dicomUid: 'urn:dicom:uid',
  v2DiagnosticService: 'http://terminology.hl7.org/CodeSystem/v2-0074',
  v2IdentifierType: 'http://terminology.hl7.org/CodeSystem/v2-0203',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  interpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  communicationCategory: 'http://terminology.hl7.org/CodeSystem/communication-category',
} as const;

/** Identifier system of an alert (DiagnosticReport.identifier), so that a revision updates the same report. */
export const ALERT_ID_SYSTEM = 'urn:medge:alert-id';
/** Identifier system of one dispatch of one revision (Communication.identifier), for idempotent retries. */
export const ALERT_DELIVERY_SYSTEM = 'urn:medge:alert-delivery';
/** Identifier system of one observation of an alert (Observation.identifier). */
export const ALERT_FINDING_SYSTEM = 'urn:medge:alert-finding';

/** LOINC 24725-4 "CT Head" (PS3.16 CID 646 "Head CT"): HL7 OBR-4, FHIR DiagnosticReport.code. */
export const CT_HEAD: Concept = { code: '24725-4', display: 'CT Head', ...SCHEMES.LN! };

/** Observation codes (HL7 OBX-3, FHIR Observation.code and component.code). */
export const OBS = {
  /** The subtype is reported as a Finding (DCM 121071), as in the SR's TID 1501. */
  finding: concept(CODES.finding),
  volume: concept(CODES.volume),
  findingSite: concept(CODES.findingSite),
  thickness: concept(CODES.thickness),
  midlineShift: concept(CODES.midlineShift),
  studyUid: { code: '110180', display: 'Study Instance UID', ...SCHEMES.DCM! },
} as const satisfies Record<string, Concept>;

/** Present / absent (SNOMED CT qualifiers, PS3.16 CID 240). */
export const PRESENCE = { present: concept(CODES.present), absent: concept(CODES.absent) } as const;

/** The finding type of a rule as a concept: intracranial hemorrhage is SCT 1386000; other types are local. */
export function findingConcept(type: string): Concept {
  if (type === 'intracranial-hemorrhage') return concept(CODES.intracranialHemorrhage);
  return { code: type, display: type.replace(/-/g, ' '), ...SCHEMES[LOCAL_SCHEME.designator]! };
}

export function subtypeConcept(subtype: IchSubtype): Concept {
  return concept(SUBTYPE_CODES[subtype]);
}

/** The anatomic region as a concept (the brain for regions without a confirmed code). */
export function regionConcept(region: string): Concept {
  return concept(regionCode(region));
}

/** UCUM units: code and print name. */
export const UNITS = {
  mL: { code: 'mL', display: 'milliliter', ...SCHEMES.UCUM! },
  mm: { code: 'mm', display: 'millimeter', ...SCHEMES.UCUM! },
} as const satisfies Record<string, Concept>;

/** "left frontal", "bilateral temporoparietal": side and region in words. */
export function locationText(finding: { side: string; region: string }): string {
  return `${finding.side} ${finding.region}`;
}

/** The disclaimer every result carries (HL7 NTE, FHIR DiagnosticReport.conclusion). */
export const DISCLAIMER = 'Machine-generated triage result: not for diagnosis';
