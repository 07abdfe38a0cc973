import type { DataSet } from 'dicom-parser';
import { MedgeError } from '../errors.js';
import { TS } from '../dicom/uids.js';

/** Stored pixel values of one frame, signed per Pixel Representation (0028,0103). */
export type PixelArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array;

/**
 * One decoded frame: the shape the codecs in src/dicom/codecs/ return (`info` is theirs, opaque
 * here). Only `pixels` is read: rows x columns stored values, row by row, one sample per pixel.
 */
export interface DecodedFrame {
  info?: unknown;
  pixels: PixelArray;
}

/** Decodes frame `frame` (0-based) of a Part 10 file. */
export type FrameDecoder = (part10: Buffer, frame: number) => DecodedFrame | Promise<DecodedFrame>;

/** The Image Pixel attributes (PS3.3 C.7.6.3) a native decoder needs. */
export interface NativePixelLayout {
  transferSyntaxUid: string;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  /** 1 = two's complement (signed), 0 = unsigned. */
  pixelRepresentation: number;
  samplesPerPixel: number;
}

const PIXEL_DATA = 'x7fe00010';
const NATIVE = new Set<string>([TS.ImplicitVRLittleEndian, TS.ExplicitVRLittleEndian, TS.DeflatedExplicitVRLittleEndian, TS.ExplicitVRBigEndian]);

export function isNativeTransferSyntax(uid: string): boolean {
  return NATIVE.has(uid);
}

/**
 * Frame `frame` (0-based) of native (uncompressed) Pixel Data (PS3.5 8.1.1): a view into the
 * dataset's bytes when the data is little endian, aligned and every stored bit is used; otherwise
 * one copy (byte swap for Explicit VR Big Endian, PS3.5 A.3; masking and sign extension when Bits
 * Stored < Bits Allocated, PS3.5 8.1.1 says the unused high bits may hold anything).
 */
export function decodeNativeFrame(ds: DataSet, layout: NativePixelLayout, frame: number): DecodedFrame {
  const e = ds.elements[PIXEL_DATA];
  if (!e) throw new MedgeError('MEDGE_ERR_CODEC_DECODE', 'the instance has no Pixel Data', {});
  if (e.encapsulatedPixelData || !isNativeTransferSyntax(layout.transferSyntaxUid)) {
    throw new MedgeError('MEDGE_ERR_CODEC_UNSUPPORTED', `no built-in decoder for transfer syntax ${layout.transferSyntaxUid}`, {
      transferSyntaxUid: layout.transferSyntaxUid,
    });
  }
  if (layout.samplesPerPixel !== 1) {
    throw new MedgeError('MEDGE_ERR_CODEC_UNSUPPORTED', `${layout.samplesPerPixel} samples per pixel: only grayscale is built into volumes`, {});
  }
  const n = layout.rows * layout.columns;
  const bytesPer = layout.bitsAllocated >> 3;
  if (![1, 2, 4].includes(bytesPer) || layout.bitsAllocated % 8 !== 0) {
    throw new MedgeError('MEDGE_ERR_CODEC_UNSUPPORTED', `Bits Allocated ${layout.bitsAllocated} is not supported`, {});
  }
  const start = e.dataOffset + frame * n * bytesPer;
  if (start + n * bytesPer > e.dataOffset + e.length || start + n * bytesPer > ds.byteArray.length) {
    throw new MedgeError('MEDGE_ERR_CODEC_DECODE', `frame ${frame + 1} lies past the end of the Pixel Data`, { frame: frame + 1 });
  }
  const signed = layout.pixelRepresentation === 1;
  const bigEndian = layout.transferSyntaxUid === TS.ExplicitVRBigEndian;
  const bytes = ds.byteArray;
  const absolute = bytes.byteOffset + start;
  const Ctor = bytesPer === 1 ? (signed ? Int8Array : Uint8Array) : bytesPer === 2 ? (signed ? Int16Array : Uint16Array) : signed ? Int32Array : Uint32Array;
  let pixels: PixelArray;
  if (!bigEndian && absolute % bytesPer === 0) {
    pixels = new Ctor(bytes.buffer as ArrayBuffer, absolute, n);
  } else {
    pixels = new Ctor(n);
    const out = new Uint8Array(pixels.buffer);
    const src = bytes.subarray(start, start + n * bytesPer);
    if (!bigEndian || bytesPer === 1) out.set(src);
    else if (bytesPer === 2) for (let i = 0; i < src.length; i += 2) (out[i] = src[i + 1]!), (out[i + 1] = src[i]!);
    else for (let i = 0; i < src.length; i += 4) (out[i] = src[i + 3]!), (out[i + 1] = src[i + 2]!), (out[i + 2] = src[i + 1]!), (out[i + 3] = src[i]!);
  }
  const bitsStored = layout.bitsStored || layout.bitsAllocated;
  if (bitsStored < layout.bitsAllocated && bitsStored < 32) pixels = maskHighBits(pixels, bitsStored, signed, pixels.buffer === bytes.buffer);
  return { pixels };
}

/** Keeps the low `bitsStored` bits, sign-extended when signed (PS3.5 8.1.1: High Bit = Bits Stored - 1 assumed). */
function maskHighBits(pixels: PixelArray, bitsStored: number, signed: boolean, isView: boolean): PixelArray {
  const out = isView ? (pixels.slice() as PixelArray) : pixels;
  const mask = 2 ** bitsStored - 1;
  const shift = 32 - bitsStored;
  const n = out.length;
  if (signed) for (let i = 0; i < n; i++) out[i] = (out[i]! << shift) >> shift;
  else for (let i = 0; i < n; i++) out[i] = out[i]! & mask;
  return out;
}
