import { BitReader, JpegError, readDht, readSof, readSos, type FrameHeader, type HuffmanTable, type ScanHeader } from './jpeg-bits.js';

/**
 * medge's own DCT JPEG decoder (ITU-T T.81), written for the 12-bit precision that no packaged codec of
 * ours handles (DICOM JPEG Extended, 1.2.840.10008.1.2.4.51, and the retired progressive .53/.55).
 * Huffman coding only: baseline and extended sequential (SOF0/SOF1, Annex F) and progressive (SOF2,
 * Annex G), 8- or 12-bit samples, any sampling factors, restart intervals. Output samples are the
 * decoded components, upsampled to full size and interleaved, without colour conversion.
 * Arithmetic coding and hierarchical mode are not supported (rare in DICOM, and rejected earlier).
 */

export { JpegError as JpegDctError };

export interface JpegDctImage {
  /** Interleaved samples, little endian: 1 byte each for 8-bit precision, 2 for 12-bit. */
  samples: Uint8Array;
  width: number;
  height: number;
  components: number;
  precision: number;
}

/** Natural (row-major) index of each zig-zag position (T.81 Figure A.6). */
const ZIGZAG = new Uint8Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29,
  22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

const MARKER = { SOF0: 0xc0, SOF1: 0xc1, SOF2: 0xc2, DHT: 0xc4, SOI: 0xd8, EOI: 0xd9, SOS: 0xda, DQT: 0xdb, DNL: 0xdc, DRI: 0xdd } as const;

interface Component {
  h: number;
  v: number;
  tq: number;
  /** Blocks across and down, padded to whole MCUs. */
  blocksPerLine: number;
  blocksPerColumn: number;
  /** Blocks that hold image samples (A.2.3): non-interleaved scans cover only these. */
  usedPerLine: number;
  usedPerColumn: number;
  /** Quantised coefficients, 64 per block in natural order. */
  coef: Int32Array;
  pred: number;
}

export function decodeJpegDct(data: Uint8Array): JpegDctImage {
  const qt: Array<Int32Array | undefined> = [];
  const dc: HuffmanTable[] = [];
  const ac: HuffmanTable[] = [];
  let frame: FrameHeader | undefined;
  let comps: Component[] = [];
  let mcusPerLine = 0;
  let mcusPerColumn = 0;
  let restartInterval = 0;
  if (data[0] !== 0xff || data[1] !== MARKER.SOI) throw new JpegError('no SOI marker');
  let p = 2;
  for (;;) {
    while (p < data.length && data[p] === 0xff && data[p + 1] === 0xff) p++;
    if (p + 4 > data.length) {
      if (frame) break; // a missing EOI is tolerated when scans were decoded
      throw new JpegError('the codestream ends before a frame');
    }
    if (data[p] !== 0xff) throw new JpegError(`expected a marker at byte ${p}`);
    const marker = data[p + 1]!;
    if (marker === MARKER.EOI) break;
    const length = (data[p + 2]! << 8) | data[p + 3]!;
    const body = p + 4;
    const end = p + 2 + length;
    if (end > data.length) throw new JpegError(`a marker segment (0xff${marker.toString(16)}) runs past the end`);
    switch (marker) {
      case MARKER.DQT:
        for (let q = body; q < end; ) {
          const pq = data[q]! >> 4;
          const tq = data[q]! & 15;
          const table = new Int32Array(64);
          for (let k = 0; k < 64; k++) table[ZIGZAG[k]!] = pq ? (data[q + 1 + 2 * k]! << 8) | data[q + 2 + 2 * k]! : data[q + 1 + k]!;
          qt[tq] = table;
          q += 1 + 64 * (pq ? 2 : 1);
        }
        break;
      case MARKER.DHT:
        readDht(data, body, end, dc, ac);
        break;
      case MARKER.DRI:
        restartInterval = (data[body]! << 8) | data[body + 1]!;
        break;
      case MARKER.SOF0:
      case MARKER.SOF1:
      case MARKER.SOF2: {
        if (frame) throw new JpegError('more than one frame');
        frame = readSof(data, body, marker);
        if (frame.precision !== 8 && frame.precision !== 12) throw new JpegError(`DCT precision ${frame.precision} (T.81 allows 8 and 12)`);
        const hmax = Math.max(...frame.components.map((c) => c.h));
        const vmax = Math.max(...frame.components.map((c) => c.v));
        mcusPerLine = Math.ceil(frame.width / (8 * hmax));
        mcusPerColumn = Math.ceil(frame.height / (8 * vmax));
        comps = frame.components.map((c) => {
          const blocksPerLine = mcusPerLine * c.h;
          const blocksPerColumn = mcusPerColumn * c.v;
          return {
            h: c.h,
            v: c.v,
            tq: c.tq,
            blocksPerLine,
            blocksPerColumn,
            usedPerLine: Math.ceil(Math.ceil((frame!.width * c.h) / hmax) / 8),
            usedPerColumn: Math.ceil(Math.ceil((frame!.height * c.v) / vmax) / 8),
            coef: new Int32Array(blocksPerLine * blocksPerColumn * 64),
            pred: 0,
          };
        });
        break;
      }
      case MARKER.SOS: {
        if (!frame) throw new JpegError('a scan before the frame header');
        const scan = readSos(data, body, frame);
        p = decodeScan(data, end, frame, comps, scan, dc, ac, restartInterval, mcusPerLine, mcusPerColumn);
        continue;
      }
      default:
        if (marker >= 0xc3 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
          throw new JpegError(`SOF marker 0xff${marker.toString(16)} is not a DCT Huffman process this decoder handles`);
        }
      // APPn, COM, DNL and others carry nothing the samples need.
    }
    p = end;
  }
  if (!frame) throw new JpegError('no frame header');
  return output(frame, comps, qt);
}

