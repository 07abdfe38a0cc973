/**
 * A small dataset codec for C-FIND identifiers (PS3.4 C.4.1.1.3): flat elements with string
 * values, in Implicit VR Little Endian, Explicit VR Little or Big Endian, or Deflated Explicit VR
 * Little Endian (PS3.5 Annex A). Sequences are skipped on decode; only the query attributes of
 * src/store/query-attributes.ts (plus a few Q/R keys) are typed, others decode with VR 'UN'.
 * Text is read in the identifier's Specific Character Set (charset.ts) and written as ASCII, or as
 * UTF-8 with Specific Character Set ISO_IR 192 when a value is not ASCII (PS3.5 6.1.2.3).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { MedgeError } from '../errors.js';
import { QUERY_ATTRIBUTES } from '../store/query-attributes.js';
import { TS } from '../dicom/uids.js';
import { textDecoder } from '../dicom/charset.js';

export interface IdentifierElement {
  /** (group << 16) | element. */
  tag: number;
  vr: string;
  /** Text value with padding removed; numbers (US, UL) as decimal strings; multiple values joined by '\'. */
  value: string;
}

/** Tags used by Query/Retrieve identifiers besides the query attributes (PS3.4 C.4.1.1.3). */
export const QUERY_RETRIEVE_LEVEL = 0x00080052;
export const SPECIFIC_CHARACTER_SET = 0x00080005;

const DICTIONARY = new Map<number, string>([
  [SPECIFIC_CHARACTER_SET, 'CS'],
  [QUERY_RETRIEVE_LEVEL, 'CS'],
  [0x00080054, 'AE'], // Retrieve AE Title
  [0x00080056, 'CS'], // Instance Availability
  ...QUERY_ATTRIBUTES.map((a) => [parseInt(a.tag, 16), a.vr] as [number, string]),
]);

/** PS3.5 7.1.2: VRs with a 4-byte length in explicit VR. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQUENCE_END = 0xfffee0dd;

interface Syntax {
  explicit: boolean;
  little: boolean;
  deflated: boolean;
}

/** Transfer syntaxes this codec handles: the uncompressed ones. */
export const IDENTIFIER_SYNTAXES: ReadonlySet<string> = new Set([
  TS.ImplicitVRLittleEndian,
  TS.ExplicitVRLittleEndian,
  TS.ExplicitVRBigEndian,
  TS.DeflatedExplicitVRLittleEndian,
]);

function syntax(tsUid: string): Syntax {
  if (!IDENTIFIER_SYNTAXES.has(tsUid)) throw new MedgeError('MEDGE_ERR_DIMSE_PDU', 'identifier transfer syntax not supported', { transferSyntaxUid: tsUid });
  return {
    explicit: tsUid !== TS.ImplicitVRLittleEndian,
    little: tsUid !== TS.ExplicitVRBigEndian,
    deflated: tsUid === TS.DeflatedExplicitVRLittleEndian,
  };
}

/** Decodes a flat identifier; throws MEDGE_ERR_INGEST_PARSE on bytes that do not add up. */
export function decodeIdentifier(input: Buffer, tsUid: string): IdentifierElement[] {
  const ts = syntax(tsUid);
  const buf = ts.deflated ? inflateRawSync(input) : input;
  const out: IdentifierElement[] = [];
  const reader = new Reader(buf, ts);
  // (0008,0005) comes before every text attribute it applies to (tags ascend, PS3.5 7.1).
  let decodeText = textDecoder(undefined);
  while (reader.pos < buf.length) {
    const h = reader.header();
    if (h.length === UNDEFINED) {
      reader.skipUndefined();
      continue;
    }
    const value = reader.take(h.length);
    if (h.vr === 'SQ' || (h.tag & 0xffff) === 0 || h.tag >>> 16 === 0xfffe) continue;
    const element = { tag: h.tag, vr: h.vr, value: SPECIFIC_TEXT_VRS.has(h.vr) ? trimText(decodeText(value)) : valueString(value, h.vr, ts.little) };
    if (h.tag === SPECIFIC_CHARACTER_SET) decodeText = textDecoder(element.value);
    out.push(element);
  }
  return out;
}

/** VRs whose values are in the Specific Character Set (PS3.5 6.1.2.3); the others are ASCII. */
const SPECIFIC_TEXT_VRS = new Set(['SH', 'LO', 'ST', 'LT', 'UC', 'UT', 'PN']);
const UTF8 = 'ISO_IR 192';

