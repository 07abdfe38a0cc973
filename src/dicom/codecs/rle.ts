/**
 * RLE Lossless (PS3.5 Annex G). A frame is a 64-byte header (number of segments, then 15 segment
 * offsets, all 32-bit little endian) and up to 15 segments. Each segment is one byte plane, PackBits
 * coded (G.3.1): for each sample in order, the most significant byte plane first. Returns the planes
 * decoded and recombined as planar samples (sample 0 for every pixel, then sample 1, ...), so that
 * the caller interleaves colour.
 */
export function decodeRle(data: Uint8Array, pixels: number, samplesPerPixel: number, bitsAllocated: number): Uint8Array | Uint16Array | Uint32Array {
  const HEADER_BYTES = 64;
  const bytesPerSample = bitsAllocated / 8;
  if (!Number.isInteger(bytesPerSample) || bytesPerSample < 1 || bytesPerSample > 4) {
    throw new RleError(`RLE of ${bitsAllocated}-bit samples is not defined (PS3.5 G.2 needs 8, 16 or 32 bits)`);
  }
  if (data.length < HEADER_BYTES) throw new RleError(`the RLE header needs 64 bytes, the frame has ${data.length}`);
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  const segments = view.getUint32(0, true);
  const expected = samplesPerPixel * bytesPerSample;
  if (segments !== expected) throw new RleError(`the RLE header lists ${segments} segments, ${expected} are needed`);
  const offsets: number[] = [];
  for (let i = 0; i < segments; i++) offsets.push(view.getUint32(4 + i * 4, true));
  const out = bytesPerSample === 1 ? new Uint8Array(pixels * samplesPerPixel) : bytesPerSample === 2 ? new Uint16Array(pixels * samplesPerPixel) : new Uint32Array(pixels * samplesPerPixel);
  const plane = new Uint8Array(pixels);
  for (let seg = 0; seg < segments; seg++) {
    const start = offsets[seg]!;
    const end = seg + 1 < segments ? offsets[seg + 1]! : data.length;
    if (start < HEADER_BYTES || end > data.length || end < start) throw new RleError(`segment ${seg + 1} has an invalid offset ${start}`);
    unpackBits(data, start, end, plane, seg + 1);
    const sample = Math.floor(seg / bytesPerSample);
    const shift = 8 * (bytesPerSample - 1 - (seg % bytesPerSample));
    const base = sample * pixels;
    if (bytesPerSample === 1) (out as Uint8Array).set(plane, base);
    else if (shift === 0) for (let p = 0; p < pixels; p++) out[base + p] = (out[base + p]! | plane[p]!) >>> 0;
    else for (let p = 0; p < pixels; p++) out[base + p] = (out[base + p]! | (plane[p]! << shift)) >>> 0;
  }
  return out;
}

/** PackBits (G.3.1): n in 0..127 copies n+1 literal bytes, -127..-1 repeats the next byte 1-n times, -128 is a no-op. */
function unpackBits(src: Uint8Array, start: number, end: number, dst: Uint8Array, segment: number): void {
  let i = start;
  let o = 0;
  const n = dst.length;
  while (o < n && i < end) {
    const h = src[i++]!;
    if (h < 128) {
      const count = h + 1;
      if (i + count > end || o + count > n) throw new RleError(`segment ${segment} overruns its literal run`);
      dst.set(src.subarray(i, i + count), o);
      i += count;
      o += count;
    } else if (h > 128) {
      const count = 257 - h;
      if (i >= end || o + count > n) throw new RleError(`segment ${segment} overruns its replicate run`);
      dst.fill(src[i++]!, o, o + count);
      o += count;
    }
  }
  if (o < n) throw new RleError(`segment ${segment} decodes to ${o} bytes, the frame needs ${n}`);
}

export class RleError extends Error {}
