import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { MedgeError } from '../../errors.js';
import { buildFileMeta, readFileMeta } from '../part10.js';
import { TS } from '../uids.js';
import { identifyingWords, TextCleaner } from './clean-text.js';
import { checkSecret, dateShiftDays, patientKey, patientPseudonym } from './keys.js';
import { methodCodes, methodDescription, profileRow, type DeidOptions } from './profile.js';
import { readRawDataset, type RawElement } from './raw-dataset.js';
import { encodeRawDataset } from './raw-encoder.js';
import { textValue, textValues } from './values.js';
import { emptyStats, walkElements, type DeidStats, type WalkContext } from './walker.js';

export type { DeidStats };

/** One replacement the node must remember to re-identify what comes back (deid-map.ts). */
export interface DeidMapping {
  kind: 'uid' | 'patient';
  original: string;
  deidentified: string;
}

export interface DeidResult {
  /** The de-identified Part 10 file, in the transfer syntax it came in. */
  part10: Buffer;
  sopClassUid: string;
  /** The replacement UIDs (the originals when the Retain UIDs option is on). */
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  originalSopInstanceUid: string;
  patientPseudonym: string;
  /** Every UID replaced in this instance and the patient pseudonym, originals included: keep them on the node only. */
  mappings: DeidMapping[];
  stats: DeidStats;
}

const SOP_CLASS_UID = 0x00080016;
const SOP_INSTANCE_UID = 0x00080018;
const STUDY_UID = 0x0020000d;
const SERIES_UID = 0x0020000e;
const PATIENT_NAME = 0x00100010;
const PATIENT_ID = 0x00100020;
const ISSUER_OF_PATIENT_ID = 0x00100021;
const BIRTH_DATE = 0x00100030;
/** PS3.3 C.7.1.1 (Patient Module, de-identification attributes) and C.7.6.1 (General Image). */
const PATIENT_IDENTITY_REMOVED = 0x00120062;
const DEIDENTIFICATION_METHOD = 0x00120063;
const DEIDENTIFICATION_METHOD_CODE_SEQUENCE = 0x00120064;
const LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED = 0x00280303;
const CODE_VALUE = 0x00080100;
const CODING_SCHEME_DESIGNATOR = 0x00080102;
const CODE_MEANING = 0x00080104;
const ADDED: ReadonlySet<number> = new Set([PATIENT_IDENTITY_REMOVED, DEIDENTIFICATION_METHOD, DEIDENTIFICATION_METHOD_CODE_SEQUENCE, LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED]);

/**
 * Applies the PS3.15 Annex E Basic Application Confidentiality Profile, and the options asked for,
 * to a Part 10 file (PS3.15 E.1.1): every attribute of Table E.1-1, at every depth of nested
 * sequences, gets its action; private elements are removed; Patient's Name and ID become the
 * patient's pseudonym; Patient Identity Removed, De-identification Method and its Code Sequence
 * are added; the File Meta is written anew for the new SOP Instance UID, in the same transfer
 * syntax. Explicit and Implicit VR Little Endian, Deflated, and every encapsulated (compressed)
 * syntax, whose pixel data is copied as it is: the profile does not clean pixels (burned-in text
 * stays; see docs/deid.md). Big Endian is refused (MEDGE_ERR_DEID_UNSUPPORTED).
 *
 * Pure: the same file, secret and options give the same bytes. 0.26 ms median for a 525 KB CT
 * slice (docs/deid.md): the pixel data is referenced, not copied, until the output is joined.
 */
