import { buildFileMeta, readFileMeta, type ParsedFileMeta } from './part10.js';
import { TS } from './uids.js';
import { readRawDataset, type RawElement } from './deid/raw-dataset.js';
import { encodeRawDataset } from './deid/raw-encoder.js';
import { deflatePart10 } from './deflate-part10.js';
import { encapsulateFrames } from './encapsulate.js';
import { encodeJpegLsLossless } from './jpegls-encode.js';

/**
 * Lossless compression of an instance for the wire (issue 5: results leave the node compressed).
 * The stored file stays Explicit VR Little Endian; this makes the copy that is sent:
 * - an image whose native pixel data JPEG-LS can carry (8-bit grey or RGB, 9 to 16-bit unsigned
 *   grey): JPEG-LS Lossless (PS3.5 A.4.3, 8.2.3), one fragment per frame;
 * - anything else (an SR, a 1-bit SEG, an image JPEG-LS cannot carry): Deflated Explicit VR
 *   Little Endian (PS3.5 A.5).
 * Only Explicit VR Little Endian input is transcoded: a file in any other syntax is sent as it is.
 */

export const JPEG_LS_LOSSLESS = '1.2.840.10008.1.2.4.80';

export interface Transcoded {
  part10: Buffer;
  transferSyntaxUid: string;
}

const PIXEL_DATA = 0x7fe00010;
const SAMPLES_PER_PIXEL = 0x00280002;
const PHOTOMETRIC = 0x00280004;
const PLANAR_CONFIGURATION = 0x00280006;
const NUMBER_OF_FRAMES = 0x00280008;
const ROWS = 0x00280010;
const COLUMNS = 0x00280011;
const BITS_ALLOCATED = 0x00280100;
const BITS_STORED = 0x00280101;
const PIXEL_REPRESENTATION = 0x00280103;

/** Colour models JPEG-LS lossless keeps as they are (PS3.5 8.2.3: no colour transform, the same Photometric Interpretation). */
const JPEG_LS_PHOTOMETRIC: ReadonlySet<string> = new Set(['MONOCHROME1', 'MONOCHROME2', 'PALETTE COLOR', 'RGB']);

/** The compressed copy to send, or null when the file is not Explicit VR Little Endian (sent as it is). */
export function compressForSend(part10: Buffer): Transcoded | null {
  const meta = readFileMeta(part10);
  if (!meta || meta.transferSyntaxUid !== TS.ExplicitVRLittleEndian) return null;
  const elements = readRawDataset(part10, true, () => undefined, meta.datasetOffset);
  const jls = jpegLsCopy(meta, elements);
  if (jls) return { part10: jls, transferSyntaxUid: JPEG_LS_LOSSLESS };
  return { part10: deflatePart10(part10), transferSyntaxUid: TS.DeflatedExplicitVRLittleEndian };
}

interface Geometry {
  rows: number;
  columns: number;
  samples: 1 | 3;
  bitsAllocated: 8 | 16;
  bitsStored: number;
  frames: number;
  planar: boolean;
}

/** The image's pixel geometry when JPEG-LS lossless can carry its native pixel data exactly; else null. */
function jpegLsGeometry(top: Map<number, RawElement>): Geometry | null {
  const pixel = top.get(PIXEL_DATA);
  if (!pixel?.value) return null;
  const us = (t: number) => (top.get(t)?.value?.length === 2 ? top.get(t)!.value!.readUInt16LE(0) : undefined);
  const text = (t: number) => top.get(t)?.value?.toString('latin1').replace(/[\0 ]+$/, '').trim();
  const rows = us(ROWS);
  const columns = us(COLUMNS);
  const samples = us(SAMPLES_PER_PIXEL);
  const bitsAllocated = us(BITS_ALLOCATED);
  const bitsStored = us(BITS_STORED) ?? bitsAllocated;
  const frames = Number(text(NUMBER_OF_FRAMES) || '1');
  const photometric = text(PHOTOMETRIC) ?? '';
  if (!rows || !columns || !bitsStored || !Number.isInteger(frames) || frames < 1) return null;
  if (us(PIXEL_REPRESENTATION) !== 0 || !JPEG_LS_PHOTOMETRIC.has(photometric)) return null;
  const ok = (samples === 1 && (bitsAllocated === 8 || bitsAllocated === 16)) || (samples === 3 && bitsAllocated === 8 && photometric === 'RGB');
  if (!ok || bitsStored < 2 || bitsStored > bitsAllocated!) return null;
  const g: Geometry = { rows, columns, samples: samples as 1 | 3, bitsAllocated: bitsAllocated as 8 | 16, bitsStored, frames, planar: samples === 3 && us(PLANAR_CONFIGURATION) === 1 };
  if (pixel.value.length < frameBytes(g) * frames) return null;
  return g;
}

