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
 * Parses a Part 10 file's dataset header (the lean scanner, or dicom-parser for deflated datasets).
 * `bytes` is the file or a prefix of it;
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
  // The scanner takes every syntax but deflate; a file that is not Part 10 is refused at the end.
  return scanHeader(bytes, transferSyntaxUid, false, datasetOffset) ?? { kind: 'need-more' };
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

/** The four ways readHeader reads a value, whichever reader found the elements. */
interface HeaderValues {
  /** dicom-parser's string(): up to the first NUL, trimmed; null when absent or empty. */
  string(tag: number): string | null;
  /** The whole value as Latin-1, trimmed (multi-valued DS keep their backslashes). */
  raw(tag: number): string | null;
  /** Text in the Specific Character Set (PS3.5 6.1.2.3: SH, LO, ST, LT, UC, UT and PN). */
  text(tag: number): string | null;
  uint16(tag: number): number | null;
}

/** readHeader's values from a dicom-parser DataSet. */
function dataSetValues(ds: DataSet): HeaderValues {
  const key = (tag: number) => `x${tag.toString(16).padStart(8, '0')}`;
  const bytesOf = (tag: number) => {
    const e = ds.elements[key(tag)];
    return e && e.length > 0 && e.dataOffset + e.length <= ds.byteArray.length ? ds.byteArray.subarray(e.dataOffset, e.dataOffset + e.length) : undefined;
  };
  const values: HeaderValues = {
    string: (tag) => {
      try {
        const v = ds.string(key(tag));
        return v === undefined || v === '' ? null : v;
      } catch {
        return null;
      }
    },
    raw: (tag) => {
      const b = bytesOf(tag);
      return b ? Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1').trim() : null;
    },
    text: (tag) => decodedText(bytesOf(tag), decodeText),
    uint16: (tag) => {
      try {
        return ds.uint16(key(tag)) ?? null;
      } catch {
        return null;
      }
    },
  };
  const decodeText = textDecoder(values.raw(HEADER_TAGS.specificCharacterSet));
  return values;
}

/** readHeader's values from the lean scanner's value positions (header-scan.ts). */
function scannedValues(bytes: Buffer, found: Map<number, ValueRef>, little: boolean): HeaderValues {
  const bytesOf = (tag: number) => {
    const v = found.get(tag);
    return v && v.length > 0 ? bytes.subarray(v.offset, v.offset + v.length) : undefined;
  };
  const values: HeaderValues = {
    string: (tag) => {
      const b = bytesOf(tag);
      if (!b) return null;
      const nul = b.indexOf(0);
      const v = b.toString('latin1', 0, nul < 0 ? b.length : nul).trim();
      return v === '' ? null : v;
    },
    raw: (tag) => bytesOf(tag)?.toString('latin1').trim() ?? null,
    text: (tag) => decodedText(bytesOf(tag), decodeText),
    uint16: (tag) => {
      const b = bytesOf(tag);
      return b && b.length >= 2 ? (little ? b.readUInt16LE(0) : b.readUInt16BE(0)) : null;
    },
  };
  const decodeText = textDecoder(values.raw(HEADER_TAGS.specificCharacterSet));
  return values;
}

function decodedText(bytes: Uint8Array | undefined, decode: (bytes: Uint8Array) => string): string | null {
  if (!bytes) return null;
  const v = decode(bytes).replace(/\0+$/, '').trim();
  return v === '' ? null : v;
}

function readHeader(ds: DataSet): InstanceHeader {
  return buildHeader(dataSetValues(ds));
}

/** The tags readHeader reads (the lean scanner keeps only these). */
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

function buildHeader(v: HeaderValues): InstanceHeader {
  const t = HEADER_TAGS;
  return {
    sopClassUid: v.string(t.sopClassUid),
    sopInstanceUid: v.string(t.sopInstanceUid),
    studyInstanceUid: v.string(t.studyInstanceUid),
    seriesInstanceUid: v.string(t.seriesInstanceUid),
    patientId: v.text(t.patientId),
    issuerOfPatientId: v.text(t.issuerOfPatientId),
    patientName: v.text(t.patientName),
    patientBirthDate: v.string(t.patientBirthDate),
    patientSex: v.string(t.patientSex),
    studyDate: v.string(t.studyDate),
    studyTime: v.string(t.studyTime),
    accessionNumber: v.text(t.accessionNumber),
    studyId: v.text(t.studyId),
    studyDescription: v.text(t.studyDescription),
    referringPhysicianName: v.text(t.referringPhysicianName),
    modality: v.string(t.modality),
    seriesNumber: v.string(t.seriesNumber),
    seriesDescription: v.text(t.seriesDescription),
    bodyPartExamined: v.string(t.bodyPartExamined),
    seriesDate: v.string(t.seriesDate),
    instanceNumber: v.string(t.instanceNumber),
    rows: v.uint16(t.rows),
    columns: v.uint16(t.columns),
    numberOfFrames: v.string(t.numberOfFrames),
    imagePosition: v.raw(t.imagePosition),
    imageOrientation: v.raw(t.imageOrientation),
    protocolName: v.text(t.protocolName),
    imagesInAcquisition: v.string(t.imagesInAcquisition),
    seriesRelatedInstances: v.string(t.seriesRelatedInstances),
  };
}

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
  const header = buildHeader(scannedValues(bytes, scan.values, scan.little));
  const verify = (totalLength: number) => {
    if (pixel && pixel.length !== 0xffffffff && pixel.offset + pixel.length > totalLength) {
      throw new MedgeError('MEDGE_ERR_INGEST_PARSE', `element ${hex(0x7fe00010)} claims ${pixel.length} bytes but only ${totalLength - pixel.offset} remain`, { tag: 'x7fe00010' });
    }
  };
  return { kind: 'ok', header, verify };
}
