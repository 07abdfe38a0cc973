import { buildFileMeta, type FileMeta } from './part10.js';
import { TS } from './uids.js';

/**
 * A small strict writer of DICOM datasets (house style 2: read leniently, write strictly).
 * Flat elements and sequences with defined lengths, in Explicit or Implicit VR Little Endian
 * (PS3.5 7.1, A.1, A.2), elements sorted by tag (PS3.5 7.1), values padded to even length
 * (PS3.5 6.2: UI with NUL, text with space, OB/UN with NUL). Encapsulated pixel data and big
 * endian are not written.
 */

export type TextVr = 'AE' | 'AS' | 'CS' | 'DA' | 'DS' | 'DT' | 'IS' | 'LO' | 'LT' | 'PN' | 'SH' | 'ST' | 'TM' | 'UC' | 'UI' | 'UR' | 'UT';
export type NumberVr = 'US' | 'SS' | 'UL' | 'SL' | 'FL' | 'FD' | 'AT' | 'SV' | 'UV';
export type BinaryVr = 'OB' | 'OW' | 'OD' | 'OF' | 'OL' | 'OV' | 'UN';
export type Vr = TextVr | NumberVr | BinaryVr | 'SQ';

export type ElementValue = string | number | bigint | ReadonlyArray<string | number | bigint> | Uint8Array | ReadonlyArray<DataElement[]>;

export interface DataElement {
  /** (group << 16) | element, as an unsigned 32-bit number. */
  tag: number;
  vr: Vr;
  /** Text VRs: string or strings (joined with '\'), DS/IS may be numbers. Number VRs: numbers.
   *  Binary VRs: bytes (little endian already). SQ: an array of items, each a list of elements. */
  value: ElementValue;
}

export type TransferSyntax = typeof TS.ExplicitVRLittleEndian | typeof TS.ImplicitVRLittleEndian;

/** (gggg,eeee) as one unsigned number. */
export function tag(group: number, element: number): number {
  return ((group << 16) | element) >>> 0;
}

export function el(tagValue: number, vr: Vr, value: ElementValue): DataElement {
  return { tag: tagValue, vr, value };
}

/** PS3.5 7.1.2: VRs with a reserved field and a 4-byte length in Explicit VR. */
const LONG_VRS: ReadonlySet<Vr> = new Set<Vr>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const TEXT_VRS: ReadonlySet<string> = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);
/** PS3.5 6.2: maximum length of one value, in characters (PN: per component group, checked whole). */
const MAX_CHARS: Readonly<Record<string, number>> = {
  AE: 16, AS: 4, CS: 16, DA: 8, DS: 16, DT: 26, IS: 12, LO: 64, PN: 64 * 3 + 2, SH: 16, TM: 14, UI: 64,
  LT: 10240, ST: 1024,
};
/** VRs whose value is one string that may contain '\' (PS3.5 6.4: not multi-valued). */
const SINGLE_VALUE_TEXT: ReadonlySet<string> = new Set(['LT', 'ST', 'UR', 'UT']);
const NUMBER_SIZES: Readonly<Record<NumberVr, number>> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, AT: 4, SV: 8, UV: 8 };

const ITEM = tag(0xfffe, 0xe000);
const MAX_SHORT_LENGTH = 0xfffe;
const MAX_LONG_LENGTH = 0xfffffffe;

/** Encodes a dataset as a list of chunks (large values are not copied); concatenate or write them in order. */
export function encodeDataset(elements: readonly DataElement[], transferSyntaxUid: TransferSyntax = TS.ExplicitVRLittleEndian): Buffer[] {
  const explicit = checkTransferSyntax(transferSyntaxUid);
  const out: Buffer[] = [];
  encodeInto(elements, explicit, out, false);
  return out;
}

/** The dataset as one Buffer (no preamble, no File Meta). */
export function writeDataset(elements: readonly DataElement[], transferSyntaxUid: TransferSyntax = TS.ExplicitVRLittleEndian): Buffer {
  return Buffer.concat(encodeDataset(elements, transferSyntaxUid));
}

/**
 * A Part 10 file (PS3.10 7.1): preamble, "DICM", File Meta in Explicit VR LE, then the dataset in
 * meta.transferSyntaxUid. The SOP Class and Instance UIDs of the meta must match the dataset's.
 */
export function writePart10(meta: FileMeta, elements: readonly DataElement[]): Buffer {
  return Buffer.concat(encodePart10(meta, elements));
}