function frameBytes(g: Geometry): number {
  return g.rows * g.columns * g.samples * (g.bitsAllocated / 8);
}

/** Frame `f` with samples interleaved, or null when a value uses bits above Bits Stored (lossless only with them). */
function frameSamples(pixels: Buffer, g: Geometry, f: number): Uint8Array | null {
  const size = frameBytes(g);
  const src = pixels.subarray(f * size, (f + 1) * size);
  if (g.bitsAllocated === 16) {
    const limit = 2 ** g.bitsStored;
    for (let i = 0; i < src.length; i += 2) if (src.readUInt16LE(i) >= limit) return null;
    return new Uint8Array(src.buffer, src.byteOffset, src.length);
  }
  if (g.bitsStored < 8) {
    const limit = 2 ** g.bitsStored;
    for (let i = 0; i < src.length; i++) if (src[i]! >= limit) return null;
  }
  if (!g.planar) return new Uint8Array(src.buffer, src.byteOffset, src.length);
  // PS3.3 C.7.6.3.1.3: planar configuration 1 holds R, G and B planes; the encoder takes pixels.
  const n = g.rows * g.columns;
  const out = new Uint8Array(size);
  for (let i = 0; i < n; i++) {
    out[3 * i] = src[i]!;
    out[3 * i + 1] = src[n + i]!;
    out[3 * i + 2] = src[2 * n + i]!;
  }
  return out;
}

function jpegLsCopy(meta: ParsedFileMeta, elements: RawElement[]): Buffer | null {
  const top = new Map(elements.map((e) => [e.tag, e]));
  const g = jpegLsGeometry(top);
  if (!g) return null;
  const pixels = top.get(PIXEL_DATA)!.value!;
  const codestreams: Uint8Array[] = [];
  for (let f = 0; f < g.frames; f++) {
    const samples = frameSamples(pixels, g, f);
    if (!samples) return null;
    codestreams.push(encodeJpegLsLossless({ width: g.columns, height: g.rows, bitsPerSample: g.bitsStored, componentCount: g.samples, samples }));
  }
  const out = elements.map((e): RawElement => {
    // PS3.5 A.4: encapsulated Pixel Data is OB of undefined length.
    if (e.tag === PIXEL_DATA) return { tag: PIXEL_DATA, vr: 'OB', encapsulated: encapsulateFrames(codestreams) };
    // PS3.5 8.2.3: for JPEG-LS, Planar Configuration is irrelevant (the interleave is in the codestream) and shall be 0.
    if (e.tag === PLANAR_CONFIGURATION) return { tag: e.tag, vr: e.vr, value: Buffer.from([0, 0]) };
    return e;
  });
  const fileMeta = buildFileMeta({ mediaStorageSopClassUid: meta.mediaStorageSopClassUid, mediaStorageSopInstanceUid: meta.mediaStorageSopInstanceUid, sourceAeTitle: meta.sourceAeTitle, transferSyntaxUid: JPEG_LS_LOSSLESS });
  return Buffer.concat([fileMeta, ...encodeRawDataset(out, true)]);
}
