/**
 * Packs binary frames into 1-bit Pixel Data (PS3.5 8.1.1, Bits Allocated 1): pixels in row-major
 * order, the first pixel in the least significant bit of the first byte; frames follow each other
 * with no padding between them (a frame may begin inside a byte), and only the end of the whole
 * value is padded (the writer pads OB to even length).
 *
 * Each frame is `pixelsPerFrame` bytes of `source` from `start` (any non-zero byte is 1), in output
 * order; frames may come from different sources (one mask per segment).
 */
export function packBinaryFrames(frames: ReadonlyArray<{ source: Uint8Array; start: number }>, pixelsPerFrame: number): Uint8Array {
  const totalBits = frames.length * pixelsPerFrame;
  const out = new Uint8Array(Math.ceil(totalBits / 8));
  let bit = 0;
  for (const { source, start } of frames) {
    if (start < 0 || start + pixelsPerFrame > source.length) throw new RangeError(`frame at ${start} runs past the source (${source.length})`);
    let i = 0;
    // Up to a byte boundary one pixel at a time, then eight pixels per byte.
    for (; i < pixelsPerFrame && (bit & 7) !== 0; i++, bit++) if (source[start + i] !== 0) out[bit >> 3]! |= 1 << (bit & 7);
    let byte = bit >> 3;
    // Masks are mostly empty: where the frame is 4-byte aligned, eight zero pixels are two word tests.
    const words = (source.byteOffset + start + i) % 4 === 0 ? new Uint32Array(source.buffer, source.byteOffset + start + i, (pixelsPerFrame - i) >> 2) : null;
    for (let w = 0; i + 8 <= pixelsPerFrame; i += 8, bit += 8, byte++, w += 2) {
      if (words && words[w] === 0 && words[w + 1] === 0) continue;
      const p = start + i;
      out[byte] =
        (source[p] !== 0 ? 1 : 0) | (source[p + 1] !== 0 ? 2 : 0) | (source[p + 2] !== 0 ? 4 : 0) | (source[p + 3] !== 0 ? 8 : 0) |
        (source[p + 4] !== 0 ? 16 : 0) | (source[p + 5] !== 0 ? 32 : 0) | (source[p + 6] !== 0 ? 64 : 0) | (source[p + 7] !== 0 ? 128 : 0);
    }
    for (; i < pixelsPerFrame; i++, bit++) if (source[start + i] !== 0) out[bit >> 3]! |= 1 << (bit & 7);
  }
  return out;
}

/** The inverse, for tests and readers: frame `f` of packed data as 0/1 bytes. */
export function unpackBinaryFrame(packed: Uint8Array, f: number, pixelsPerFrame: number): Uint8Array {
  const out = new Uint8Array(pixelsPerFrame);
  const first = f * pixelsPerFrame;
  for (let i = 0; i < pixelsPerFrame; i++) {
    const bit = first + i;
    out[i] = (packed[bit >> 3]! >> (bit & 7)) & 1;
  }
  return out;
}