function decodeScan(
  data: Uint8Array,
  start: number,
  frame: FrameHeader,
  comps: Component[],
  scan: ScanHeader,
  dc: HuffmanTable[],
  ac: HuffmanTable[],
  restartInterval: number,
  mcusPerLine: number,
  mcusPerColumn: number,
): number {
  const progressive = frame.sof === MARKER.SOF2;
  const reader = new BitReader(data, start);
  const { ss, se, ah, al } = scan;
  const scomps = scan.components.map((sc) => {
    const c = comps[sc.index]!;
    const needDc = !progressive || (ss === 0 && ah === 0);
    const needAc = !progressive ? true : ss > 0;
    const dct = dc[sc.td];
    const act = ac[sc.ta];
    if ((needDc && !dct) || (needAc && !act)) throw new JpegError('a scan uses a Huffman table that was not defined');
    return { c, dct: dct!, act: act! };
  });
  for (const s of scomps) s.c.pred = 0;
  let eobrun = 0;

  const decodeBlock = (s: (typeof scomps)[number], offset: number): void => {
    const coef = s.c.coef;
    if (!progressive) {
      const t = reader.decode(s.dct);
      s.c.pred += reader.receiveExtend(t);
      coef[offset] = s.c.pred;
      for (let k = 1; k < 64; ) {
        const rs = reader.decode(s.act);
        const r = rs >> 4;
        const sz = rs & 15;
        if (sz === 0) {
          if (r !== 15) break;
          k += 16;
          continue;
        }
        k += r;
        if (k > 63) throw new JpegError('a coefficient run past the end of a block');
        coef[offset + ZIGZAG[k]!] = reader.receiveExtend(sz);
        k++;
      }
      return;
    }
    if (ss === 0) {
      if (ah === 0) {
        const t = reader.decode(s.dct);
        s.c.pred += reader.receiveExtend(t);
        coef[offset] = s.c.pred * (1 << al);
      } else if (reader.bit()) coef[offset] |= 1 << al;
      return;
    }
    if (ah === 0) {
      if (eobrun > 0) {
        eobrun--;
        return;
      }
      for (let k = ss; k <= se; ) {
        const rs = reader.decode(s.act);
        const r = rs >> 4;
        const sz = rs & 15;
        if (sz === 0) {
          if (r < 15) {
            eobrun = (1 << r) - 1 + reader.read(r);
            break;
          }
          k += 16;
          continue;
        }
        k += r;
        if (k > 63) throw new JpegError('a coefficient run past the end of a block');
        coef[offset + ZIGZAG[k]!] = reader.receiveExtend(sz) * (1 << al);
        k++;
      }
      return;
    }
    refineAc(coef, offset);
  };

  // Successive approximation of AC coefficients (G.1.2.3), following the order of T.81 Figure G.7.
  const refineAc = (coef: Int32Array, offset: number): void => {
    const p1 = 1 << al;
    const m1 = -1 << al;
    const s0 = scomps[0]!;
    let k = ss;
    const refine = (z: number): void => {
      const v = coef[z]!;
      if (reader.bit() && (v & p1) === 0) coef[z] = v >= 0 ? v + p1 : v + m1;
    };
    if (eobrun === 0) {
      for (; k <= se; k++) {
        const rs = reader.decode(s0.act);
        let r = rs >> 4;
        const sz = rs & 15;
        let value = 0;
        if (sz !== 0) value = reader.bit() ? p1 : m1;
        else if (r !== 15) {
          eobrun = (1 << r) + reader.read(r);
          break;
        }
        while (k <= se) {
          const z = offset + ZIGZAG[k]!;
          if (coef[z] !== 0) refine(z);
          else if (--r < 0) break;
          k++;
        }
        if (value !== 0 && k <= se) coef[offset + ZIGZAG[k]!] = value;
      }
    }
    if (eobrun > 0) {
      for (; k <= se; k++) {
        const z = offset + ZIGZAG[k]!;
        if (coef[z] !== 0) refine(z);
      }
      eobrun--;
    }
  };

  const restartCheck = (done: number): void => {
    if (restartInterval > 0 && done % restartInterval === 0) {
      reader.restart();
      for (const s of scomps) s.c.pred = 0;
      eobrun = 0;
    }
  };

  if (scomps.length === 1) {
    // Non-interleaved: the component's own blocks, row by row, without MCU padding (A.2.2).
    const s = scomps[0]!;
    const total = s.c.usedPerLine * s.c.usedPerColumn;
    for (let n = 0; n < total; ) {
      const row = Math.floor(n / s.c.usedPerLine);
      const col = n % s.c.usedPerLine;
      decodeBlock(s, (row * s.c.blocksPerLine + col) * 64);
      n++;
      if (n < total) restartCheck(n);
    }
  } else {
    const total = mcusPerLine * mcusPerColumn;
    for (let n = 0; n < total; ) {
      const mr = Math.floor(n / mcusPerLine);
      const mc = n % mcusPerLine;
      for (const s of scomps) {
        for (let v = 0; v < s.c.v; v++) {
          for (let h = 0; h < s.c.h; h++) {
            decodeBlock(s, ((mr * s.c.v + v) * s.c.blocksPerLine + mc * s.c.h + h) * 64);
          }
        }
      }
      n++;
      if (n < total) restartCheck(n);
    }
  }
  return reader.endOfScan();
}

