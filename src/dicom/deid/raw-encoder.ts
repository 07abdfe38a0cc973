import { MedgeError } from '../../errors.js';
import { hex, ITEM, LONG_VRS, SEQUENCE_DELIMITATION, UNDEFINED_LENGTH, type RawElement } from './raw-dataset.js';

/**
 * Writes RawElements back, element by element, in ascending tag order (PS3.5 7.1). Every length
 * is recomputed: sequences and items are written with defined lengths (PS3.5 7.5.1), whatever
 * they had, since their content changed. Two things are written as received: encapsulated pixel
 * data (its fragments verbatim, PS3.5 A.4) and a sequence stored as UN (undefined length, items in
 * Implicit VR LE, PS3.5 6.2.2). Values are chunks of the source buffer: nothing large is copied.
 */
export function encodeRawDataset(elements: readonly RawElement[], explicit: boolean): Buffer[] {
  const out: Buffer[] = [];
  encodeElements(elements, explicit, out);
  return out;
}

function encodeElements(elements: readonly RawElement[], explicit: boolean, out: Buffer[]): number {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i]!;
    if (i > 0 && sorted[i - 1]!.tag === e.tag) throw new MedgeError('MEDGE_ERR_DEID_MALFORMED', `the dataset holds ${hex(e.tag)} twice`, { tag: hex(e.tag) });
    total += encodeElement(e, explicit, out);
  }
  return total;
}

function encodeElement(e: RawElement, explicit: boolean, out: Buffer[]): number {
  if (e.items) return e.implicitItems ? encodeUnSequence(e, explicit, out) : encodeSequence(e, explicit, out);
  if (e.encapsulated) {
    const header = elementHeader(e.tag, e.vr, UNDEFINED_LENGTH, explicit);
    out.push(header, e.encapsulated);
    return header.length + e.encapsulated.length;
  }
  const value = padEven(e.value ?? Buffer.alloc(0), e.vr);
  if (explicit && !LONG_VRS.has(e.vr) && value.length > 0xffff) {
    throw new MedgeError('MEDGE_ERR_DEID_MALFORMED', `${hex(e.tag)} ${e.vr} value of ${value.length} bytes does not fit a 2-byte length`, { tag: hex(e.tag) });
  }
  const header = elementHeader(e.tag, e.vr, value.length, explicit);
  out.push(header);
  if (value.length) out.push(value);
  return header.length + value.length;
}

function encodeItems(items: readonly RawElement[][], explicit: boolean, out: Buffer[]): number {
  let length = 0;
  for (const item of items) {
    const body: Buffer[] = [];
    const itemLength = encodeElements(item, explicit, body);
    out.push(itemHeader(ITEM, itemLength), ...body);
    length += 8 + itemLength;
  }
  return length;
}

function encodeSequence(e: RawElement, explicit: boolean, out: Buffer[]): number {
  const body: Buffer[] = [];
  const length = encodeItems(e.items!, explicit, body);
  const header = elementHeader(e.tag, 'SQ', length, explicit);
  out.push(header, ...body);
  return header.length + length;
}

function encodeUnSequence(e: RawElement, explicit: boolean, out: Buffer[]): number {
  const header = elementHeader(e.tag, 'UN', UNDEFINED_LENGTH, explicit);
  out.push(header);
  const length = encodeItems(e.items!, false, out);
  out.push(itemHeader(SEQUENCE_DELIMITATION, 0));
  return header.length + length + 8;
}

/** PS3.5 6.2: values have even lengths; a sender's odd one is padded (NUL for UI and binary VRs, else space). */
function padEven(value: Buffer, vr: string): Buffer {
  if (value.length % 2 === 0) return value;
  return Buffer.concat([value, Buffer.from([TEXT_VRS.has(vr) ? 0x20 : 0x00])]);
}
const TEXT_VRS: ReadonlySet<string> = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UR', 'UT']);

function itemHeader(tag: number, length: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(tag >>> 16, 0);
  b.writeUInt16LE(tag & 0xffff, 2);
  b.writeUInt32LE(length, 4);
  return b;
}

function elementHeader(tag: number, vr: string, length: number, explicit: boolean): Buffer {
  const long = LONG_VRS.has(vr);
  const header = Buffer.alloc(explicit && long ? 12 : 8);
  header.writeUInt16LE(tag >>> 16, 0);
  header.writeUInt16LE(tag & 0xffff, 2);
  if (!explicit) {
    header.writeUInt32LE(length >>> 0, 4);
  } else if (long) {
    header.write(vr, 4, 'latin1');
    header.writeUInt32LE(length >>> 0, 8);
  } else {
    header.write(vr, 4, 'latin1');
    header.writeUInt16LE(length, 6);
  }
  return header;
}