function trimText(v: string): string {
  return v.replace(/[\0 ]+$/, '').replace(/^ +/, '');
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer, private readonly ts: Syntax) {}

  header(): { tag: number; vr: string; length: number } {
    const b = this.buf;
    this.need(8);
    const u16 = (o: number) => (this.ts.little ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (o: number) => (this.ts.little ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const group = u16(this.pos);
    const tag = ((group << 16) | u16(this.pos + 2)) >>> 0;
    // PS3.5 7.5: item and delimitation tags never carry a VR.
    if (!this.ts.explicit || group === 0xfffe) {
      const length = u32(this.pos + 4);
      this.pos += 8;
      return { tag, vr: DICTIONARY.get(tag) ?? (length === UNDEFINED ? 'SQ' : 'UN'), length };
    }
    const vr = b.toString('latin1', this.pos + 4, this.pos + 6);
    if (LONG_VRS.has(vr)) {
      this.need(12);
      const length = u32(this.pos + 8);
      this.pos += 12;
      return { tag, vr, length };
    }
    if (!/^[A-Z]{2}$/.test(vr)) throw parseError(`invalid VR at byte ${this.pos}`);
    const length = u16(this.pos + 6);
    this.pos += 8;
    return { tag, vr, length };
  }

  take(length: number): Buffer {
    this.need(length);
    const v = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return v;
  }

  /** Skips an undefined-length sequence or item up to its delimiter (PS3.5 7.5.1, 7.5.2). */
  skipUndefined(): void {
    for (;;) {
      const h = this.header();
      if (h.tag === SEQUENCE_END || h.tag === ITEM_END) return;
      if (h.length === UNDEFINED) this.skipUndefined();
      else this.take(h.length);
      if (h.tag === ITEM) continue;
    }
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw parseError(`element runs past the end of the identifier (byte ${this.pos})`);
  }
}

function valueString(v: Buffer, vr: string, little: boolean): string {
  if (vr === 'US') return v.length >= 2 ? String(little ? v.readUInt16LE(0) : v.readUInt16BE(0)) : '';
  if (vr === 'UL') return v.length >= 4 ? String(little ? v.readUInt32LE(0) : v.readUInt32BE(0)) : '';
  return v.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
}

/** Encodes elements (sorted by tag here) in the given transfer syntax; VR from each element. */
export function encodeIdentifier(elements: IdentifierElement[], tsUid: string): Buffer {
  const ts = syntax(tsUid);
  // Anything beyond ASCII needs a declared character set: UTF-8 holds every value the index has.
  const utf8 = elements.some((e) => SPECIFIC_TEXT_VRS.has(e.vr) && /[^\x00-\x7f]/.test(e.value));
  const all = utf8 ? [...elements.filter((e) => e.tag !== SPECIFIC_CHARACTER_SET), { tag: SPECIFIC_CHARACTER_SET, vr: 'CS', value: UTF8 }] : elements;
  const sorted = [...all].sort((a, b) => a.tag - b.tag);
  const parts = sorted.map((e) => encodeElement(e, ts, utf8 && SPECIFIC_TEXT_VRS.has(e.vr) ? 'utf8' : 'latin1'));
  const buf = Buffer.concat(parts);
  return ts.deflated ? deflateRawSync(buf) : buf;
}

function encodeElement(e: IdentifierElement, ts: Syntax, encoding: 'latin1' | 'utf8'): Buffer {
  let v: Buffer;
  if ((e.vr === 'US' || e.vr === 'UL') && e.value !== '') {
    v = Buffer.alloc(e.vr === 'US' ? 2 : 4);
    const n = Number(e.value);
    if (e.vr === 'US') ts.little ? v.writeUInt16LE(n & 0xffff) : v.writeUInt16BE(n & 0xffff);
    else ts.little ? v.writeUInt32LE(n >>> 0) : v.writeUInt32BE(n >>> 0);
  } else {
    v = Buffer.from(e.value, encoding);
    if (v.length % 2) v = Buffer.concat([v, Buffer.from([e.vr === 'UI' ? 0x00 : 0x20])]);
  }
  const vr = e.vr.length === 2 ? e.vr : 'UN';
  const long = LONG_VRS.has(vr);
  const head = Buffer.alloc(!ts.explicit || long ? (ts.explicit ? 12 : 8) : 8);
  const w16 = (n: number, o: number) => (ts.little ? head.writeUInt16LE(n, o) : head.writeUInt16BE(n, o));
  const w32 = (n: number, o: number) => (ts.little ? head.writeUInt32LE(n, o) : head.writeUInt32BE(n, o));
  w16(e.tag >>> 16, 0);
  w16(e.tag & 0xffff, 2);
  if (!ts.explicit) w32(v.length, 4);
  else {
    head.write(vr, 4, 'latin1');
    if (long) w32(v.length, 8);
    else w16(v.length, 6);
  }
  return Buffer.concat([head, v]);
}

function parseError(reason: string): MedgeError {
  return new MedgeError('MEDGE_ERR_INGEST_PARSE', `identifier cannot be parsed: ${reason}`, { reason });
}
