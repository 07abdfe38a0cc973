import { BitReader, JpegError, readDht, readSof, readSos, type FrameHeader, type HuffmanTable } from './jpeg-bits.js';
import type { JpegDctImage } from './jpeg-dct.js';

/**
 * medge's own JPEG lossless decoder (ITU-T T.81 Annex H, process 14: DICOM 1.2.840.10008.1.2.4.57 and
 * .70). It replaces jpeg-lossless-decoder-js, which left the last sample of the real GE CT slice in
 * .70 at 0 instead of -2000, so that file was not bit-exact. Huffman coding, predictors 1-7, point
 * transform, restart intervals, 2 to 16 bits, interleaved or one-component scans; every component must
 * be sampled 1x1 (the only layout DICOM encoders write for lossless JPEG).
 */
export function decodeJpegLossless(data: Uint8Array): JpegDctImage {
  const dc: HuffmanTable[] = [];
  const unusedAc: HuffmanTable[] = [];
  let frame: FrameHeader | undefined;
  let planes: Int32Array[] = [];
  let restartInterval = 0;
  if (data[0] !== 0xff || data[1] !== 0xd8) throw new JpegError('no SOI marker');
  let p = 2;
  for (;;) {
    while (p < data.length && data[p] === 0xff && data[p + 1] === 0xff) p++;
    if (p + 4 > data.length) {
      if (frame) break;
      throw new JpegError('the codestream ends before a frame');
    }
    if (data[p] !== 0xff) throw new JpegError(`expected a marker at byte ${p}`);
    const marker = data[p + 1]!;
    if (marker === 0xd9) break;
    const end = p + 2 + ((data[p + 2]! << 8) | data[p + 3]!);
    if (end > data.length) throw new JpegError(`a marker segment (0xff${marker.toString(16)}) runs past the end`);
    if (marker === 0xc4) readDht(data, p + 4, end, dc, unusedAc);
    else if (marker === 0xdd) restartInterval = (data[p + 4]! << 8) | data[p + 5]!;
    else if (marker === 0xc3) {
      frame = readSof(data, p + 4, marker);
      if (frame.precision < 2 || frame.precision > 16) throw new JpegError(`lossless precision ${frame.precision} (T.81 allows 2 to 16)`);
      if (frame.components.some((c) => c.h !== 1 || c.v !== 1)) throw new JpegError('lossless JPEG with subsampled components is not supported');
      planes = frame.components.map(() => new Int32Array(frame!.width * frame!.height));
    } else if (marker === 0xda) {
      if (!frame) throw new JpegError('a scan before the frame header');
      p = decodeScan(data, end, frame, planes, readSos(data, p + 4, frame), dc, restartInterval);
      continue;
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      throw new JpegError(`SOF marker 0xff${marker.toString(16)} is not lossless Huffman (process 14)`);
    }
    p = end;
  }
  if (!frame) throw new JpegError('no frame header');
  const { width, height } = frame;
  const n = planes.length;
  const out = frame.precision <= 8 ? new Uint8Array(width * height * n) : new Uint16Array(width * height * n);
  for (let c = 0; c < n; c++) {
    const plane = planes[c]!;
    for (let i = 0; i < plane.length; i++) out[i * n + c] = plane[i]!;
  }
  return { samples: new Uint8Array(out.buffer, 0, out.byteLength), width, height, components: n, precision: frame.precision };
}

function decodeScan(
  data: Uint8Array,
  start: number,
  frame: FrameHeader,
  planes: Int32Array[],
  scan: ReturnType<typeof readSos>,
  dc: HuffmanTable[],
  restartInterval: number,
): number {
  const { width, height, precision } = frame;
  const predictor = scan.ss;
  const pt = scan.al;
  if (predictor > 7) throw new JpegError(`predictor ${predictor} (T.81 H.1.2.1 defines 0 to 7)`);
  const comps = scan.components.map((sc) => {
    const table = dc[sc.td];
    if (!table) throw new JpegError('a scan uses a Huffman table that was not defined');
    return { plane: planes[sc.index]!, table };
  });
  const reader = new BitReader(data, start);
  const initial = 1 << (precision - pt - 1);
  const mask = (1 << (precision - pt)) - 1;
  // The row and column where the current restart interval began: its first sample is predicted by
  // 2^(P-Pt-1) and the rest of that row by Ra (H.1.2.1).
  let restartRow = 0;
  let restartCol = 0;
  let mcus = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (restartInterval > 0 && mcus > 0 && mcus % restartInterval === 0) {
        reader.restart();
        restartRow = y;
        restartCol = x;
      }
      mcus++;
      const i = y * width + x;
      for (const c of comps) {
        const plane = c.plane;
        let pred: number;
        if (y === restartRow && x === restartCol) pred = initial;
        else if (y === restartRow) pred = plane[i - 1]!;
        else if (x === 0) pred = plane[i - width]!;
        else {
          const ra = plane[i - 1]!;
          const rb = plane[i - width]!;
          const rc = plane[i - width - 1]!;
          switch (predictor) {
            case 1: pred = ra; break;
            case 2: pred = rb; break;
            case 3: pred = rc; break;
            case 4: pred = ra + rb - rc; break;
            case 5: pred = ra + ((rb - rc) >> 1); break;
            case 6: pred = rb + ((ra - rc) >> 1); break;
            case 7: pred = (ra + rb) >> 1; break;
            default: pred = 0;
          }
        }
        const t = reader.decode(c.table);
        const diff = t === 16 ? 32768 : reader.receiveExtend(t);
        // Differences are modulo 2^16 (H.1.2.2), which masking to the sample width also gives.
        plane[i] = (pred + diff) & mask;
      }
    }
  }
  if (pt > 0) for (const c of comps) for (let i = 0; i < c.plane.length; i++) c.plane[i] = c.plane[i]! << pt;
  return reader.endOfScan();
}
