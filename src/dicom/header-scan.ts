import { TS } from './uids.js';

/**
 * A lean reader of a dataset's top-level elements (PS3.5 7.1 and 7.5), for ingest: it walks the
 * element headers, skips values (and sequences of undefined length, PS3.5 7.5.2) and keeps only
 * where the values of the wanted tags are. dicom-parser builds an object for every element of every
 * instance, nested ones included, and was the largest piece of JavaScript per received instance.
 * Explicit and Implicit VR Little Endian and Explicit VR Big Endian; the caller inflates nothing
 * (deflated datasets go to dicom-parser).
 */

/** Where an element's value is: byte offset and length (0xffffffff: undefined). */
export interface ValueRef {
  offset: number;
  length: number;
}

export type ScanResult =
  | { kind: 'ok'; values: Map<number, ValueRef>; pixelData: ValueRef | undefined; little: boolean }
  /** The bytes end inside an element that is not Pixel Data: give more. */
  | { kind: 'need-more' }
  /** The dataset is malformed (only reported when `bytes` is the whole file). */
  | { kind: 'malformed'; reason: string; tag?: number };

const PIXEL_DATA = 0x7fe00010;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQUENCE_END = 0xfffee0dd;
const UNDEFINED = 0xffffffff;
/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 Table 7.1-1). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
/** Deepest nesting of sequences followed; deeper is malformed (a loop of empty items, garbage). */
const MAX_DEPTH = 32;

/** Whether the scanner reads this transfer syntax (the others are encapsulated pixel data in Explicit VR LE). */
export function scannableSyntax(ts: string): { explicit: boolean; little: boolean } | undefined {
  if (ts === TS.DeflatedExplicitVRLittleEndian) return undefined;
  if (ts === TS.ImplicitVRLittleEndian) return { explicit: false, little: true };
  if (ts === TS.ExplicitVRBigEndian) return { explicit: true, little: false };
  return { explicit: true, little: true };
}

class Truncated {}
class Malformed {
  constructor(readonly reason: string, readonly tag?: number) {}
}

/**
 * Scans the dataset of `bytes` from `start` (after the file meta) up to Pixel Data, keeping the
 * values of `wanted`. `complete`: `bytes` is the whole file, so an element that runs past its end
 * is malformed (a lying length, PS3.5 7.1) instead of a reason to wait for more, and the elements
 * after Pixel Data are checked too.
 */
export function scanDataset(bytes: Uint8Array, start: number, ts: { explicit: boolean; little: boolean }, wanted: ReadonlySet<number>, complete: boolean): ScanResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { explicit, little } = ts;
  const end = bytes.length;
  const values = new Map<number, ValueRef>();
  let pixelData: ValueRef | undefined;

  const u16 = (p: number) => view.getUint16(p, little);
  const u32 = (p: number) => view.getUint32(p, little);
  const need = (p: number, n: number) => {
    if (p + n > end) throw new Truncated();
  };
  /** Reads the element header at p; returns tag, vr, value offset and length. */
  const header = (p: number, explicitVr: boolean): { tag: number; vr: string | undefined; offset: number; length: number } => {
    need(p, 8);
    const tag = ((u16(p) << 16) | u16(p + 2)) >>> 0;
    if (tag >>> 16 === 0xfffe || !explicitVr) return { tag, vr: undefined, offset: p + 8, length: u32(p + 4) };
    const vr = String.fromCharCode(bytes[p + 4]!, bytes[p + 5]!);
    if (LONG_VRS.has(vr)) {
      need(p, 12);
      return { tag, vr, offset: p + 12, length: u32(p + 8) };
    }
    return { tag, vr, offset: p + 8, length: u16(p + 6) };
  };
  /** Skips a value of undefined length (a sequence's items, PS3.5 7.5.2); returns the position after its delimiter. */
  const skipUndefined = (p: number, explicitVr: boolean, depth: number): number => {
    if (depth > MAX_DEPTH) throw new Malformed(`sequences nested deeper than ${MAX_DEPTH}`);
    for (;;) {
      const item = header(p, false);
      if (item.tag === SEQUENCE_END) return item.offset;
      if (item.tag !== ITEM) throw new Malformed(`an item of a sequence of undefined length has tag ${hex(item.tag)}`, item.tag);
      if (item.length !== UNDEFINED) {
        p = item.offset + item.length;
        continue;
      }
      p = item.offset;
      for (;;) {
        const e = header(p, explicitVr);
        if (e.tag === ITEM_END) {
          p = e.offset;
          break;
        }
        // A UN of undefined length holds Implicit VR Little Endian items (PS3.5 6.2.2).
        p = e.length === UNDEFINED ? skipUndefined(e.offset, explicitVr && e.vr !== 'UN', depth + 1) : e.offset + e.length;
      }
    }
  };

  try {
    let p = start;
    while (p < end) {
      const e = header(p, explicit);
      if (e.tag === PIXEL_DATA) {
        pixelData = { offset: e.offset, length: e.length };
        if (!complete) break;
        // The whole file: the fragments of encapsulated pixel data (PS3.5 A.4) and whatever follows
        // Pixel Data must be well formed too.
        if (e.length === UNDEFINED) p = skipUndefined(e.offset, false, 0);
        else if (e.offset + e.length > end) return lyingLength(e.tag, e.length, end - e.offset);
        else p = e.offset + e.length;
        continue;
      }
      if (e.length === UNDEFINED) {
        p = skipUndefined(e.offset, explicit && e.vr !== 'UN', 0);
        continue;
      }
      if (e.offset + e.length > end) {
        if (complete) return lyingLength(e.tag, e.length, end - e.offset);
        throw new Truncated();
      }
      if (wanted.has(e.tag)) values.set(e.tag, { offset: e.offset, length: e.length });
      p = e.offset + e.length;
    }
  } catch (err) {
    if (err instanceof Truncated) return complete ? { kind: 'malformed', reason: 'the dataset ends inside an element' } : { kind: 'need-more' };
    if (err instanceof Malformed) return complete ? { kind: 'malformed', reason: err.reason, tag: err.tag } : { kind: 'need-more' };
    throw err;
  }
  return { kind: 'ok', values, pixelData, little };
}

function lyingLength(tag: number, length: number, remaining: number): ScanResult {
  return { kind: 'malformed', reason: `element ${hex(tag)} claims ${length} bytes but only ${remaining} remain`, tag };
}

/** (gggg,eeee), as the messages of header.ts name elements. */
export function hex(tag: number): string {
  return `(${(tag >>> 16).toString(16).padStart(4, '0')},${(tag & 0xffff).toString(16).padStart(4, '0')})`;
}
