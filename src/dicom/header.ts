import dicomParser, { type DataSet } from 'dicom-parser';
import { constants, inflateRawSync } from 'node:zlib';
import { MedgeError } from '../errors.js';
import { TS } from './uids.js';
import { textDecoder } from './charset.js';

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
export function parseInstanceHeader(bytes: Buffer, transferSyntaxUid: string, totalLength: number): HeaderParse {
  const parsed = parseDataSetHeader(bytes, transferSyntaxUid, totalLength);
  return parsed.kind === 'ok' ? { kind: 'ok', header: readHeader(parsed.dataSet) } : parsed;
}

/**
 * The header of an image while its file is still arriving: parsed from a prefix that reaches
 * Pixel Data, with the length check (`verify`) left for when the whole length is known. Anything
 * else (no Pixel Data in the prefix, a deflated dataset) is 'need-more': parse it at the end.
 */
export function parseImageHeaderEarly(bytes: Buffer, transferSyntaxUid: string): { kind: 'ok'; header: InstanceHeader; verify(totalLength: number): void } | { kind: 'need-more' } {
  if (transferSyntaxUid === TS.DeflatedExplicitVRLittleEndian) return { kind: 'need-more' };
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
