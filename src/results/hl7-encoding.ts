/**
 * Encoding rules of HL7 v2.5.1 chapter 2 that the ORU writer needs: the default delimiters (2.5.4),
 * escape sequences in text (2.7) and date/time (DTM, 2A.22).
 */

/** Default delimiters (HL7 v2.5.1 2.5.4), written in MSH-1 and MSH-2. */
export const HL7_DELIMITERS = {
  segment: '\r',
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
} as const;

/** MSH-2 encoding characters: component, repetition, escape, subcomponent (2.14.9.2). */
export const ENCODING_CHARACTERS = '^~\\&';

/**
 * Escapes a value for a text field (HL7 v2.5.1 2.7.1: the delimiter escapes \F\ \S\ \T\ \R\ \E\ are
 * valid in ST, TX, FT, CF and in the components of composite types). The escape character goes first
 * so that the escapes written for the others are not escaped again. CR and LF would end the segment
 * (2.5.4), and the values written here (names, regions, a pager headline) never need a line break, so
 * every control character becomes a space instead of a \X0D\ hex escape (2.7.4) that many receivers
 * pass through undecoded.
 */
export function escapeHl7(value: string): string {
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '\\': out += '\\E\\'; break;
      case '|': out += '\\F\\'; break;
      case '^': out += '\\S\\'; break;
      case '&': out += '\\T\\'; break;
      case '~': out += '\\R\\'; break;
      default: out += ch < ' ' || ch === '\x7f' ? ' ' : ch;
    }
  }
  return out;
}

/** Components of one field, each escaped, joined with the component separator; trailing empties dropped. */
export function components(...values: (string | number | null | undefined)[]): string {
  const parts = values.map((v) => (v === null || v === undefined ? '' : escapeHl7(String(v))));
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.join(HL7_DELIMITERS.component);
}

/** A segment from its fields (index 0 is the segment id); trailing empty fields dropped (2.5.3). */
export function segment(id: string, fields: string[]): string {
  const f = [...fields];
  while (f.length > 0 && f[f.length - 1] === '') f.pop();
  return [id, ...f].join(HL7_DELIMITERS.field);
}

/** Sets `fields[n - 1]` (HL7 field numbers are 1-based) and returns the array, for sparse segments. */
export function fieldsAt(entries: Record<number, string>): string[] {
  const max = Math.max(0, ...Object.keys(entries).map(Number));
  const out = new Array<string>(max).fill('');
  for (const [n, v] of Object.entries(entries)) out[Number(n) - 1] = v;
  return out;
}

/**
 * An instant as HL7 DTM (2A.22) in UTC with milliseconds and an explicit offset:
 * YYYYMMDDHHMMSS.SSS+0000. The offset makes it unambiguous for a receiver in any time zone.
 */
export function hl7Instant(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}.${p(date.getUTCMilliseconds(), 3)}+0000`
  );
}

/**
 * A DICOM DA (YYYYMMDD) and optional TM (HHMMSS.FFFFFF, PS3.5 6.2) as HL7 DTM, without an offset:
 * DICOM dates and times are local to the modality and carry no zone. Fractions are cut to the four
 * digits DTM allows. Returns '' when the date is missing or malformed.
 */
export function hl7FromDicom(date: string | null, time: string | null): string {
  if (!date || !/^\d{8}$/.test(date.trim())) return '';
  const t = (time ?? '').trim().replace(/:/g, '');
  const m = /^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?/.exec(t);
  if (!m) return date.trim();
  return date.trim() + m[1] + (m[2] ?? '') + (m[3] ?? '') + (m[3] && m[4] ? `.${m[4].slice(0, 4)}` : '');
}

/**
 * A DICOM PN (PS3.5 6.2: family^given^middle^prefix^suffix, first component group only) as an HL7
 * XPN (2A.89: family^given^middle^suffix^prefix): prefix and suffix swap places.
 */
export function xpnFromDicom(pn: string): string {
  const group = pn.split('=')[0] ?? '';
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = group.split('^').map((s) => s.trim());
  return components(family, given, middle, suffix, prefix);
}
