import dicomParser, { type DataSet } from 'dicom-parser';
import { constants, inflateRawSync } from 'node:zlib';
import { MedgeError } from '../errors.js';
import { TS } from './uids.js';
import { textDecoder } from './charset.js';
import { readFileMeta } from './part10.js';
import { hex, scanDataset, scannableSyntax, type ValueRef } from './header-scan.js';

/** Tags as dicom-parser names them (xGGGGEEEE). */
const PIXEL_DATA = 'x7fe00010';

/** The header attributes ingest needs, read leniently (house style 2). null when absent. */
export interface InstanceHeader {
  sopClassUid: string | null;
  sopInstanceUid: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  patientId: string | null;
  issuerOfPatientId: string | null;
  patientName: string | null;
  patientBirthDate: string | null;
  patientSex: string | null;
  studyDate: string | null;
  studyTime: string | null;
  accessionNumber: string | null;
  studyId: string | null;
  studyDescription: string | null;
  referringPhysicianName: string | null;
  modality: string | null;
  seriesNumber: string | null;
  seriesDescription: string | null;
  bodyPartExamined: string | null;
  seriesDate: string | null;
  instanceNumber: string | null;
  rows: number | null;
  columns: number | null;
  numberOfFrames: string | null;
  imagePosition: string | null;
  imageOrientation: string | null;
  /** Protocol Name (0018,1030): the pipeline matches its priority patterns on it. */
  protocolName?: string | null;
  /** Images in Acquisition (0020,1002), IS: an expected count the pipeline judges completeness by. */
  imagesInAcquisition?: string | null;
  /** Number of Series Related Instances (0020,1209), IS: the same, where a sender gives it. */
  seriesRelatedInstances?: string | null;
}

export type HeaderParse =
  | { kind: 'ok'; header: InstanceHeader }
  /** The bytes end before the header does: call again with more. */
  | { kind: 'need-more' };

export type DataSetParse = { kind: 'ok'; dataSet: DataSet } | { kind: 'need-more' };

/**
 * Parses a Part 10 file's dataset header with dicom-parser. `bytes` is the file or a prefix of it;
 * `totalLength` is the whole file's length. With a prefix, parsing stops at Pixel Data, and a
 * prefix that ends inside the header asks for more. Every top-level element parsed must fit in
 * the file: a lying length is an error (PS3.5 7.1), caught here without reading the pixels.
 */
export function parseInstanceHeader(bytes: Buffer, transferSyntaxUid: string, totalLength: number, datasetOffset?: number): HeaderParse {
  const scanned = scanHeader(bytes, transferSyntaxUid, bytes.length >= totalLength, datasetOffset);
  if (scanned === undefined) return parseHeaderWithDicomParser(bytes, transferSyntaxUid, totalLength);
  if (scanned.kind === 'need-more') return scanned;
  scanned.verify(totalLength);
  return { kind: 'ok', header: scanned.header };
}

/**
 * The same through dicom-parser: the path for deflated datasets, and the lean scanner's oracle in
 * its tests (header-scan.test.ts).
 */
export function parseHeaderWithDicomParser(bytes: Buffer, transferSyntaxUid: string, totalLength: number): HeaderParse {
  const parsed = parseDataSetHeader(bytes, transferSyntaxUid, totalLength);
  return parsed.kind === 'ok' ? { kind: 'ok', header: readHeader(parsed.dataSet) } : parsed;
}

/**
 * The header of an image while its file is still arriving: parsed from a prefix that reaches
 * Pixel Data, with the length check (`verify`) left for when the whole length is known. Anything
 * else (no Pixel Data in the prefix, a deflated dataset) is 'need-more': parse it at the end.
 */
