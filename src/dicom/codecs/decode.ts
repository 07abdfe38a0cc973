import { MedgeError } from '../../errors.js';
import { decodeError, encapsulatedFrameBytes, unsupportedError } from './frames.js';
import { openPixelSource, type PixelSource } from './instance.js';
import { markRgbWithoutTransform, probeJpeg, type JpegProbe } from './jpeg-markers.js';
import { decodeJpegDct, JpegDctError } from './jpeg-dct.js';
import { decodeJpegLossless } from './jpeg-lossless.js';
import { decodeNative } from './native.js';
import { decodeRle, RleError } from './rle.js';
import { normaliseStored, planarToInterleaved, copyCodecSamples } from './samples.js';
import { PIXEL_TS, type DecodedFrame, type PixelArray, type PixelInfo } from './types.js';
import { CodecFailure, decodeWithWasm } from './wasm-codecs.js';
import type { WasmCodecName } from './wasm-loader.js';

const NATIVE = new Set<string>([
  PIXEL_TS.ImplicitVRLittleEndian,
  PIXEL_TS.ExplicitVRLittleEndian,
  PIXEL_TS.DeflatedExplicitVRLittleEndian,
  PIXEL_TS.ExplicitVRBigEndian,
]);
/** JPEG (ITU-T T.81) syntaxes, current and retired: PS3.5 A.4.1, 1.2.840.10008.1.2.4.50 to .66 and .70. */
const JPEG_FAMILY = /^1\.2\.840\.10008\.1\.2\.4\.(5\d|6[0-6]|70)$/;
const J2K = new Set<string>([PIXEL_TS.Jpeg2000Lossless, PIXEL_TS.Jpeg2000, '1.2.840.10008.1.2.4.92', '1.2.840.10008.1.2.4.93']);
const HTJ2K = new Set<string>([PIXEL_TS.Htj2kLossless, PIXEL_TS.Htj2kLosslessRpcl, PIXEL_TS.Htj2k]);
const JPEG_LS = new Set<string>([PIXEL_TS.JpegLsLossless, PIXEL_TS.JpegLsNearLossless]);

/** Transfer syntaxes decodeFrameSync handles (others throw MEDGE_ERR_CODEC_UNSUPPORTED). */
export function isDecodableTransferSyntax(uid: string): boolean {
  return NATIVE.has(uid) || uid === PIXEL_TS.RleLossless || JPEG_FAMILY.test(uid) || J2K.has(uid) || HTJ2K.has(uid) || JPEG_LS.has(uid);
}

/** Whether frames of this syntax are worth a worker thread (everything but native). */
export function isCompressedTransferSyntax(uid: string): boolean {
  return !NATIVE.has(uid);
}

/**
 * Decodes one frame (0-based) of a PS3.10 file held in memory, synchronously. Native syntaxes return
 * views into `part10` (no copy) when aligned and in range; compressed ones a new array. WASM codecs
 * start on first use in each thread (see initCodecs). Every failure is a MedgeError naming the transfer
 * syntax and SOP instance: MEDGE_ERR_CODEC_UNSUPPORTED when no decoder applies, MEDGE_ERR_CODEC_DECODE
 * when the data is corrupt, MEDGE_ERR_INGEST_PARSE / _NOT_DICOM when the file cannot be parsed at all.
 */
export function decodeFrameSync(part10: Buffer, frame: number): DecodedFrame {
  const source = openPixelSource(part10);
  try {
    return decodeSourceFrame(source, frame);
  } catch (err) {
    if (err instanceof MedgeError) throw err;
    throw decodeError(source, frame, err instanceof Error ? err.message : String(err), err);
  }
}

function decodeSourceFrame(source: PixelSource, frame: number): DecodedFrame {
  const ts = source.info.transferSyntaxUid;
  if (NATIVE.has(ts)) {
    if (source.encapsulated) throw decodeError(source, frame, 'a native transfer syntax with encapsulated Pixel Data');
    return decodeNative(source, frame);
  }
  if (!isDecodableTransferSyntax(ts)) throw unsupportedError(source, `no decoder for transfer syntax ${ts}`);
  if (!source.encapsulated) throw decodeError(source, frame, 'a compressed transfer syntax needs encapsulated Pixel Data (PS3.5 A.4)');
  const data = encapsulatedFrameBytes(source, frame);
  if (ts === PIXEL_TS.RleLossless) return rle(source, frame, data);
  const probe = probeJpeg(data);
  if (J2K.has(ts) || HTJ2K.has(ts)) {
    // HTJ2K codestreams carry a CAP marker openjpeg may not know; OpenJPH decodes only HTJ2K blocks.
    return wasm(source, frame, data, HTJ2K.has(ts) ? 'openjph' : 'openjpeg');
  }
  if (!probe) throw decodeError(source, frame, 'the frame is not a JPEG codestream (no SOI/SOF marker)');
  if (probe.sof === 0xf7) return wasm(source, frame, data, 'charls');
  if (JPEG_LS.has(ts) && probe.sof !== 0xc3) throw decodeError(source, frame, `a JPEG-LS syntax holding a JPEG SOF 0x${probe.sof.toString(16)} codestream`);
  return jpeg(source, frame, data, probe);
}

