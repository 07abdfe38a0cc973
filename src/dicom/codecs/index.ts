/**
 * Pixel decoding for every transfer syntax medge stores (PS3.5 Annex A, 8.2). decodeFrameSync works
 * without initialisation: the WASM codecs start synchronously on first use in each thread, and
 * initCodecs() only moves that start-up cost (20-35 ms per codec) forward.
 */
export type { DecodedFrame, PixelArray, PixelInfo } from './types.js';
export { PIXEL_TS } from './types.js';
export { decodeFrameSync, isCompressedTransferSyntax, isDecodableTransferSyntax } from './decode.js';
export { readPixelInfo } from './instance.js';
export { initCodecs } from './wasm-loader.js';
export { createDecoderPool, type DecoderPool, type DecoderPoolOptions } from './pool.js';