export function parseImageHeaderEarly(bytes: Buffer, transferSyntaxUid: string, datasetOffset?: number): { kind: 'ok'; header: InstanceHeader; verify(totalLength: number): void } | { kind: 'need-more' } {
  if (transferSyntaxUid === TS.DeflatedExplicitVRLittleEndian) return { kind: 'need-more' };
  const scanned = scanHeader(bytes, transferSyntaxUid, false, datasetOffset);
  if (scanned !== undefined) return scanned;
  let parsed: DataSetParse;
  try {
    parsed = parseDataSetHeader(bytes, transferSyntaxUid, Number.MAX_SAFE_INTEGER);
  } catch {
    return { kind: 'need-more' };
  }
  if (parsed.kind !== 'ok' || !parsed.dataSet.elements[PIXEL_DATA]) return { kind: 'need-more' };
  const ds = parsed.dataSet;
  return { kind: 'ok', header: readHeader(ds), verify: (total) => checkLengths(ds, total) };
}

/** The dicom-parser DataSet up to Pixel Data (the whole one when `bytes` is the whole file), checked as above. */
export function parseDataSetHeader(bytes: Buffer, transferSyntaxUid: string, totalLength: number): DataSetParse {
  const complete = bytes.length >= totalLength;
  const deflated = transferSyntaxUid === TS.DeflatedExplicitVRLittleEndian;
  let ds: DataSet;
  try {
    ds = dicomParser.parseDicom(bytes, {
      untilTag: complete ? undefined : PIXEL_DATA,
      inflater: deflated ? inflateDataset : undefined,
    } as dicomParser.ParseDicomOptions);
  } catch (err) {
    if (!complete) return { kind: 'need-more' };
    const reason = typeof err === 'string' ? err : (err as { exception?: unknown }).exception ?? err;
    throw new MedgeError('MEDGE_ERR_INGEST_PARSE', `the dataset cannot be parsed: ${String(reason)}`, {});
  }
  if (!complete && !ds.elements[PIXEL_DATA] && !reachedEnd(ds, bytes.length)) return { kind: 'need-more' };
  // A deflated dataset's offsets are in the inflated bytes; only a whole one can be checked.
  if (!deflated) checkLengths(ds, totalLength);
  else if (complete) checkLengths(ds, ds.byteArray.length);
  return { kind: 'ok', dataSet: ds };
}

/** The deflated dataset (PS3.5 A.5) is inflated leniently, so that a prefix yields what it can. */
export function inflateDataset(arr: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(arr.subarray(position), { finishFlush: constants.Z_SYNC_FLUSH });
  const out = new Uint8Array(position + inflated.length);
  out.set(arr.subarray(0, position), 0);
  out.set(inflated, position);
  return out;
}

function reachedEnd(ds: DataSet, length: number): boolean {
  return Object.values(ds.elements).some((e) => e.dataOffset + e.length >= length);
}

function checkLengths(ds: DataSet, length: number): void {
  for (const e of Object.values(ds.elements)) {
    if (e.length !== 0xffffffff && e.dataOffset + e.length > length) {
      throw new MedgeError(
        'MEDGE_ERR_INGEST_PARSE',
        `element (${e.tag.slice(1, 5)},${e.tag.slice(5)}) claims ${e.length} bytes but only ${length - e.dataOffset} remain`,
        { tag: e.tag },
      );
    }
  }
}

