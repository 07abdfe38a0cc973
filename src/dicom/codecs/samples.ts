import type { PixelArray } from './types.js';

/**
 * Sample layout helpers shared by the native path and the codecs: typed arrays of the right width and
 * sign, stored-value normalisation (PS3.5 8.1.1 and 8.2) and planar-to-interleaved conversion.
 */

export type SampleArrayCtor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Uint32ArrayConstructor
  | Int32ArrayConstructor;

/** The array type that holds stored values of this width: 1-bit and 8-bit samples in bytes. */
export function arrayTypeFor(bitsAllocated: number, signed: boolean): SampleArrayCtor {
  if (bitsAllocated <= 8) return signed ? Int8Array : Uint8Array;
  if (bitsAllocated <= 16) return signed ? Int16Array : Uint16Array;
  return signed ? Int32Array : Uint32Array;
}

/**
 * Typed array over little- or big-endian sample bytes: a view when the bytes are little endian and
 * aligned (no copy), else a copy (byte-swapped for big endian, PS3.5 7.3).
 */
export function samplesFromBytes(bytes: Uint8Array, bitsAllocated: number, signed: boolean, littleEndian: boolean): PixelArray {
  const Ctor = arrayTypeFor(bitsAllocated, signed);
  const size = Ctor.BYTES_PER_ELEMENT;
  const count = Math.floor(bytes.length / size);
  const buffer = bytes.buffer as ArrayBuffer;
  if (size === 1) return new Ctor(buffer, bytes.byteOffset, count);
  if (littleEndian && bytes.byteOffset % size === 0) return new Ctor(buffer, bytes.byteOffset, count);
  const out = new Ctor(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * size);
  if (size === 2) {
    for (let i = 0; i < count; i++) out[i] = signed ? view.getInt16(i * 2, littleEndian) : view.getUint16(i * 2, littleEndian);
  } else {
    for (let i = 0; i < count; i++) out[i] = signed ? view.getInt32(i * 4, littleEndian) : view.getUint32(i * 4, littleEndian);
  }
  return out;
}

/**
 * Reduces every sample to its stored value: the bits highBit-bitsStored+1 .. highBit, sign-extended
 * when pixelRepresentation is 1 (PS3.5 8.1.1: other bits, such as old overlay planes or a codec's
 * unsigned view of signed samples, are not part of the value). Returns `arr` itself when nothing
 * changes; otherwise changes `arr` in place when `owned`, else returns a changed copy, so that views
 * into a caller's file are never written.
 */
export function normaliseStored(arr: PixelArray, bitsStored: number, highBit: number, signed: boolean, owned: boolean): PixelArray {
  const bits = arr.BYTES_PER_ELEMENT * 8;
  const shift = Math.max(0, highBit + 1 - bitsStored);
  if (bitsStored >= bits && shift === 0) return arr;
  const width = Math.min(bitsStored, 31);
  const mask = width >= 31 ? 0x7fffffff : (1 << width) - 1;
  const signBit = 2 ** (width - 1);
  const range = 2 ** width;
  const fix = (v: number): number => {
    let s = (v >>> shift) & mask;
    if (signed && s >= signBit) s -= range;
    return s;
  };
  let i = 0;
  const n = arr.length;
  for (; i < n; i++) if (fix(arr[i]!) !== arr[i]) break;
  if (i === n) return arr;
  const out = owned ? arr : arr.slice();
  for (; i < n; i++) out[i] = fix(out[i]!);
  return out;
}

/** Planar (all of sample 0, then sample 1, ...) to interleaved (PS3.3 C.7.6.3.1.3). */
export function planarToInterleaved<T extends PixelArray>(planar: T, samplesPerPixel: number, pixels: number): T {
  const Ctor = planar.constructor as new (n: number) => T;
  const out = new Ctor(pixels * samplesPerPixel);
  for (let s = 0; s < samplesPerPixel; s++) {
    const base = s * pixels;
    for (let p = 0; p < pixels; p++) out[p * samplesPerPixel + s] = planar[base + p]!;
  }
  return out;
}

/**
 * Copies a codec's output (little-endian samples of `codecBits` precision in WASM memory, which the
 * next decode overwrites) into a new array of the DICOM width and sign.
 */
export function copyCodecSamples(decoded: Uint8Array, codecBits: number, bitsAllocated: number, signed: boolean, count: number): PixelArray {
  const Ctor = arrayTypeFor(bitsAllocated, signed);
  const out = new Ctor(count);
  const inBytes = codecBits <= 8 ? 1 : codecBits <= 16 ? 2 : 4;
  if (inBytes === Ctor.BYTES_PER_ELEMENT) {
    new Uint8Array(out.buffer).set(decoded.subarray(0, count * inBytes));
    return out;
  }
  const view = new DataView(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  for (let i = 0; i < count; i++) {
    out[i] = inBytes === 1 ? view.getUint8(i) : inBytes === 2 ? view.getUint16(i * 2, true) : view.getUint32(i * 4, true);
  }
  return out;
}