/** C(u) cos((2x+1) u pi / 16) / 2 for the inverse DCT (A.3.3), indexed [u * 8 + x]. */
const IDCT_BASIS = (() => {
  const b = new Float64Array(64);
  for (let u = 0; u < 8; u++) for (let x = 0; x < 8; x++) b[u * 8 + x] = ((u === 0 ? Math.SQRT1_2 : 1) * Math.cos(((2 * x + 1) * u * Math.PI) / 16)) / 2;
  return b;
})();

function output(frame: FrameHeader, comps: Component[], qt: Array<Int32Array | undefined>): JpegDctImage {
  const { width, height, precision } = frame;
  const maxValue = (1 << precision) - 1;
  const shift = 1 << (precision - 1);
  const hmax = Math.max(...comps.map((c) => c.h));
  const vmax = Math.max(...comps.map((c) => c.v));
  const n = comps.length;
  const out = precision === 8 ? new Uint8Array(width * height * n) : new Uint16Array(width * height * n);
  const block = new Float64Array(64);
  const tmp = new Float64Array(64);
  comps.forEach((c, ci) => {
    const q = qt[c.tq];
    if (!q) throw new JpegError(`quantisation table ${c.tq} was not defined`);
    const planeWidth = c.blocksPerLine * 8;
    const plane = new Uint16Array(planeWidth * c.blocksPerColumn * 8);
    for (let by = 0; by < c.blocksPerColumn; by++) {
      for (let bx = 0; bx < c.blocksPerLine; bx++) {
        const off = (by * c.blocksPerLine + bx) * 64;
        for (let i = 0; i < 64; i++) block[i] = c.coef[off + i]! * q[i]!;
        // Rows: tmp[v][x] = sum_u block[v][u] basis[u][x]; then columns.
        for (let v = 0; v < 8; v++) {
          for (let x = 0; x < 8; x++) {
            let sum = 0;
            for (let u = 0; u < 8; u++) sum += block[v * 8 + u]! * IDCT_BASIS[u * 8 + x]!;
            tmp[v * 8 + x] = sum;
          }
        }
        for (let y = 0; y < 8; y++) {
          const row = (by * 8 + y) * planeWidth + bx * 8;
          for (let x = 0; x < 8; x++) {
            let sum = 0;
            for (let v = 0; v < 8; v++) sum += tmp[v * 8 + x]! * IDCT_BASIS[v * 8 + y]!;
            const s = Math.round(sum) + shift;
            plane[row + x] = s < 0 ? 0 : s > maxValue ? maxValue : s;
          }
        }
      }
    }
    const sx = c.h / hmax;
    const sy = c.v / vmax;
    for (let y = 0; y < height; y++) {
      const prow = Math.floor(y * sy) * planeWidth;
      for (let x = 0; x < width; x++) out[(y * width + x) * n + ci] = plane[prow + Math.floor(x * sx)]!;
    }
  });
  return { samples: new Uint8Array(out.buffer, 0, out.byteLength), width, height, components: n, precision };
}
