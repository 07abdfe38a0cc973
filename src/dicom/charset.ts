import { TextDecoder } from 'node:util';
/**
 * Text of a dataset in its Specific Character Set (0008,0005), PS3.5 6.1: the single-byte sets
 * (ISO 8859 parts, JIS X 0201, TIS 620), UTF-8, GB18030 and GBK without code extensions, and the
 * ISO 2022 code extension techniques of PS3.5 6.1.2.5 (Japanese, Korean, Simplified Chinese, the
 * ISO 8859 G1 sets), where escape sequences switch sets inside a value and every value, and every
 * component group of a person name, starts again in the initial sets (6.1.2.5.3).
 *
 * The bytes of a file are never changed: this is what the index, C-FIND and QIDO-RS show.
 */

/** Defined Terms without code extensions (PS3.3 C.12.1.1.2, Table C.12-2, C.12-4) to WHATWG encodings. */
const SINGLE: Record<string, string> = {
  'ISO_IR 6': 'ascii',
  'ISO_IR 100': 'latin1',
  'ISO_IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4',
  'ISO_IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9',
  'ISO_IR 203': 'iso-8859-15',
  'ISO_IR 13': 'shift_jis',
  'ISO_IR 166': 'windows-874',
  'ISO_IR 192': 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

/** What a code element holds: single bytes, or two bytes per character (PS3.5 Table 6.2-1, 6.2-2). */
interface G {
  /** How to decode a run of bytes designated to it, already in their 8-bit form. */
  encoding: string;
  /** Bytes per character; 7-bit (G0) multi-byte runs are moved to the high half before decoding. */
  width: 1 | 2 | 3;
}

const ASCII: G = { encoding: 'ascii', width: 1 };

/** Escape sequences (after ESC) of the ISO 2022 Defined Terms, PS3.3 Table C.12-3 and C.12-4, with the element they designate. */
const ESCAPES: Record<string, { g: 0 | 1; set: G }> = {
  '(B': { g: 0, set: ASCII },
  '(J': { g: 0, set: ASCII }, // JIS X 0201 Romaji: ASCII but for yen and overline
  ')I': { g: 1, set: { encoding: 'shift_jis', width: 1 } }, // JIS X 0201 Katakana, 0xA1-0xDF
  '$B': { g: 0, set: { encoding: 'euc-jp', width: 2 } }, // JIS X 0208
  '$(D': { g: 0, set: { encoding: 'euc-jp', width: 3 } }, // JIS X 0212, EUC-JP's 0x8F plane
  '$)C': { g: 1, set: { encoding: 'euc-kr', width: 2 } }, // KS X 1001
  '$)A': { g: 1, set: { encoding: 'gbk', width: 2 } }, // GB 2312
  '-A': { g: 1, set: { encoding: 'latin1', width: 1 } },
  '-B': { g: 1, set: { encoding: 'iso-8859-2', width: 1 } },
  '-C': { g: 1, set: { encoding: 'iso-8859-3', width: 1 } },
  '-D': { g: 1, set: { encoding: 'iso-8859-4', width: 1 } },
  '-L': { g: 1, set: { encoding: 'iso-8859-5', width: 1 } },
  '-G': { g: 1, set: { encoding: 'iso-8859-6', width: 1 } },
  '-F': { g: 1, set: { encoding: 'iso-8859-7', width: 1 } },
  '-H': { g: 1, set: { encoding: 'iso-8859-8', width: 1 } },
  '-M': { g: 1, set: { encoding: 'iso-8859-9', width: 1 } },
  '-T': { g: 1, set: { encoding: 'windows-874', width: 1 } },
  '-b': { g: 1, set: { encoding: 'iso-8859-15', width: 1 } },
};

/** The escape sequence each ISO 2022 Defined Term designates when it is the first (initial) value. */
const INITIAL: Record<string, string[]> = {
  'ISO 2022 IR 6': ['(B'],
  'ISO 2022 IR 13': [')I', '(J'],
  'ISO 2022 IR 87': ['$B'],
  'ISO 2022 IR 159': ['$(D'],
  'ISO 2022 IR 149': ['$)C'],
  'ISO 2022 IR 58': ['$)A'],
  'ISO 2022 IR 100': ['-A'],
  'ISO 2022 IR 101': ['-B'],
  'ISO 2022 IR 109': ['-C'],
  'ISO 2022 IR 110': ['-D'],
  'ISO 2022 IR 144': ['-L'],
  'ISO 2022 IR 127': ['-G'],
  'ISO 2022 IR 126': ['-F'],
  'ISO 2022 IR 138': ['-H'],
  'ISO 2022 IR 148': ['-M'],
  'ISO 2022 IR 166': ['-T'],
  'ISO 2022 IR 203': ['-b'],
};

const decoders = new Map<string, TextDecoder>();
function decode(encoding: string, bytes: Uint8Array): string {
  // Node's 'latin1' is ISO 8859-1 itself; WHATWG's is windows-1252.
  if (encoding === 'latin1' || encoding === 'ascii') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  let d = decoders.get(encoding);
  if (!d) decoders.set(encoding, (d = new TextDecoder(encoding)));
  return d.decode(bytes);
}

/** A decoder for the text values of a dataset whose Specific Character Set is `specificCharacterSet` (backslash-separated; absent = default repertoire). */
export function textDecoder(specificCharacterSet: string | undefined | null): (bytes: Uint8Array) => string {
  const terms = (specificCharacterSet ?? '').split('\\').map((t) => t.trim());
  if (!terms.some((t) => t.startsWith('ISO 2022'))) {
    const encoding = SINGLE[terms[0] ?? ''] ?? 'latin1';
    return (bytes) => decode(encoding, bytes);
  }
  // Code extensions: G0 starts as ASCII, unless the first term designates something else.
  const initial: [G, G | undefined] = [ASCII, undefined];
  for (const esc of INITIAL[terms[0] || 'ISO 2022 IR 6'] ?? []) {
    const e = ESCAPES[esc]!;
    initial[e.g] = e.set;
  }
  return (bytes) => decodeIso2022(bytes, initial);
}

const ESC = 0x1b;
/** Delimiters after which the initial sets apply again (PS3.5 6.1.2.5.3): value, PN component and group. */
const RESETS = new Set([0x5c, 0x5e, 0x3d, 0x0d, 0x0a, 0x09, 0x0c]);

function decodeIso2022(bytes: Uint8Array, initial: [G, G | undefined]): string {
  let g0 = initial[0];
  let g1 = initial[1];
  let out = '';
  let run: number[] = [];
  let runSet: G | undefined;
  const flush = () => {
    if (run.length && runSet) out += decode(runSet.encoding, Uint8Array.from(runSet.width === 3 ? toEucJp0212(run) : run));
    run = [];
    runSet = undefined;
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === ESC) {
      flush();
      const escape = [2, 3].map((n) => String.fromCharCode(...bytes.subarray(i + 1, i + 1 + n))).find((s) => s in ESCAPES);
      if (escape) {
        const e = ESCAPES[escape]!;
        if (e.g === 0) g0 = e.set;
        else g1 = e.set;
        i += escape.length;
      }
      continue;
    }
    const high = b >= 0x80;
    const set = high ? g1 : g0;
    if (!set) {
      // No G1 designated: read the byte as ISO 8859-1 rather than lose it.
      flush();
      out += String.fromCharCode(b);
      continue;
    }
    if (!high && set.width === 1 && RESETS.has(b)) {
      flush();
      out += String.fromCharCode(b);
      g0 = initial[0];
      g1 = initial[1];
      continue;
    }
    if (runSet !== set) flush();
    runSet = set;
    // A 7-bit multi-byte G0 set (JIS X 0208, 0212) is decoded in its EUC form: the high half.
    run.push(!high && set.width > 1 ? b | 0x80 : b);
  }
  flush();
  return out;
}

/** JIS X 0212 characters (already in the high half) as EUC-JP: each pair behind 0x8F. */
function toEucJp0212(run: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < run.length; i += 2) out.push(0x8f, run[i]!, run[i + 1]!);
  return out;
}
