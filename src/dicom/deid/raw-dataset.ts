import { MedgeError } from '../../errors.js';
import { SEQUENCE_TAGS } from './sequence-tags.js';

/**
 * A dataset read element by element, values kept as the bytes they were received in, so that the
 * de-identifier changes only what the profile names and copies everything else byte for byte
 * (PS3.15 E.1.1: attributes not in Table E.1-1 are retained). Little endian only: Explicit and
 * Implicit VR (PS3.5 7.1.2, 7.1.3).
 */
export interface RawElement {
  tag: number;
  /** The VR as encoded (explicit) or as known (implicit: 'SQ', the profile table's VR, else 'UN'). */
  vr: string;
  /** The value of an element of defined length that is not a sequence. */
  value?: Buffer;
  /** Sequence items (PS3.5 7.5), each a list of elements. */
  items?: RawElement[][];
  /** A sequence stored as UN (PS3.5 6.2.2): its items are Implicit VR Little Endian whatever the dataset's syntax. */
  implicitItems?: boolean;
  /** An undefined-length value that is not a sequence (encapsulated Pixel Data, PS3.5 A.4): its
   *  fragments and the Sequence Delimitation Item, verbatim. */
  encapsulated?: Buffer;
}

export const UNDEFINED_LENGTH = 0xffffffff;
export const ITEM = 0xfffee000;
export const ITEM_DELIMITATION = 0xfffee00d;
export const SEQUENCE_DELIMITATION = 0xfffee0dd;
/** PS3.5 7.1.2: VRs with a 2-byte reserved field and a 4-byte length in Explicit VR. */
export const LONG_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
/** Nesting deeper than this is treated as a malformed (or hostile) file rather than recursed into. */
const MAX_DEPTH = 32;

/** The VR an Implicit VR element has when it is not a sequence: the caller's dictionary (the profile table). */
export type VrLookup = (tag: number) => string | undefined;

/**
 * Reads the dataset in buf[start, end). Lenient where the standard allows (undefined lengths,
 * sequences stored as UN), strict about lengths: a value that runs past its container is an error.
 */
export function readRawDataset(buf: Buffer, explicit: boolean, vrOf: VrLookup, start = 0, end = buf.length): RawElement[] {
  const reader = new Reader(buf, vrOf);
  const { elements } = reader.elements(start, end, explicit, false, 0);
  return elements;
}

class Reader {
  constructor(private readonly buf: Buffer, private readonly vrOf: VrLookup) {}

  /** Elements from pos until end, or until an Item Delimitation Item when untilDelimiter. */
  elements(pos: number, end: number, explicit: boolean, untilDelimiter: boolean, depth: number): { elements: RawElement[]; pos: number } {
    if (depth > MAX_DEPTH) throw malformed(pos, `sequences nested deeper than ${MAX_DEPTH}`);
    const buf = this.buf;
    const elements: RawElement[] = [];
    while (pos < end) {
      if (pos + 8 > end) throw malformed(pos, 'a truncated element header');
      const tag = ((buf.readUInt16LE(pos) << 16) | buf.readUInt16LE(pos + 2)) >>> 0;
      if (tag === ITEM_DELIMITATION) {
        if (untilDelimiter) return { elements, pos: pos + 8 };
        throw malformed(pos, 'an Item Delimitation Item outside an item');
      }
      let vr: string;
      let length: number;
      let header: number;
      if (explicit) {
        vr = buf.toString('latin1', pos + 4, pos + 6);
        if (!/^[A-Z]{2}$/.test(vr)) throw malformed(pos, `no VR in an Explicit VR element ${hex(tag)}`);
        if (LONG_VRS.has(vr)) {
          if (pos + 12 > end) throw malformed(pos, 'a truncated element header');
          length = buf.readUInt32LE(pos + 8);
          header = 12;
        } else {
          length = buf.readUInt16LE(pos + 6);
          header = 8;
        }
      } else {
        length = buf.readUInt32LE(pos + 4);
        header = 8;
        vr = SEQUENCE_TAGS.has(tag) || length === UNDEFINED_LENGTH ? 'SQ' : this.vrOf(tag) ?? 'UN';
      }
      pos += header;
      const element: RawElement = { tag, vr };
      // PS3.5 6.2.2: an undefined-length UN is a sequence in Implicit VR LE; a defined-length UN
      // of a tag the dictionary knows as SQ is one too (written by a node that lacked the tag).
      const unSequence = explicit && vr === 'UN' && (length === UNDEFINED_LENGTH || SEQUENCE_TAGS.has(tag));
      const parsed = vr === 'SQ' || unSequence ? this.sequence(pos, length, end, explicit && !unSequence, depth + 1, unSequence) : undefined;
      if (parsed) {
        element.items = parsed.items;
        if (unSequence) element.implicitItems = true;
        pos = parsed.pos;
      } else if (length === UNDEFINED_LENGTH) {
        const stop = this.skipFragments(pos, end);
        element.encapsulated = buf.subarray(pos, stop);
        pos = stop;
      } else {
        if (pos + length > end) throw malformed(pos, `the value of ${hex(tag)} (${length} bytes) runs past its end`);
        element.value = buf.subarray(pos, pos + length);
        pos += length;
      }
      elements.push(element);
    }
    if (untilDelimiter) throw malformed(pos, 'an item of undefined length without its delimiter');
    return { elements, pos };
  }