/** Like writePart10, as chunks (for instances too large to copy once more, e.g. 500 MB multi-frame). */
export function encodePart10(meta: FileMeta, elements: readonly DataElement[]): Buffer[] {
  checkTransferSyntax(meta.transferSyntaxUid);
  const sopClass = elements.find((e) => e.tag === tag(0x0008, 0x0016));
  const sopInstance = elements.find((e) => e.tag === tag(0x0008, 0x0018));
  if (sopClass && sopClass.value !== meta.mediaStorageSopClassUid) throw new Error('writePart10: SOP Class UID differs from the File Meta');
  if (sopInstance && sopInstance.value !== meta.mediaStorageSopInstanceUid) throw new Error('writePart10: SOP Instance UID differs from the File Meta');
  return [buildFileMeta(meta), ...encodeDataset(elements, meta.transferSyntaxUid as TransferSyntax)];
}

function checkTransferSyntax(uid: string): boolean {
  if (uid === TS.ExplicitVRLittleEndian) return true;
  if (uid === TS.ImplicitVRLittleEndian) return false;
  throw new Error(`dataset-writer: transfer syntax ${uid} is not written (only Explicit and Implicit VR Little Endian)`);
}

/** Appends the encoded elements to out and returns the number of bytes appended. */
function encodeInto(elements: readonly DataElement[], explicit: boolean, out: Buffer[], nested: boolean): number {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i]!;
    if (i > 0 && sorted[i - 1]!.tag === e.tag) throw new Error(`dataset-writer: duplicate tag ${hex(e.tag)}`);
    if (!nested && e.tag >>> 16 === 0x0002) throw new Error(`dataset-writer: ${hex(e.tag)} belongs in the File Meta, not the dataset`);
    if ((e.tag >>> 16) % 2 === 1 && (e.tag & 0xffff) < 0x0010 && (e.tag & 0xffff) !== 0) {
      throw new Error(`dataset-writer: ${hex(e.tag)} is not a valid private tag`);
    }
    total += encodeElement(e, explicit, out);
  }
  return total;
}

function encodeElement(e: DataElement, explicit: boolean, out: Buffer[]): number {
  if (e.vr === 'SQ') return encodeSequence(e, explicit, out);
  const value = encodeValue(e);
  const long = LONG_VRS.has(e.vr);
  if (explicit && !long && value.length > MAX_SHORT_LENGTH) throw new Error(`dataset-writer: ${hex(e.tag)} ${e.vr} value of ${value.length} bytes exceeds 65534`);
  if (value.length > MAX_LONG_LENGTH) throw new Error(`dataset-writer: ${hex(e.tag)} value too long`);
  const header = elementHeader(e.tag, e.vr, value.length, explicit);
  out.push(header);
  if (value.length) out.push(value);
  return header.length + value.length;
}

function encodeSequence(e: DataElement, explicit: boolean, out: Buffer[]): number {
  if (!Array.isArray(e.value) || e.value.some((item) => !Array.isArray(item))) {
    throw new Error(`dataset-writer: ${hex(e.tag)} SQ needs an array of items (arrays of elements)`);
  }
  const items = e.value as ReadonlyArray<DataElement[]>;
  const body: Buffer[] = [];
  let length = 0;
  for (const item of items) {
    const itemBody: Buffer[] = [];
    const itemLength = encodeInto(item, explicit, itemBody, true);
    const itemHeader = Buffer.alloc(8);
    itemHeader.writeUInt16LE(ITEM >>> 16, 0);
    itemHeader.writeUInt16LE(ITEM & 0xffff, 2);
    itemHeader.writeUInt32LE(itemLength, 4);
    body.push(itemHeader, ...itemBody);
    length += 8 + itemLength;
  }
  const header = elementHeader(e.tag, 'SQ', length, explicit);
  out.push(header, ...body);
  return header.length + length;
}

function elementHeader(tagValue: number, vr: Vr, length: number, explicit: boolean): Buffer {
  const long = LONG_VRS.has(vr);
  const header = Buffer.alloc(explicit ? (long ? 12 : 8) : 8);
  header.writeUInt16LE(tagValue >>> 16, 0);
  header.writeUInt16LE(tagValue & 0xffff, 2);
  if (!explicit) {
    header.writeUInt32LE(length, 4);
  } else if (long) {
    header.write(vr, 4, 'latin1');
    header.writeUInt32LE(length, 8);
  } else {
    header.write(vr, 4, 'latin1');
    header.writeUInt16LE(length, 6);
  }
  return header;
}

