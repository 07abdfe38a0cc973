import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Lossless JPEG-LS encoding (ISO 14495-1, DICOM 1.2.840.10008.1.2.4.80) with the full CharLS build
 * of @cornerstonejs/codec-charls (its `wasmjs` export: the `decodewasmjs` one the decoders use has
 * no encoder). Loaded synchronously from node_modules like src/dicom/codecs/wasm-loader.ts does,
 * once per thread, on first use (about 30 ms).
 */

const require = createRequire(import.meta.url);

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
}
interface CharlsEncoder {
  getDecodedBuffer(info: FrameInfo & { isSigned: boolean }): Uint8Array;
  setNearLossless(near: number): void;
  setInterleaveMode(mode: number): void;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
}
interface CharlsDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): FrameInfo;
  delete(): void;
}
interface CharlsModule {
  JpegLSEncoder: new () => CharlsEncoder;
  JpegLSDecoder: new () => CharlsDecoder;
}

let charls: CharlsModule | undefined;

function load(): CharlsModule {
  if (charls) return charls;
  const factory = require('@cornerstonejs/codec-charls/wasmjs') as (arg: Record<string, unknown>) => Promise<unknown>;
  const compiled = new WA.Module(readFileSync(require.resolve('@cornerstonejs/codec-charls/wasm')));
  const arg: Record<string, unknown> = {
    instantiateWasm(imports: object, receive: (i: { exports: object }, m: object) => void) {
      const instance = new WA.Instance(compiled, imports);
      receive(instance, compiled);
      return instance.exports;
    },
    print: () => {},
    printErr: () => {},
  };
  // The runtime finishes starting inside the factory call when the instance is given synchronously.
  factory(arg).catch(() => {});
  if (typeof arg.JpegLSEncoder !== 'function' || typeof arg.JpegLSDecoder !== 'function') throw new Error('the CharLS encoder module did not start');
  charls = arg as unknown as CharlsModule;
  return charls;
}

/** One frame to encode: samples interleaved (R G B R G B ...) when componentCount is 3. */
export interface JpegLsFrame {
  width: number;
  height: number;
  /** 2 to 16: the precision P of ISO 14495-1 (Bits Stored). */
  bitsPerSample: number;
  componentCount: 1 | 3;
  /** Little endian samples, 1 byte each when bitsPerSample <= 8, else 2. */
  samples: Uint8Array;
}

/** JPEG-LS interleave modes (ISO 14495-1 B.2.1): 2 = sample interleaved (ILV=2). */
const ILV_NONE = 0;
const ILV_SAMPLE = 2;

/**
 * Encodes one frame losslessly (NEAR = 0) and checks the round trip with CharLS's decoder, so that
 * a codec fault can never alter what leaves the node: throws when the decoded samples differ.
 * Returns a private copy of the codestream (SOI ... EOI).
 */
export function encodeJpegLsLossless(frame: JpegLsFrame): Uint8Array {
  const m = load();
  const bytes = frame.bitsPerSample <= 8 ? 1 : 2;
  const expected = frame.width * frame.height * frame.componentCount * bytes;
  if (frame.samples.length !== expected) throw new RangeError(`JPEG-LS frame: ${frame.samples.length} bytes of samples, ${expected} expected`);
  const encoder = new m.JpegLSEncoder();
  let encoded: Uint8Array;
  try {
    const info = { width: frame.width, height: frame.height, bitsPerSample: frame.bitsPerSample, componentCount: frame.componentCount, isSigned: false };
    encoder.getDecodedBuffer(info).set(frame.samples);
    encoder.setNearLossless(0);
    encoder.setInterleaveMode(frame.componentCount === 3 ? ILV_SAMPLE : ILV_NONE);
    encoder.encode();
    encoded = encoder.getEncodedBuffer().slice();
  } finally {
    encoder.delete();
  }
  const decoder = new m.JpegLSDecoder();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    const decoded = decoder.getDecodedBuffer();
    if (decoded.length < expected || Buffer.compare(Buffer.from(decoded.buffer, decoded.byteOffset, expected), Buffer.from(frame.samples.buffer, frame.samples.byteOffset, expected)) !== 0) {
      throw new Error('JPEG-LS round trip differs from the source samples');
    }
  } finally {
    decoder.delete();
  }
  return encoded;
}