  /** A sequence's items; a defined-length UN that does not parse as items is left a plain value (undefined). */
  private sequence(pos: number, length: number, end: number, explicit: boolean, depth: number, guessed: boolean): { items: RawElement[][]; pos: number } | undefined {
    if (!guessed || length === UNDEFINED_LENGTH) return this.items(pos, length, end, explicit, depth);
    try {
      return this.items(pos, length, end, explicit, depth);
    } catch {
      return undefined;
    }
  }

  private items(pos: number, length: number, end: number, explicit: boolean, depth: number): { items: RawElement[][]; pos: number } {
    const buf = this.buf;
    const undefinedLength = length === UNDEFINED_LENGTH;
    const stop = undefinedLength ? end : pos + length;
    if (stop > end) throw malformed(pos, `a sequence of ${length} bytes runs past its end`);
    const items: RawElement[][] = [];
    while (pos < stop) {
      if (pos + 8 > stop) throw malformed(pos, 'a truncated item header');
      const tag = ((buf.readUInt16LE(pos) << 16) | buf.readUInt16LE(pos + 2)) >>> 0;
      const itemLength = buf.readUInt32LE(pos + 4);
      pos += 8;
      if (tag === SEQUENCE_DELIMITATION) {
        if (!undefinedLength) throw malformed(pos, 'a Sequence Delimitation Item in a sequence of defined length');
        return { items, pos };
      }
      if (tag !== ITEM) throw malformed(pos - 8, `${hex(tag)} where a sequence item was expected`);
      if (itemLength === UNDEFINED_LENGTH) {
        const parsed = this.elements(pos, stop, explicit, true, depth);
        items.push(parsed.elements);
        pos = parsed.pos;
      } else {
        if (pos + itemLength > stop) throw malformed(pos, 'an item runs past its sequence');
        items.push(this.elements(pos, pos + itemLength, explicit, false, depth).elements);
        pos += itemLength;
      }
    }
    if (undefinedLength) throw malformed(pos, 'a sequence of undefined length without its delimiter');
    return { items, pos };
  }

  /** PS3.5 A.4: items (Basic Offset Table, fragments) up to and including the Sequence Delimitation Item. */
  private skipFragments(pos: number, end: number): number {
    const buf = this.buf;
    while (pos + 8 <= end) {
      const tag = ((buf.readUInt16LE(pos) << 16) | buf.readUInt16LE(pos + 2)) >>> 0;
      const length = buf.readUInt32LE(pos + 4);
      pos += 8;
      if (tag === SEQUENCE_DELIMITATION) return pos;
      if (tag !== ITEM || length === UNDEFINED_LENGTH || pos + length > end) throw malformed(pos - 8, 'a malformed encapsulated fragment');
      pos += length;
    }
    throw malformed(pos, 'encapsulated pixel data without its Sequence Delimitation Item');
  }
}

function malformed(offset: number, what: string): MedgeError {
  return new MedgeError('MEDGE_ERR_DEID_MALFORMED', `the dataset cannot be de-identified: ${what} (byte ${offset})`, { offset });
}

export function hex(t: number): string {
  return `(${(t >>> 16).toString(16).padStart(4, '0')},${(t & 0xffff).toString(16).padStart(4, '0')})`;
}