export function deidentifyPart10(file: Buffer, secret: Uint8Array, options: DeidOptions = {}): DeidResult {
  checkSecret(secret);
  const meta = readFileMeta(file);
  if (!meta) throw new MedgeError('MEDGE_ERR_DEID_MALFORMED', 'the file is not a DICOM Part 10 file (no DICM prefix or File Meta)', {});
  const ts = meta.transferSyntaxUid;
  if (ts === TS.ExplicitVRBigEndian) {
    throw new MedgeError('MEDGE_ERR_DEID_UNSUPPORTED', `transfer syntax ${ts} (Explicit VR Big Endian, retired) is not de-identified; convert the instance to little endian first`, { transferSyntaxUid: ts });
  }
  const explicit = ts !== TS.ImplicitVRLittleEndian;
  const deflated = ts === TS.DeflatedExplicitVRLittleEndian;
  let dataset = file.subarray(meta.datasetOffset);
  if (deflated) {
    try {
      dataset = inflateRawSync(dataset);
    } catch (err) {
      throw new MedgeError('MEDGE_ERR_DEID_MALFORMED', `the deflated dataset cannot be inflated: ${(err as Error).message}`, {}, err);
    }
  }
  const elements = readRawDataset(dataset, explicit, tableVr);

  const top = new Map(elements.map((e) => [e.tag, e]));
  const text = (tag: number) => (top.has(tag) ? textValues(top.get(tag)!.value, 'LO').join('\\').trim() : '');
  const key = patientKey(text(PATIENT_ID), text(ISSUER_OF_PATIENT_ID), text(PATIENT_NAME), text(BIRTH_DATE), text(STUDY_UID));
  const pseudonym = patientPseudonym(secret, key);
  let cleaner: TextCleaner | undefined;
  const ctx: WalkContext = {
    secret,
    options,
    pseudonym,
    shiftDays: dateShiftDays(secret, key),
    cleaner: () => (cleaner ??= new TextCleaner(identifyingWords(elements))),
    stats: emptyStats(),
    uids: new Map(),
  };
  const out = walkElements(elements.filter((e) => !ADDED.has(e.tag)), ctx, false);
  out.push(...addedElements(options));

  const uidOf = (tag: number) => textValues(out.find((e) => e.tag === tag)?.value, 'UI')[0] ?? '';
  const sopInstanceUid = uidOf(SOP_INSTANCE_UID);
  const sopClassUid = uidOf(SOP_CLASS_UID) || meta.mediaStorageSopClassUid;
  if (!sopInstanceUid) throw new MedgeError('MEDGE_ERR_DEID_MALFORMED', 'the dataset has no SOP Instance UID (0008,0018)', {});

  const body = encodeRawDataset(out, explicit);
  // PS3.10 7.1: Media Storage SOP Instance UID is the dataset's; no Source AE Title (it names the sender).
  const fileMeta = buildFileMeta({ mediaStorageSopClassUid: sopClassUid, mediaStorageSopInstanceUid: sopInstanceUid, transferSyntaxUid: ts });
  const part10 = Buffer.concat(deflated ? [fileMeta, deflateRawSync(Buffer.concat(body))] : [fileMeta, ...body]);

  const mappings: DeidMapping[] = [];
  for (const [original, deidentified] of ctx.uids) mappings.push({ kind: 'uid', original, deidentified });
  mappings.push({ kind: 'patient', original: key, deidentified: pseudonym });
  return {
    part10,
    sopClassUid,
    sopInstanceUid,
    studyInstanceUid: uidOf(STUDY_UID),
    seriesInstanceUid: uidOf(SERIES_UID),
    originalSopInstanceUid: textValues(top.get(SOP_INSTANCE_UID)?.value, 'UI')[0] ?? '',
    patientPseudonym: pseudonym,
    mappings,
    stats: ctx.stats,
  };
}

/** Implicit VR: the VR of the table's attributes (one VR only; '' where PS3.6 allows several). */
function tableVr(tag: number): string | undefined {
  const vr = profileRow(tag)?.[1];
  return vr && !vr.includes(' ') ? vr : undefined;
}

/** PS3.15 E.1.1 steps 3 and 4, and C.7.6.1.1.x for the dates options. */
function addedElements(options: DeidOptions): RawElement[] {
  const codes = methodCodes(options).map((c): RawElement[] => [
    { tag: CODE_VALUE, vr: 'SH', value: textValue(c.value) },
    { tag: CODING_SCHEME_DESIGNATOR, vr: 'SH', value: textValue('DCM') },
    { tag: CODE_MEANING, vr: 'LO', value: textValue(c.meaning) },
  ]);
  const added: RawElement[] = [
    { tag: PATIENT_IDENTITY_REMOVED, vr: 'CS', value: textValue('YES') },
    { tag: DEIDENTIFICATION_METHOD, vr: 'LO', value: textValue(methodDescription(options).join('\\')) },
    { tag: DEIDENTIFICATION_METHOD_CODE_SEQUENCE, vr: 'SQ', items: codes },
  ];
  if (options.dates === 'keep' || options.dates === 'shift') {
    added.push({ tag: LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED, vr: 'CS', value: textValue(options.dates === 'shift' ? 'MODIFIED' : 'UNMODIFIED') });
  }
  return added;
}