function readHeader(ds: DataSet): InstanceHeader {
  const s = (tag: string): string | null => {
    try {
      const v = ds.string(tag);
      return v === undefined || v === '' ? null : v;
    } catch {
      return null;
    }
  };
  const raw = (tag: string): string | null => {
    const e = ds.elements[tag];
    if (!e || e.length === 0) return null;
    try {
      return ds.string(tag) === undefined ? null : Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + e.dataOffset, e.length).toString('latin1').trim();
    } catch {
      return null;
    }
  };
  // Text that may be in the Specific Character Set (PS3.5 6.1.2.3: SH, LO, ST, LT, UC, UT and PN).
  const decodeText = textDecoder(raw('x00080005'));
  const text = (tag: string): string | null => {
    const e = ds.elements[tag];
    if (!e || e.length === 0 || e.dataOffset + e.length > ds.byteArray.length) return null;
    const v = decodeText(ds.byteArray.subarray(e.dataOffset, e.dataOffset + e.length)).replace(/\0+$/, '').trim();
    return v === '' ? null : v;
  };
  const us = (tag: string): number | null => {
    try {
      return ds.uint16(tag) ?? null;
    } catch {
      return null;
    }
  };
  return {
    sopClassUid: s('x00080016'),
    sopInstanceUid: s('x00080018'),
    studyInstanceUid: s('x0020000d'),
    seriesInstanceUid: s('x0020000e'),
    patientId: text('x00100020'),
    issuerOfPatientId: text('x00100021'),
    patientName: text('x00100010'),
    patientBirthDate: s('x00100030'),
    patientSex: s('x00100040'),
    studyDate: s('x00080020'),
    studyTime: s('x00080030'),
    accessionNumber: text('x00080050'),
    studyId: text('x00200010'),
    studyDescription: text('x00081030'),
    referringPhysicianName: text('x00080090'),
    modality: s('x00080060'),
    seriesNumber: s('x00200011'),
    seriesDescription: text('x0008103e'),
    bodyPartExamined: s('x00180015'),
    seriesDate: s('x00080021'),
    instanceNumber: s('x00200013'),
    rows: us('x00280010'),
    columns: us('x00280011'),
    numberOfFrames: s('x00280008'),
    imagePosition: raw('x00200032'),
    imageOrientation: raw('x00200037'),
    protocolName: text('x00181030'),
    imagesInAcquisition: s('x00201002'),
    seriesRelatedInstances: s('x00201209'),
  };
}

/** The tags readHeader reads, as numbers, for the lean scanner (header-scan.ts). */
const HEADER_TAGS = {
  specificCharacterSet: 0x00080005, sopClassUid: 0x00080016, sopInstanceUid: 0x00080018, studyDate: 0x00080020, seriesDate: 0x00080021,
  studyTime: 0x00080030, accessionNumber: 0x00080050, modality: 0x00080060, referringPhysicianName: 0x00080090,
  studyDescription: 0x00081030, seriesDescription: 0x0008103e, patientName: 0x00100010, patientId: 0x00100020,
  issuerOfPatientId: 0x00100021, patientBirthDate: 0x00100030, patientSex: 0x00100040, bodyPartExamined: 0x00180015,
  protocolName: 0x00181030, studyInstanceUid: 0x0020000d, seriesInstanceUid: 0x0020000e, studyId: 0x00200010,
  seriesNumber: 0x00200011, instanceNumber: 0x00200013, imagePosition: 0x00200032, imageOrientation: 0x00200037,
  imagesInAcquisition: 0x00201002, seriesRelatedInstances: 0x00201209, numberOfFrames: 0x00280008, rows: 0x00280010, columns: 0x00280011,
} as const;
const WANTED: ReadonlySet<number> = new Set(Object.values(HEADER_TAGS));

type Scanned = { kind: 'ok'; header: InstanceHeader; verify(totalLength: number): void } | { kind: 'need-more' };

/**
 * The header through the lean scanner, with the same values and errors as dicom-parser's path
 * (readHeader, checkLengths); undefined where that path must be taken (deflated, or not Part 10).
 * `complete`: `bytes` is the whole file (then the fragments of encapsulated pixel data are walked
 * too); a prefix must reach Pixel Data, as dicom-parser's untilTag did. `datasetOffset`: where the
 * dataset begins, when the caller read the file meta already.
 */
