/**
 * Media type parsing for Content-Type and Accept headers (RFC 9110 8.3.1 and 12.5.1), as
 * DICOMweb uses them: `multipart/related; type="application/dicom"; boundary=...` (PS3.18 8.7.3.5).
 */

export interface MediaType {
  /** type/subtype, lower-cased. */
  essence: string;
  /** Parameter names lower-cased; values unquoted, case kept (a boundary is case-sensitive). */
  params: Record<string, string>;
}

/** Parses one media type. Returns undefined when there is no type/subtype. Lenient on spacing. */
export function parseMediaType(header: string | undefined): MediaType | undefined {
  if (!header) return undefined;
  const [mt] = splitMediaRanges(header, ';');
  const essence = (mt ?? '').trim().toLowerCase();
  if (!/^[^\s/]+\/[^\s/]+$/.test(essence)) return undefined;
  return { essence, params: parseParams(header.slice(mt!.length)) };
}

/** Parses an Accept header into its media ranges, in order, with q-values (default 1). */
export function parseAccept(header: string | undefined): (MediaType & { q: number })[] {
  if (!header || !header.trim()) return [];
  const out: (MediaType & { q: number })[] = [];
  for (const range of splitMediaRanges(header, ',')) {
    const mt = parseMediaType(range);
    if (!mt) continue;
    const q = mt.params.q === undefined ? 1 : Number(mt.params.q);
    if (Number.isFinite(q) && q > 0) out.push({ ...mt, q });
  }
  return out.sort((a, b) => b.q - a.q);
}

/** Splits on `sep` outside double quotes. */
function splitMediaRanges(s: string, sep: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

function parseParams(s: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const p of splitMediaRanges(s, ';')) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const name = p.slice(0, eq).trim().toLowerCase();
    let value = p.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    if (name) params[name] = value;
  }
  return params;
}
