import { discardCodec, newWasmDecoder, WasmRuntimeError, type WasmCodecName, type WasmFrameInfo } from './wasm-loader.js';

/** What a WASM codec produced, already copied out of WASM memory. */
export interface CodecOutput {
  frameInfo: WasmFrameInfo;
  /** Decoded samples, little endian, `bitsPerSample <= 8 ? 1 : 2` bytes each (a private copy). */
  bytes: Uint8Array;
  /** Whether samples of several components come planar (JPEG-LS interleave mode 0). */
  planar: boolean;
}

/** Thrown for any failure inside a WASM codec; the caller turns it into MEDGE_ERR_CODEC_DECODE. */
export class CodecFailure extends Error {}

/**
 * Runs one decode with a WASM codec. Emscripten reports a C++ exception as a number (a pointer) or an
 * object, and an abort as a WebAssembly.RuntimeError: after a trap the instance is discarded, because
 * its heap may be inconsistent, and the next frame starts a fresh one.
 */
export function decodeWithWasm(codec: WasmCodecName, encoded: Uint8Array): CodecOutput {
  let decoder;
  try {
    decoder = newWasmDecoder(codec);
  } catch (err) {
    discardCodec(codec);
    throw new CodecFailure(`the ${codec} decoder cannot start: ${describeThrown(err)}`, { cause: err });
  }
  let trapped = false;
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    const frameInfo = { ...decoder.getFrameInfo() };
    const planar = codec === 'charls' && frameInfo.componentCount > 1 && decoder.getInterleaveMode?.() === 0;
    const decoded = decoder.getDecodedBuffer();
    const expected = frameInfo.width * frameInfo.height * frameInfo.componentCount * (frameInfo.bitsPerSample <= 8 ? 1 : 2);
    if (decoded.length < expected) throw new CodecFailure(`${codec} returned ${decoded.length} bytes, ${expected} expected`);
    return { frameInfo, bytes: decoded.slice(0, expected), planar };
  } catch (err) {
    if (err instanceof CodecFailure) throw err;
    trapped = err instanceof WasmRuntimeError || !(err instanceof Error);
    throw new CodecFailure(`${codec}: ${describeThrown(err)}`, { cause: err });
  } finally {
    try {
      decoder.delete();
    } catch {
      trapped = true;
    }
    if (trapped) discardCodec(codec);
  }
}

function describeThrown(err: unknown): string {
  if (err instanceof Error) return err.message;
  // Emscripten throws a C++ exception as a pointer into the WASM heap: the message is not reachable.
  if (typeof err === 'number') return 'the codec rejected the codestream (C++ exception)';
  if (typeof err === 'string') return err;
  return String(err);
}
