import type { DataSet } from 'dicom-parser';
import { el, tag, type DataElement, type Vr } from '../dicom/dataset-writer.js';
import { parseDataSetHeader } from '../dicom/header.js';
import { readFileMeta } from '../dicom/part10.js';
import { MedgeError } from '../errors.js';
import type { Volume } from '../imaging/volume.js';

/** One slice of the volume as a reference to its source (PS3.3 C.12.1.1.3 / 10.3 SOP Instance Reference Macro). */
export interface SourceRef {
  sopClassUid: string;
  sopInstanceUid: string;
  /** Referenced Frame Number: only for multi-frame sources (single-frame sources are referenced whole). */
  frame?: number;
}

/** What every result object copies from the source series. */
export interface ResultsContext {
  /** Patient, General Study and Patient Study attributes, plus Specific Character Set (raw values). */
  patientStudy: DataElement[];
  studyInstanceUid: string;
  sourceSeriesUid: string;
  frameOfReferenceUid: string | null;
  positionReferenceIndicator: string;
  modality: string;
  /** One per volume slice, in volume order. */
  slices: SourceRef[];
  /** Distinct source instances in volume order (a multi-frame instance once). */
  instances: SourceRef[];
}

/**
 * Attributes copied from a source instance: PS3.3 C.7.1.1 Patient, C.7.2.1 General Study,
 * C.7.2.2 Patient Study. Type 2 ones are written empty when the source lacks them.
 */
const COPIED: ReadonlyArray<{ group: number; element: number; vr: Vr; type2: boolean }> = [
  { group: 0x0008, element: 0x0005, vr: 'CS', type2: false }, // Specific Character Set: copied values are raw bytes in it
  { group: 0x0008, element: 0x0020, vr: 'DA', type2: true }, // Study Date
  { group: 0x0008, element: 0x0030, vr: 'TM', type2: true }, // Study Time
  { group: 0x0008, element: 0x0050, vr: 'SH', type2: true }, // Accession Number
  { group: 0x0008, element: 0x0090, vr: 'PN', type2: true }, // Referring Physician's Name
  { group: 0x0008, element: 0x1030, vr: 'LO', type2: false }, // Study Description
  { group: 0x0010, element: 0x0010, vr: 'PN', type2: true }, // Patient's Name
  { group: 0x0010, element: 0x0020, vr: 'LO', type2: true }, // Patient ID
  { group: 0x0010, element: 0x0021, vr: 'LO', type2: false }, // Issuer of Patient ID
  { group: 0x0010, element: 0x0030, vr: 'DA', type2: true }, // Patient's Birth Date
  { group: 0x0010, element: 0x0040, vr: 'CS', type2: true }, // Patient's Sex
  { group: 0x0010, element: 0x1010, vr: 'AS', type2: false }, // Patient's Age
  { group: 0x0010, element: 0x1020, vr: 'DS', type2: false }, // Patient's Size
  { group: 0x0010, element: 0x1030, vr: 'DS', type2: false }, // Patient's Weight
  { group: 0x0012, element: 0x0062, vr: 'CS', type2: false }, // Patient Identity Removed
  { group: 0x0012, element: 0x0063, vr: 'LO', type2: false }, // De-identification Method
  { group: 0x0020, element: 0x0010, vr: 'SH', type2: true }, // Study ID
];

/**
 * Reads what the result objects need from the sources: the first slice's instance gives the patient
 * and study attributes; every slice's File Meta gives its SOP Class UID (Media Storage SOP Class UID,
 * PS3.10 7.1, equal to the dataset's), so only one dataset is parsed whole.
 */
