import { randomBytes } from 'node:crypto';
import type { AlertMessage } from '../alerts/types.js';
import { MedgeError } from '../errors.js';
import { components, ENCODING_CHARACTERS, fieldsAt, HL7_DELIMITERS, hl7FromDicom, hl7Instant, segment, xpnFromDicom } from './hl7-encoding.js';
import { CT_HEAD, DISCLAIMER, findingConcept, locationText, OBS, PRESENCE, subtypeConcept, UNITS, type Concept } from './result-codes.js';

/**
 * An alert as an HL7 v2.5.1 ORU^R01 message (chapter 7, 7.3.1 "ORU^R01 Unsolicited Observation
 * Message"), for a RIS to file the machine result to the order:
 *
 *   MSH  header, version 2.5.1, UTF-8 (MSH-18)
 *   PID  the patient of the study (PID-3 id and issuer, PID-5 name, PID-7 birth date, PID-8 sex)
 *   ORC  RE "observations to follow", accession number as placer and filler order number
 *   OBR  same order numbers, OBR-4 LOINC 24725-4 CT Head, OBR-7 study date/time, OBR-25 F or C
 *   NTE  the disclaimer, then the headline
 *   OBX  the finding type (SCT 1386000 intracranial hemorrhage) present or absent (CWE, SCT
 *        52101004 / 272519000), OBX-8 AA when critical
 *   OBX  per finding, OBX-4 sub-id = finding number: subtype as a Finding (CWE, DCM 121071), volume
 *        (NM mL, SCT 118565006), location (ST, SCT 363698007 Finding Site), maximum thickness
 *        (NM mm, LN 59089-3, extra-axial bleeds only)
 *   OBX  midline shift (NM mm, local) when measured, Study Instance UID (ST, DCM 110180)
 *
 * The codes are the DICOM SR's (src/results/result-codes.ts), so every consumer sees one vocabulary.
 *
 * Revision 1 is final (OBR-25 and OBX-11 F); a later revision is a correction (C) of the same order,
 * which is how a RIS replaces a result it already filed (HL7 v2.5.1 table 0123 and 0085).
 */

export interface OruOptions {
  sendingApplication?: string;
  sendingFacility?: string;
  receivingApplication?: string;
  receivingFacility?: string;
  /** MSH-10; default 20 random hex characters (MSH-10 is ST of at most 20 in 2.5.1). */
  controlId?: string;
  /** MSH-7; default now. */
  now?: Date;
}

export interface OruMessage {
  /** Segments separated by CR, no trailing CR: the payload of one MLLP block. */
  text: string;
  /** MSH-10, which the ACK echoes in MSA-2. */
  controlId: string;
}

/** Sending application when the configuration names none. */
export const DEFAULT_SENDING_APPLICATION = 'MEDGE';

export function buildOruR01(message: AlertMessage, options: OruOptions = {}): OruMessage {
  if (!message.study.studyInstanceUid) {
    throw new MedgeError('MEDGE_ERR_RESULTS_BUILD', `alert ${message.alertId}: the study has no Study Instance UID`, { alertId: message.alertId });
  }
  const controlId = options.controlId ?? randomBytes(10).toString('hex').toUpperCase();
  const now = options.now ?? new Date();
  const status = message.revision > 1 ? 'C' : 'F';
  const order = components(message.study.accessionNumber ?? message.alertId, message.study.accessionNumber ? null : DEFAULT_SENDING_APPLICATION);

  const segments = [
    msh(controlId, now, options),
    pid(message),
    segment('ORC', fieldsAt({ 1: 'RE', 2: order, 3: order, 5: 'CM' })),
    segment(
      'OBR',
      fieldsAt({
        1: '1',
        2: order,
        3: order,
        4: cwe(CT_HEAD),
        7: hl7FromDicom(message.study.studyDate, message.study.studyTime) || hl7Instant(new Date(message.analysis.finishedAt)),
        22: hl7Instant(new Date(message.dispatchedAt)),
        24: 'CT', // HL7 table 0074: CAT scan
        25: status,
      }),
    ),
    segment('NTE', fieldsAt({ 1: '1', 2: 'L', 3: components(DISCLAIMER) })),
    segment('NTE', fieldsAt({ 1: '2', 2: 'L', 3: components(message.headline) })),
    ...observations(message, status),
  ];
  return { text: segments.join(HL7_DELIMITERS.segment), controlId };
}

