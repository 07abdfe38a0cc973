/**
 * The DICOM JSON model (PS3.18 Annex F.2): a dataset is an object keyed by 8 upper-case hex tag
 * digits, each attribute `{ vr, Value?, BulkDataURI?, InlineBinary? }`.
 */

export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}

export type DicomJsonDataset = Record<string, DicomJsonAttribute>;

/** PS3.18 F.2.3: VRs whose values are JSON numbers. */
const NUMBER_VRS = new Set(['DS', 'FL', 'FD', 'IS', 'SL', 'SS', 'UL', 'US', 'SV', 'UV']);
/** PS3.5 6.2: single-valued text VRs in which a backslash is a character, not a separator. */
const SINGLE_VALUED_TEXT = new Set(['LT', 'ST', 'UT', 'UR']);

/**
 * Builds one attribute from its DICOM string value (`a\b` for several values). An empty string
 * gives the attribute with its VR and no Value (PS3.18 F.2.5, a zero-length attribute); an empty
 * value among several becomes null (F.2.5).
 */
export function attributeFromString(vr: string, raw: string | null | undefined): DicomJsonAttribute {
  const trimmed = (raw ?? '').replace(/[\0 ]+$/, '');
  if (trimmed === '') return { vr };
  const parts = SINGLE_VALUED_TEXT.has(vr) ? [trimmed] : trimmed.split('\\');
  return { vr, Value: parts.map((p) => valueOf(vr, p)) };
}

/** Builds one attribute from values already typed (numbers, strings, nested datasets for SQ). */
export function attribute(vr: string, values: readonly unknown[] | undefined): DicomJsonAttribute {
  return values && values.length > 0 ? { vr, Value: [...values] } : { vr };
}

function valueOf(vr: string, s: string): unknown {
  const v = vr === 'UI' ? s.replace(/\0/g, '').trim() : s.trim();
  if (v === '') return null;
  if (NUMBER_VRS.has(vr)) {
    // Numbers as JSON numbers (F.2.3.1); a value that is not one stays a string rather than being lost.
    const n = Number(v);
    if (vr === 'SV' || vr === 'UV') return Number.isSafeInteger(n) ? n : v;
    return Number.isFinite(n) ? n : v;
  }
  if (vr === 'PN') return personName(s);
  return v;
}

/** PS3.18 F.2.2: a person name's component groups (alphabetic=ideographic=phonetic). */
export function personName(s: string): Record<string, string> {
  const [alphabetic, ideographic, phonetic] = s.trim().split('=');
  const out: Record<string, string> = {};
  if (alphabetic) out.Alphabetic = alphabetic.trim();
  if (ideographic) out.Ideographic = ideographic.trim();
  if (phonetic) out.Phonetic = phonetic.trim();
  return out;
}

/** Orders a dataset's keys by tag, as PS3.18 F.2.1.1 asks ("sorted by tag"). */
export function sortByTag(ds: DicomJsonDataset): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const key of Object.keys(ds).sort()) out[key] = ds[key]!;
  return out;
}