export function readResultsContext(volume: Volume, sources: ReadonlyMap<string, Buffer>): ResultsContext {
  if (volume.sources.length === 0) throw new MedgeError('MEDGE_ERR_RESULTS_BUILD', 'the volume has no slices', {});
  const classes = new Map<string, string>();
  const bytesOf = (uid: string): Buffer => {
    const b = sources.get(uid);
    if (!b) throw new MedgeError('MEDGE_ERR_RESULTS_BUILD', `the source instance ${uid} is missing`, { sopInstanceUid: uid });
    return b;
  };
  const frameCounts = new Map<string, number>();
  for (const s of volume.sources) frameCounts.set(s.sopInstanceUid, (frameCounts.get(s.sopInstanceUid) ?? 0) + 1);
  const slices: SourceRef[] = [];
  const instances: SourceRef[] = [];
  for (const s of volume.sources) {
    let sopClassUid = classes.get(s.sopInstanceUid);
    if (sopClassUid === undefined) {
      const meta = readFileMeta(bytesOf(s.sopInstanceUid));
      if (!meta) throw new MedgeError('MEDGE_ERR_RESULTS_BUILD', `the source instance ${s.sopInstanceUid} is not a Part 10 file`, { sopInstanceUid: s.sopInstanceUid });
      sopClassUid = meta.mediaStorageSopClassUid;
      classes.set(s.sopInstanceUid, sopClassUid);
      instances.push({ sopClassUid, sopInstanceUid: s.sopInstanceUid });
    }
    // A multi-frame source (several slices from one instance, or an enhanced one) is referenced by frame.
    const multiFrame = frameCounts.get(s.sopInstanceUid)! > 1 || s.frame > 1;
    slices.push(multiFrame ? { sopClassUid, sopInstanceUid: s.sopInstanceUid, frame: s.frame } : { sopClassUid, sopInstanceUid: s.sopInstanceUid });
  }
  const firstUid = volume.sources[0]!.sopInstanceUid;
  const bytes = bytesOf(firstUid);
  const meta = readFileMeta(bytes)!;
  const parsed = parseDataSetHeader(bytes, meta.transferSyntaxUid, bytes.length);
  if (parsed.kind !== 'ok') throw new MedgeError('MEDGE_ERR_RESULTS_BUILD', `the source instance ${firstUid} cannot be parsed`, { sopInstanceUid: firstUid });
  const ds = parsed.dataSet;
  const patientStudy: DataElement[] = [];
  for (const c of COPIED) {
    const raw = rawText(ds, c.group, c.element);
    if (raw !== null && raw !== '') patientStudy.push(el(tag(c.group, c.element), c.vr, raw.split('\\')));
    else if (c.type2) patientStudy.push(el(tag(c.group, c.element), c.vr, ''));
  }
  // PS3.3 C.7.1.1: identity removed needs a method (1C). Sources that say YES without one exist
  // (the method sequence is not copied, or the source left the text empty): say so rather than drop it.
  const removed = rawText(ds, 0x0012, 0x0062);
  if (removed?.toUpperCase() === 'YES' && !patientStudy.some((e) => e.tag === tag(0x0012, 0x0063))) {
    patientStudy.push(el(tag(0x0012, 0x0063), 'LO', 'not stated by the source'));
  }
  return {
    patientStudy,
    studyInstanceUid: rawText(ds, 0x0020, 0x000d) || volume.meta.studyInstanceUid,
    sourceSeriesUid: volume.meta.seriesInstanceUid,
    frameOfReferenceUid: rawText(ds, 0x0020, 0x0052) || null,
    positionReferenceIndicator: rawText(ds, 0x0020, 0x1040) ?? '',
    modality: volume.meta.modality || 'CT',
    slices,
    instances,
  };
}

/**
 * A text value as its bytes in latin1 (one character per byte), padding removed: written back the
 * same way, the bytes are unchanged whatever the Specific Character Set (which is copied with them).
 */
function rawText(ds: DataSet, group: number, element: number): string | null {
  const key = `x${group.toString(16).padStart(4, '0')}${element.toString(16).padStart(4, '0')}`;
  const e = ds.elements[key];
  if (!e || e.length === 0 || e.length === 0xffffffff) return null;
  return Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + e.dataOffset, e.length).toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
}