function jpeg(source: PixelSource, frame: number, data: Uint8Array, probe: JpegProbe): DecodedFrame {
  const { sof, precision } = probe;
  if (sof === 0xc3 || sof === 0xc7) return jpegLossless(source, frame, data);
  if (sof >= 0xc9) throw unsupportedError(source, 'arithmetic-coded JPEG (T.81 SOF9 and up) is not decoded');
  if (sof === 0xc5 || sof === 0xc6) throw unsupportedError(source, 'hierarchical JPEG (T.81 SOF5/SOF6) is not decoded');
  if (precision === 8) return wasm(source, frame, markRgbWithoutTransform(data, source.info.photometricInterpretation), 'libjpeg-turbo-8bit');
  if (precision === 12) return dct(source, frame, data);
  throw decodeError(source, frame, `a DCT JPEG codestream of ${precision}-bit precision (T.81 allows 8 and 12)`);
}

function dct(source: PixelSource, frame: number, data: Uint8Array): DecodedFrame {
  try {
    const out = decodeJpegDct(data);
    return finish(source, frame, out.samples, out.width, out.height, out.components, out.precision, false, true, false);
  } catch (err) {
    if (err instanceof JpegDctError) throw decodeError(source, frame, `JPEG: ${err.message}`, err);
    throw err;
  }
}

function jpegLossless(source: PixelSource, frame: number, data: Uint8Array): DecodedFrame {
  try {
    const out = decodeJpegLossless(data);
    return finish(source, frame, out.samples, out.width, out.height, out.components, out.precision, false, true, false);
  } catch (err) {
    if (err instanceof JpegDctError) throw decodeError(source, frame, `JPEG lossless: ${err.message}`, err);
    throw err;
  }
}

function wasm(source: PixelSource, frame: number, data: Uint8Array, codec: WasmCodecName): DecodedFrame {
  let out;
  try {
    out = decodeWithWasm(codec, data);
  } catch (err) {
    if (err instanceof CodecFailure) throw decodeError(source, frame, err.message, err);
    throw err;
  }
  const fi = out.frameInfo;
  // libjpeg-turbo and openjpeg turn YCbCr / YBR_ICT / YBR_RCT into RGB themselves.
  const converts = fi.componentCount === 3 && (codec === 'libjpeg-turbo-8bit' || codec === 'openjpeg' || codec === 'openjph') && source.info.photometricInterpretation.startsWith('YBR');
  return finish(source, frame, out.bytes, fi.width, fi.height, fi.componentCount, fi.bitsPerSample, out.planar, true, converts);
}

function rle(source: PixelSource, frame: number, data: Uint8Array): DecodedFrame {
  const info = source.info;
  const pixels = info.rows * info.columns;
  let planar: Uint8Array | Uint16Array | Uint32Array;
  try {
    planar = decodeRle(data, pixels, info.samplesPerPixel, info.bitsAllocated);
  } catch (err) {
    if (err instanceof RleError) throw decodeError(source, frame, `RLE: ${err.message}`, err);
    throw err;
  }
  const bytes = new Uint8Array(planar.buffer, planar.byteOffset, planar.byteLength);
  return finish(source, frame, bytes, info.columns, info.rows, info.samplesPerPixel, info.bitsAllocated, info.samplesPerPixel > 1, true, false);
}

/**
 * Common tail of every codec: checks the codestream's geometry against the header, converts to the
 * DICOM sample type, reduces to stored values and interleaves colour.
 */
function finish(
  source: PixelSource,
  frame: number,
  bytes: Uint8Array,
  width: number,
  height: number,
  components: number,
  codecBits: number,
  planar: boolean,
  owned: boolean,
  toRgb: boolean,
): DecodedFrame {
  const info = source.info;
  if (width === 0 || height === 0 || components === 0) throw decodeError(source, frame, 'the codec found no image in the codestream (empty or damaged frame)');
  if (width !== info.columns || height !== info.rows || components !== info.samplesPerPixel) {
    throw decodeError(
      source,
      frame,
      `the codestream is ${width}x${height} with ${components} component(s), the header says ${info.columns}x${info.rows} with ${info.samplesPerPixel}`,
    );
  }
  const count = width * height * components;
  const signed = info.pixelRepresentation === 1;
  let pixels: PixelArray = owned && codecBits <= 8 === info.bitsAllocated <= 8 ? copyOrView(bytes, codecBits, info, count) : copyCodecSamples(bytes, codecBits, info.bitsAllocated, signed, count);
  pixels = normaliseStored(pixels, info.bitsStored, info.bitsStored - 1, signed, true);
  if (planar) pixels = planarToInterleaved(pixels, components, width * height);
  const outInfo: PixelInfo = { ...info, planarConfiguration: 0 };
  if (toRgb) outInfo.photometricInterpretation = 'RGB';
  return { info: outInfo, pixels };
}

function copyOrView(bytes: Uint8Array, codecBits: number, info: PixelInfo, count: number): PixelArray {
  return copyCodecSamples(bytes, codecBits, info.bitsAllocated, info.pixelRepresentation === 1, count);
}
