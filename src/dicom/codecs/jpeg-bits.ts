/**
 * Shared parts of medge's own JPEG decoders (ITU-T T.81): the entropy-coded segment bit reader (F.2.2.5,
 * with 0xFF00 byte stuffing and markers, B.1.1.5) and Huffman tables (Annex C, decoding per F.2.2.3).
 */

export class JpegError extends Error {}

/** Huffman table: a 9-bit lookahead for short codes, canonical maxcode/valptr for the rest (F.2.2.3). */
export interface HuffmanTable {
  /** Index by the next 9 bits: (length << 8) | value, 0 when the code is longer than 9 bits. */
  fast: Uint16Array;
  maxcode: Int32Array;
  valptr: Int32Array;
  mincode: Int32Array;
  values: Uint8Array;
}

const FAST_BITS = 9;

/** Builds a table from BITS (16 counts) and HUFFVAL (Annex C). */
export function buildHuffman(counts: Uint8Array, values: Uint8Array): HuffmanTable {
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  const fast = new Uint16Array(1 << FAST_BITS);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1]!;
    valptr[len] = k;
    mincode[len] = code;
    for (let i = 0; i < n; i++, k++, code++) {
      if (len <= FAST_BITS) {
        const shift = FAST_BITS - len;
        const base = code << shift;
        for (let j = 0; j < 1 << shift; j++) fast[base + j] = (len << 8) | values[k]!;
      }
    }
    maxcode[len] = n > 0 ? code - 1 : -1;
    if (code > 1 << len) throw new JpegError('a Huffman table has more codes than its lengths allow');
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  return { fast, maxcode, valptr, mincode, values };
}

export class BitReader {
  private acc = 0;
  private bits = 0;
  /** The marker (second byte) that stopped the reader, or -1 while inside entropy-coded data. */
  marker = -1;

  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  private fill(): void {
    while (this.bits <= 24) {
      let byte = 0;
      if (this.marker < 0 && this.pos < this.data.length) {
        byte = this.data[this.pos]!;
        if (byte === 0xff) {
          const next = this.data[this.pos + 1];
          if (next === 0x00) this.pos += 2;
          else {
            // A marker ends the segment; past it the decoder reads zeros (F.2.2.5 note, as libjpeg does).
            this.marker = next ?? 0xd9;
            byte = 0;
          }
        } else this.pos++;
      }
      this.acc = ((this.acc << 8) | byte) >>> 0;
      this.bits += 8;
    }
  }

  bit(): number {
    if (this.bits < 1) this.fill();
    this.bits--;
    return (this.acc >>> this.bits) & 1;
  }

  read(n: number): number {
    if (n === 0) return 0;
    if (this.bits < n) this.fill();
    this.bits -= n;
    return (this.acc >>> this.bits) & ((1 << n) - 1);
  }

  /** F.2.2.1 EXTEND of an s-bit magnitude category. */
  receiveExtend(s: number): number {
    if (s === 0) return 0;
    if (s >= 16) return 32768; // lossless difference category 16 (H.1.2.2): no extra bits
    const v = this.read(s);
    return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
  }

  decode(t: HuffmanTable): number {
    if (this.bits < 16) this.fill();
    const peek = (this.acc >>> (this.bits - FAST_BITS)) & ((1 << FAST_BITS) - 1);
    const f = t.fast[peek]!;
    if (f !== 0) {
      this.bits -= f >> 8;
      return f & 0xff;
    }
    let code = this.read(FAST_BITS);
    let len = FAST_BITS;
    while (code > t.maxcode[len]!) {
      code = (code << 1) | this.bit();
      len++;
      if (len > 16) throw new JpegError('an invalid Huffman code in the entropy-coded data');
    }
    return t.values[t.valptr[len]! + code - t.mincode[len]!]!;
  }

  /** Handles a restart marker (RSTm, B.2.1): drops buffered bits and steps over the marker. */
  restart(): void {
    this.acc = 0;
    this.bits = 0;
    if (this.marker < 0) {
      // Bits were buffered but not all consumed: find the marker from the current position.
      while (this.pos + 1 < this.data.length && !(this.data[this.pos] === 0xff && this.data[this.pos + 1]! >= 0xd0 && this.data[this.pos + 1]! <= 0xd7)) this.pos++;
      this.marker = this.data[this.pos + 1] ?? -1;
    }
    if (this.marker >= 0xd0 && this.marker <= 0xd7) this.pos += 2;
    this.marker = -1;
  }

  /** The position of the marker that ends the scan (after any padding). */
  endOfScan(): number {
    let p = this.marker >= 0 ? this.pos : this.pos;
    while (p + 1 < this.data.length && !(this.data[p] === 0xff && this.data[p + 1] !== 0x00 && this.data[p + 1] !== 0xff)) p++;
    return p;
  }
}

/** Reads DHT (B.2.4.2) into the dc (class 0) and ac (class 1) arrays of tables. */
export function readDht(data: Uint8Array, start: number, end: number, dc: HuffmanTable[], ac: HuffmanTable[]): void {
  let p = start;
  while (p < end) {
    const tc = data[p]! >> 4;
    const th = data[p]! & 15;
    const counts = data.subarray(p + 1, p + 17);
    const total = counts.reduce((a, b) => a + b, 0);
    if (p + 17 + total > end || th > 3) throw new JpegError('a DHT segment is malformed');
    const table = buildHuffman(counts, data.subarray(p + 17, p + 17 + total));
    (tc === 0 ? dc : ac)[th] = table;
    p += 17 + total;
  }
}

export interface FrameComponent {
  id: number;
  h: number;
  v: number;
  tq: number;
}

export interface FrameHeader {
  sof: number;
  precision: number;
  height: number;
  width: number;
  components: FrameComponent[];
}

export function readSof(data: Uint8Array, p: number, sof: number): FrameHeader {
  const n = data[p + 5]!;
  const components: FrameComponent[] = [];
  for (let i = 0; i < n; i++) {
    const q = p + 6 + i * 3;
    components.push({ id: data[q]!, h: data[q + 1]! >> 4, v: data[q + 1]! & 15, tq: data[q + 2]! });
  }
  const header = { sof, precision: data[p]!, height: (data[p + 1]! << 8) | data[p + 2]!, width: (data[p + 3]! << 8) | data[p + 4]!, components };
  if (header.width === 0 || header.height === 0) throw new JpegError('the frame has zero width or height (DNL is not supported)');
  if (components.some((c) => c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4)) throw new JpegError('a component has an invalid sampling factor');
  return header;
}

export interface ScanHeader {
  components: Array<{ index: number; td: number; ta: number }>;
  ss: number;
  se: number;
  ah: number;
  al: number;
}

export function readSos(data: Uint8Array, p: number, frame: FrameHeader): ScanHeader {
  const n = data[p]!;
  const components: ScanHeader['components'] = [];
  for (let i = 0; i < n; i++) {
    const id = data[p + 1 + i * 2]!;
    const index = frame.components.findIndex((c) => c.id === id);
    if (index < 0) throw new JpegError(`a scan names component ${id}, which the frame does not have`);
    components.push({ index, td: data[p + 2 + i * 2]! >> 4, ta: data[p + 2 + i * 2]! & 15 });
  }
  const q = p + 1 + n * 2;
  return { components, ss: data[q]!, se: data[q + 1]!, ah: data[q + 2]! >> 4, al: data[q + 2]! & 15 };
}
