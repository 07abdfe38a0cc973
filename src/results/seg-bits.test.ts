import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packBinaryFrames, unpackBinaryFrame } from './seg-bits.js';

test('the first pixel is the least significant bit of the first byte (PS3.5 8.1.1)', () => {
  const frame = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1]);
  assert.deepEqual([...packBinaryFrames([{ source: frame, start: 0 }], 16)], [0b0000_0001, 0b1000_0110]);
});

test('frames of 9 pixels follow each other with no padding; only the end is padded', () => {
  const a = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1]);
  const b = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1]);
  const packed = packBinaryFrames([{ source: a, start: 0 }, { source: b, start: 0 }], 9);
  assert.equal(packed.length, 3); // 18 bits
  assert.deepEqual([...packed], [0xff, 0b0000_0001, 0b0000_0010]);
  assert.deepEqual([...unpackBinaryFrame(packed, 1, 9)], [...b]);
});

test('any non-zero byte is a 1; frames start where told, from several sources', () => {
  const source = Uint8Array.from([0, 0, 7, 0, 255, 0, 0, 0, 0, 0, 3, 0]);
  const packed = packBinaryFrames([{ source, start: 2 }, { source, start: 8 }], 3);
  assert.deepEqual([...unpackBinaryFrame(packed, 0, 3)], [1, 0, 1]);
  assert.deepEqual([...unpackBinaryFrame(packed, 1, 3)], [0, 0, 1]);
});

test('random masks round-trip whatever the alignment (word fast path and byte path agree)', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) / 65536;
  for (const [size, offset] of [[64, 0], [64, 1], [35, 0], [35, 3], [4096, 0]] as const) {
    const buf = new Uint8Array(offset + size * 5);
    for (let i = 0; i < buf.length; i++) buf[i] = rand() < (i % 200 < 100 ? 0.02 : 0.6) ? 1 : 0;
    const source = buf.subarray(offset);
    const starts = [0, 2 * size, size, 4 * size];
    const packed = packBinaryFrames(starts.map((start) => ({ source, start })), size);
    starts.forEach((start, f) => assert.deepEqual([...unpackBinaryFrame(packed, f, size)], [...source.subarray(start, start + size)], `size ${size} offset ${offset} frame ${f}`));
  }
});

test('a frame past the end of its source is refused', () => {
  assert.throws(() => packBinaryFrames([{ source: new Uint8Array(10), start: 5 }], 8), RangeError);
});