function msh(controlId: string, now: Date, o: OruOptions): string {
  // MSH-1 is the field separator itself, so MSH-n sits at index n-1 of the joined fields (2.14.9).
  const f = fieldsAt({
    1: ENCODING_CHARACTERS,
    2: components(o.sendingApplication ?? DEFAULT_SENDING_APPLICATION),
    3: components(o.sendingFacility),
    4: components(o.receivingApplication),
    5: components(o.receivingFacility),
    6: hl7Instant(now),
    8: 'ORU^R01^ORU_R01',
    9: components(controlId),
    10: 'P', // processing id: production (table 0103)
    11: '2.5.1',
    17: 'UNICODE UTF-8', // MSH-18 character set (table 0211): names may hold any script
  });
  return segment('MSH', f);
}

function pid(m: AlertMessage): string {
  const p = m.patient;
  return segment(
    'PID',
    fieldsAt({
      1: '1',
      // CX: id ^ check digit ^ scheme ^ assigning authority (HD namespace id) (2A.14)
      3: p.id ? [components(p.id), '', '', components(p.issuer)].join(HL7_DELIMITERS.component).replace(/\^+$/, '') : '',
      5: p.name ? xpnFromDicom(p.name) : '',
      7: p.birthDate && /^\d{8}$/.test(p.birthDate) ? p.birthDate : '',
      8: p.sex === 'M' || p.sex === 'F' || p.sex === 'O' ? p.sex : 'U', // table 0001
    }),
  );
}

function observations(m: AlertMessage, status: string): string[] {
  const out: string[] = [];
  const observedAt = hl7Instant(new Date(m.analysis.finishedAt));
  const obx = (valueType: string, id: Concept, subId: string, value: string, units = '', abnormal = '') =>
    segment(
      'OBX',
      fieldsAt({
        1: String(out.length + 1),
        2: valueType,
        3: cwe(id),
        4: subId,
        5: value,
        6: units,
        8: abnormal,
        11: status,
        14: observedAt,
      }),
    );
  const findings = m.analysis.findings;
  const present = m.analysis.status === 'positive' && findings.length > 0;
  out.push(
    obx(
      'CWE',
      findingConcept(m.rule),
      '',
      cwe(present ? PRESENCE.present : PRESENCE.absent),
      '',
      present ? (m.severity === 'critical' ? 'AA' : 'A') : '', // table 0078: AA very abnormal, A abnormal
    ),
  );
  findings.forEach((f, i) => {
    const subId = String(i + 1);
    out.push(obx('CWE', OBS.finding, subId, cwe(subtypeConcept(f.subtype))));
    out.push(obx('NM', OBS.volume, subId, nm(f.volumeMl), cwe(UNITS.mL)));
    out.push(obx('ST', OBS.findingSite, subId, components(locationText(f))));
    if (f.maxThicknessMm !== undefined) out.push(obx('NM', OBS.thickness, subId, nm(f.maxThicknessMm), cwe(UNITS.mm)));
  });
  if (m.analysis.midlineShiftMm !== undefined) out.push(obx('NM', OBS.midlineShift, '', nm(m.analysis.midlineShiftMm), cwe(UNITS.mm)));
  out.push(obx('ST', OBS.studyUid, '', components(m.study.studyInstanceUid)));
  return out;
}

/** CWE (2A.13) / CE: identifier ^ text ^ name of coding system. */
function cwe(c: Concept): string {
  return components(c.code, c.display, c.hl7);
}

/** NM (2A.49): an optional sign, digits and an optional decimal point; never an exponent. */
function nm(value: number): string {
  if (!Number.isFinite(value)) throw new MedgeError('MEDGE_ERR_RESULTS_BUILD', `a measurement is not a finite number (${value})`);
  return String(Math.round(value * 100) / 100);
}
