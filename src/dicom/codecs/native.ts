import { decodeError } from './frames.js';
import { nativeFrameBytes } from './frames.js';
import type { PixelSource } from './instance.js';
import { normaliseStored, planarToInterleaved, samplesFromBytes } from './samples.js';
import { PIXEL_TS, type DecodedFrame } from './types.js';

/**
 * Native (uncompressed) Pixel Data (PS3.5 8.1.1 and 8.2): little endian samples are returned as views
 * into the dataset's bytes when aligned; big endian (A.3) is byte-swapped; packed 1-bit samples are
 * unpacked to one byte each; planar colour and YBR_FULL_422 (two luma samples share one chroma pair,
 * PS3.3 C.7.6.3.1.2) are expanded to interleaved full-resolution samples.
 */
export function decodeNative(source: PixelSource, frame: number): DecodedFrame {
  const info = source.info;
  const pixels = info.rows * info.columns;
  const signed = info.pixelRepresentation === 1;
  if (info.photometricInterpretation === 'YBR_FULL_422' && info.samplesPerPixel === 3 && info.bitsAllocated === 8) {
    return { info: { ...info, photometricInterpretation: 'YBR_FULL', planarConfiguration: 0 }, pixels: expand422(source, frame) };
  }
  const { bytes, bitOffset } = nativeFrameBytes(source, frame);
  if (info.bitsAllocated === 1) {
    const out = new Uint8Array(pixels * info.samplesPerPixel);
    for (let i = 0; i < out.length; i++) {
      const bit = bitOffset + i;
      out[i] = (bytes[bit >> 3]! >> (bit & 7)) & 1;
    }
    return { info, pixels: out };
  }
  const littleEndian = info.transferSyntaxUid !== PIXEL_TS.ExplicitVRBigEndian;
  let arr = samplesFromBytes(bytes, info.bitsAllocated, signed, littleEndian);
  const owned = arr.buffer !== bytes.buffer;
  arr = normaliseStored(arr, info.bitsStored, info.highBit, signed, owned);
  if (info.samplesPerPixel > 1 && info.planarConfiguration === 1) {
    arr = planarToInterleaved(arr, info.samplesPerPixel, pixels);
    return { info: { ...info, planarConfiguration: 0 }, pixels: arr };
  }
  return { info, pixels: arr };
}

function expand422(source: PixelSource, frame: number): Uint8Array {
  const { rows, columns } = source.info;
  const frameBytes = rows * columns * 2;
  const start = source.pixelData.dataOffset + frame * frameBytes;
  const src = source.dataSet.byteArray;
  if (columns % 2 !== 0 || start + frameBytes > src.length || (frame + 1) * frameBytes > source.pixelData.length) {
    throw decodeError(source, frame, 'YBR_FULL_422 Pixel Data is shorter than Rows x Columns x 2 bytes per frame, or Columns is odd');
  }
  const out = new Uint8Array(rows * columns * 3);
  // Each 4-byte group is Y1 Y2 Cb Cr for two neighbouring pixels.
  for (let g = 0, o = 0, i = start; g < (rows * columns) / 2; g++, i += 4, o += 6) {
    out[o] = src[i]!;
    out[o + 3] = src[i + 1]!;
    out[o + 1] = out[o + 4] = src[i + 2]!;
    out[o + 2] = out[o + 5] = src[i + 3]!;
  }
  return out;
}
