/**
 * Values the de-identifier writes: dummies valid for their VR (PS3.15 E.1.1 "D": a non-zero length
 * value consistent with the VR), text read and written as bytes (latin1 keeps every byte of any
 * character set as it was), and moved dates.
 */

/** The dummy text of most string VRs: uppercase, no backslash, fits SH (16). */
export const DUMMY_TEXT = 'ANONYMIZED';

/** Dummy values by VR (PS3.5 6.2); dates: 1 January 1900, valid and far from any study. */
const DUMMY_BY_VR: Readonly<Record<string, string>> = {
  AE: DUMMY_TEXT, CS: DUMMY_TEXT, LO: DUMMY_TEXT, LT: DUMMY_TEXT, PN: DUMMY_TEXT, SH: DUMMY_TEXT, ST: DUMMY_TEXT,
  UC: DUMMY_TEXT, UT: DUMMY_TEXT, UR: DUMMY_TEXT,
  AS: '000D', DA: '19000101', DT: '19000101000000', TM: '000000', DS: '0', IS: '0',
};

const BINARY_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN', 'US', 'SS', 'UL', 'SL', 'FL', 'FD', 'AT', 'SV', 'UV']);

/** Free-text VRs that may carry anything a person typed (used inside D sequences). */
export const FREE_TEXT_VRS: ReadonlySet<string> = new Set(['LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);

/**
 * A dummy value for `vr`, replacing `original`. Binary and numeric values become zeros of the same
 * length (the multiplicity and the value's structure stay valid); text becomes its VR's dummy,
 * padded to even length (PS3.5 6.2: space). Undefined for UI: a UID is mapped, never dummied.
 */
export function dummyValue(vr: string, original: Buffer): Buffer | undefined {
  if (vr === 'UI') return undefined;
  if (BINARY_VRS.has(vr) || vr.includes(' or ')) return Buffer.alloc(original.length + (original.length % 2));
  return textValue(DUMMY_BY_VR[vr] ?? DUMMY_TEXT);
}

/** A text value padded to even length with a space (UI: with NUL). */
export function textValue(text: string, vr = 'LO'): Buffer {
  const padded = text.length % 2 ? text + (vr === 'UI' ? '\0' : ' ') : text;
  return Buffer.from(padded, 'latin1');
}

/** The values of a text element, trailing padding removed (PS3.5 6.2), split on '\' unless single-valued. */
export function textValues(value: Buffer | undefined, vr: string): string[] {
  if (!value || value.length === 0) return [];
  const text = value.toString('latin1').replace(/[\0 ]+$/, '');
  if (text === '') return [];
  return vr === 'LT' || vr === 'ST' || vr === 'UT' || vr === 'UR' ? [text] : text.split('\\');
}

/** Whether an element holds no value at all (zero length, or only padding). */
export function isEmptyValue(value: Buffer | undefined): boolean {
  return !value || value.every((b) => b === 0x20 || b === 0x00);
}

/**
 * Moves the dates of a DA or DT value by `days` (DT: the date part; the time and offset kept).
 * A value that is not a date (a sender's malformed one) becomes the dummy: it cannot be moved,
 * so it must not be kept.
 */
export function shiftDates(value: Buffer, vr: 'DA' | 'DT', days: number): Buffer {
  const shifted = textValues(value, vr).map((v) => shiftOne(v.trim(), days) ?? DUMMY_BY_VR[vr]!);
  return textValue(shifted.join('\\'));
}

function shiftOne(v: string, days: number): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(.*)$/.exec(v);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const check = new Date(t);
  if (check.getUTCMonth() !== Number(m[2]) - 1 || check.getUTCDate() !== Number(m[3])) return undefined;
  const d = new Date(t + days * 86_400_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${m[4]}`;
}
