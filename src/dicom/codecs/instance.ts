import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { MedgeError } from '../../errors.js';
import { inflateDataset } from '../header.js';
import { PIXEL_TS, type PixelInfo } from './types.js';

/** Tags as dicom-parser names them (xGGGGEEEE). */
const TAG = {
  transferSyntaxUid: 'x00020010',
  sopInstanceUid: 'x00080018',
  samplesPerPixel: 'x00280002',
  photometricInterpretation: 'x00280004',
  planarConfiguration: 'x00280006',
  numberOfFrames: 'x00280008',
  rows: 'x00280010',
  columns: 'x00280011',
  bitsAllocated: 'x00280100',
  bitsStored: 'x00280101',
  highBit: 'x00280102',
  pixelRepresentation: 'x00280103',
  extendedOffsetTable: 'x7fe00001',
  extendedOffsetTableLengths: 'x7fe00002',
  floatPixelData: 'x7fe00008',
  doubleFloatPixelData: 'x7fe00009',
  pixelData: 'x7fe00010',
} as const;

/** A parsed instance, kept per Buffer so that decoding frame after frame parses the file once. */
export interface PixelSource {
  info: PixelInfo;
  /** For error messages only (house style 12: UIDs, no patient data). */
  sopInstanceUid: string;
  dataSet: DataSet;
  pixelData: Element;
  /** Whether Pixel Data is encapsulated (PS3.5 A.4): undefined length with fragments. */
  encapsulated: boolean;
  /** Frame byte ranges of encapsulated pixel data, computed on first use. */
  frameRanges?: Array<Array<{ position: number; length: number }>>;
}

const cache = new WeakMap<Buffer, PixelSource>();

/** The Image Pixel attributes of a Part 10 file held in memory. Throws a MedgeError when it is not an image. */
export function readPixelInfo(part10: Buffer): PixelInfo {
  return openPixelSource(part10).info;
}

export function openPixelSource(part10: Buffer): PixelSource {
  const cached = cache.get(part10);
  if (cached) return cached;
  const source = parse(part10);
  cache.set(part10, source);
  return source;
}

function parse(part10: Buffer): PixelSource {
  let ds: DataSet;
  try {
    // The inflater is only called for the deflated syntax (PS3.5 A.5).
    ds = dicomParser.parseDicom(part10, { inflater: inflateDataset } as dicomParser.ParseDicomOptions);
  } catch (err) {
    const reason = typeof err === 'string' ? err : ((err as { exception?: unknown }).exception ?? err);
    const text = reason instanceof Error ? reason.message : String(reason);
    const code = /DICM prefix|not a valid DICOM P10/i.test(text) ? 'MEDGE_ERR_INGEST_NOT_DICOM' : 'MEDGE_ERR_INGEST_PARSE';
    throw new MedgeError(code, `cannot read the pixel data: the dataset cannot be parsed: ${text}`, {}, err);
  }
  const str = (tag: string): string | undefined => {
    try {
      const v = ds.string(tag);
      return v === undefined || v === '' ? undefined : v;
    } catch {
      return undefined;
    }
  };
  const us = (tag: string): number | undefined => {
    try {
      return ds.elements[tag] && ds.elements[tag].length >= 2 ? ds.uint16(tag) : undefined;
    } catch {
      return undefined;
    }
  };
  const transferSyntaxUid = str(TAG.transferSyntaxUid) ?? PIXEL_TS.ImplicitVRLittleEndian;
  const sopInstanceUid = str(TAG.sopInstanceUid) ?? '(no SOP Instance UID)';
  const where = `instance ${sopInstanceUid}, transfer syntax ${transferSyntaxUid}`;
  const pixelData = ds.elements[TAG.pixelData];
  if (!pixelData) {
    const other = ds.elements[TAG.floatPixelData] ? 'Float Pixel Data' : ds.elements[TAG.doubleFloatPixelData] ? 'Double Float Pixel Data' : undefined;
    throw new MedgeError(
      'MEDGE_ERR_CODEC_UNSUPPORTED',
      other ? `${where}: ${other} is not decoded (integer PixData only)` : `${where} has no Pixel Data (7FE0,0010): not an image`,
      { sopInstanceUid, transferSyntaxUid },
    );
  }
  const rows = us(TAG.rows);
  const columns = us(TAG.columns);
  const bitsAllocated = us(TAG.bitsAllocated);
  if (!rows || !columns || !bitsAllocated) {
    throw new MedgeError('MEDGE_ERR_CODEC_DECODE', `${where}: Rows, Columns or Bits Allocated is missing or zero`, {
      sopInstanceUid,
      transferSyntaxUid,
    });
  }
  const bitsStored = us(TAG.bitsStored) || bitsAllocated;
  const frames = Number.parseInt(str(TAG.numberOfFrames) ?? '1', 10);
  const info: PixelInfo = {
    rows,
    columns,
    samplesPerPixel: us(TAG.samplesPerPixel) || 1,
    bitsAllocated,
    bitsStored,
    highBit: us(TAG.highBit) ?? bitsStored - 1,
    pixelRepresentation: us(TAG.pixelRepresentation) === 1 ? 1 : 0,
    photometricInterpretation: str(TAG.photometricInterpretation) ?? 'MONOCHROME2',
    planarConfiguration: us(TAG.planarConfiguration) === 1 ? 1 : 0,
    numberOfFrames: Number.isFinite(frames) && frames > 0 ? frames : 1,
    transferSyntaxUid,
  };
  if (![1, 8, 16, 32].includes(bitsAllocated) || bitsStored > bitsAllocated || info.samplesPerPixel > 4) {
    throw new MedgeError(
      'MEDGE_ERR_CODEC_UNSUPPORTED',
      `${where}: Bits Allocated ${bitsAllocated}, Bits Stored ${bitsStored}, Samples per Pixel ${info.samplesPerPixel} is not a supported pixel layout`,
      { sopInstanceUid, transferSyntaxUid },
    );
  }
  const encapsulated = pixelData.encapsulatedPixelData === true || (pixelData.fragments?.length ?? 0) > 0;
  return { info, sopInstanceUid, dataSet: ds, pixelData, encapsulated };
}

/** The offsets of the Extended Offset Table (PS3.3 C.7.6.3.1.8), when present. */
export function extendedOffsets(source: PixelSource): { offsets: number[]; lengths: number[] } | undefined {
  const ds = source.dataSet;
  const eot = ds.elements[TAG.extendedOffsetTable];
  const eotl = ds.elements[TAG.extendedOffsetTableLengths];
  if (!eot || !eotl || eot.length % 8 !== 0 || eot.length !== eotl.length) return undefined;
  const read = (e: Element): number[] => {
    const view = new DataView(ds.byteArray.buffer, ds.byteArray.byteOffset + e.dataOffset, e.length);
    const out: number[] = [];
    for (let i = 0; i < e.length; i += 8) out.push(Number(view.getBigUint64(i, true)));
    return out;
  };
  return { offsets: read(eot), lengths: read(eotl) };
}

/** "instance X, transfer syntax Y, frame N" for messages. */
export function describe(source: PixelSource, frame?: number): string {
  return `instance ${source.sopInstanceUid}, transfer syntax ${source.info.transferSyntaxUid}${frame === undefined ? '' : `, frame ${frame}`}`;
}