function scanHeader(bytes: Buffer, transferSyntaxUid: string, complete: boolean, datasetOffset?: number): Scanned | undefined {
  const syntax = scannableSyntax(transferSyntaxUid);
  if (!syntax) return undefined;
  let start = datasetOffset;
  if (start === undefined) {
    const meta = readFileMeta(bytes);
    if (meta === null) return undefined;
    if (meta === undefined) return complete ? undefined : { kind: 'need-more' };
    start = meta.datasetOffset;
  }
  const scan = scanDataset(bytes, start, syntax, WANTED, complete);
  if (scan.kind === 'need-more') return scan;
  if (scan.kind === 'malformed') {
    const lying = scan.reason.startsWith('element ');
    throw new MedgeError('MEDGE_ERR_INGEST_PARSE', lying ? scan.reason : `the dataset cannot be parsed: ${scan.reason}`, scan.tag === undefined ? {} : { tag: `x${scan.tag.toString(16).padStart(8, '0')}` });
  }
  const pixel = scan.pixelData;
  if (!complete && !pixel) return { kind: 'need-more' };
  const header = headerFromValues(bytes, scan.values, scan.little);
  const verify = (totalLength: number) => {
    if (pixel && pixel.length !== 0xffffffff && pixel.offset + pixel.length > totalLength) {
      throw new MedgeError('MEDGE_ERR_INGEST_PARSE', `element ${hex(0x7fe00010)} claims ${pixel.length} bytes but only ${totalLength - pixel.offset} remain`, { tag: 'x7fe00010' });
    }
  };
  return { kind: 'ok', header, verify };
}

/** readHeader's values from the scanner's value positions (the same trimming and decoding). */
function headerFromValues(bytes: Buffer, values: Map<number, ValueRef>, little: boolean): InstanceHeader {
  const value = (tag: number) => {
    const v = values.get(tag);
    return v && v.length > 0 ? bytes.subarray(v.offset, v.offset + v.length) : undefined;
  };
  /** dicom-parser's string(): up to the first NUL, trimmed. */
  const s = (tag: number): string | null => {
    const b = value(tag);
    if (!b) return null;
    const nul = b.indexOf(0);
    const v = b.toString('latin1', 0, nul < 0 ? b.length : nul).trim();
    return v === '' ? null : v;
  };
  const raw = (tag: number): string | null => {
    const b = value(tag);
    return b ? b.toString('latin1').trim() : null;
  };
  const decodeText = textDecoder(raw(HEADER_TAGS.specificCharacterSet));
  const text = (tag: number): string | null => {
    const b = value(tag);
    if (!b) return null;
    const v = decodeText(b).replace(/\0+$/, '').trim();
    return v === '' ? null : v;
  };
  const us = (tag: number): number | null => {
    const b = value(tag);
    return b && b.length >= 2 ? (little ? b.readUInt16LE(0) : b.readUInt16BE(0)) : null;
  };
  const t = HEADER_TAGS;
  return {
    sopClassUid: s(t.sopClassUid),
    sopInstanceUid: s(t.sopInstanceUid),
    studyInstanceUid: s(t.studyInstanceUid),
    seriesInstanceUid: s(t.seriesInstanceUid),
    patientId: text(t.patientId),
    issuerOfPatientId: text(t.issuerOfPatientId),
    patientName: text(t.patientName),
    patientBirthDate: s(t.patientBirthDate),
    patientSex: s(t.patientSex),
    studyDate: s(t.studyDate),
    studyTime: s(t.studyTime),
    accessionNumber: text(t.accessionNumber),
    studyId: text(t.studyId),
    studyDescription: text(t.studyDescription),
    referringPhysicianName: text(t.referringPhysicianName),
    modality: s(t.modality),
    seriesNumber: s(t.seriesNumber),
    seriesDescription: text(t.seriesDescription),
    bodyPartExamined: s(t.bodyPartExamined),
    seriesDate: s(t.seriesDate),
    instanceNumber: s(t.instanceNumber),
    rows: us(t.rows),
    columns: us(t.columns),
    numberOfFrames: s(t.numberOfFrames),
    imagePosition: raw(t.imagePosition),
    imageOrientation: raw(t.imageOrientation),
    protocolName: text(t.protocolName),
    imagesInAcquisition: s(t.imagesInAcquisition),
    seriesRelatedInstances: s(t.seriesRelatedInstances),
  };
}