function encodeValue(e: DataElement): Buffer {
  if (TEXT_VRS.has(e.vr)) return encodeText(e);
  if (e.vr in NUMBER_SIZES) return encodeNumbers(e);
  if (!(e.value instanceof Uint8Array)) throw new Error(`dataset-writer: ${hex(e.tag)} ${e.vr} needs bytes`);
  const bytes = Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength);
  const unit = e.vr === 'OW' ? 2 : e.vr === 'OF' || e.vr === 'OL' ? 4 : e.vr === 'OD' || e.vr === 'OV' ? 8 : 1;
  if (bytes.length % unit) throw new Error(`dataset-writer: ${hex(e.tag)} ${e.vr} length ${bytes.length} is not a multiple of ${unit}`);
  // PS3.5 6.2: OB and UN are padded with a NUL byte to even length.
  return bytes.length % 2 ? Buffer.concat([bytes, Buffer.from([0])]) : bytes;
}

function encodeText(e: DataElement): Buffer {
  const raw = e.value;
  if (raw instanceof Uint8Array || (Array.isArray(raw) && raw.some((v) => Array.isArray(v)))) {
    throw new Error(`dataset-writer: ${hex(e.tag)} ${e.vr} needs text`);
  }
  const values = (Array.isArray(raw) ? raw : [raw]).map((v) => formatText(e, v as string | number | bigint));
  if (SINGLE_VALUE_TEXT.has(e.vr) && values.length > 1) throw new Error(`dataset-writer: ${hex(e.tag)} ${e.vr} is single-valued`);
  const max = MAX_CHARS[e.vr];
  for (const v of values) {
    if (max !== undefined && v.length > max) throw new Error(`dataset-writer: ${hex(e.tag)} ${e.vr} value "${v.slice(0, 20)}..." longer than ${max}`);
    if (!SINGLE_VALUE_TEXT.has(e.vr) && v.includes('\\')) throw new Error(`dataset-writer: ${hex(e.tag)} ${e.vr} value contains '\\'`);
    if (/[^\x00-\xff]/.test(v)) throw new Error(`dataset-writer: ${hex(e.tag)} only ISO-IR 100 characters are written`);
  }
  let text = values.join('\\');
  if (text.length % 2) text += e.vr === 'UI' ? '\0' : ' ';
  return Buffer.from(text, 'latin1');
}

function formatText(e: DataElement, v: string | number | bigint): string {
  if (typeof v === 'string') {
    if (e.vr === 'UI' && v !== '' && !/^[0-9]+(\.[0-9]+)*$/.test(v)) throw new Error(`dataset-writer: ${hex(e.tag)} "${v}" is not a UID`);
    return v;
  }
  if (e.vr === 'IS') {
    if (typeof v === 'number' && !Number.isInteger(v)) throw new Error(`dataset-writer: ${hex(e.tag)} IS needs an integer`);
    return String(v);
  }
  if (e.vr === 'DS' && typeof v === 'number') return formatDecimal(v);
  throw new Error(`dataset-writer: ${hex(e.tag)} ${e.vr} needs a string`);
}

/** PS3.5 6.2 DS: at most 16 characters; drop precision until it fits. */
export function formatDecimal(v: number): string {
  if (!Number.isFinite(v)) throw new Error('dataset-writer: DS must be finite');
  let s = String(v);
  for (let p = 16; s.length > 16 && p > 0; p--) s = String(Number(v.toPrecision(p)));
  if (s.length > 16) s = v.toExponential(8);
  return s;
}

function encodeNumbers(e: DataElement): Buffer {
  const raw = e.value;
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const values = (Array.isArray(raw) ? raw : [raw]) as Array<string | number | bigint>;
  const size = NUMBER_SIZES[e.vr as NumberVr];
  const buf = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    if (typeof v === 'string') throw new Error(`dataset-writer: ${hex(e.tag)} ${e.vr} needs numbers`);
    const o = i * size;
    switch (e.vr) {
      case 'US': buf.writeUInt16LE(Number(v), o); break;
      case 'SS': buf.writeInt16LE(Number(v), o); break;
      case 'UL': buf.writeUInt32LE(Number(v), o); break;
      case 'SL': buf.writeInt32LE(Number(v), o); break;
      case 'FL': buf.writeFloatLE(Number(v), o); break;
      case 'FD': buf.writeDoubleLE(Number(v), o); break;
      case 'SV': buf.writeBigInt64LE(BigInt(v), o); break;
      case 'UV': buf.writeBigUInt64LE(BigInt(v), o); break;
      case 'AT': buf.writeUInt16LE(Number(v) >>> 16, o); buf.writeUInt16LE(Number(v) & 0xffff, o + 2); break;
      default: throw new Error(`dataset-writer: unexpected VR ${e.vr}`);
    }
  });
  return buf;
}

function hex(t: number): string {
  return `(${(t >>> 16).toString(16).padStart(4, '0')},${(t & 0xffff).toString(16).padStart(4, '0')})`;
}
