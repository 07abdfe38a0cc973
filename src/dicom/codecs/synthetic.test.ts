import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isMedgeError, type ErrorCode } from '../../errors.js';
import { decodeFrameSync, readPixelInfo } from './index.js';
import { rleEncode, syntheticPart10 } from './synthetic-part10.js';
import { wasmCodecModule } from './wasm-loader.js';

const ROWS = 64;
const COLS = 48;

/** A signed 16-bit test frame: a gradient with negative values and frame-dependent content. */
function frame16(k: number): Int16Array {
  const a = new Int16Array(ROWS * COLS);
  for (let i = 0; i < a.length; i++) a[i] = ((i * 37 + k * 1001) % 4000) - 2000;
  return a;
}

function throwsCode(fn: () => unknown, code: ErrorCode, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isMedgeError(err, code), `expected ${code}, got ${String(err)}`);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

interface HtEncoder {
  getDecodedBuffer(info: object): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
}

/** HTJ2K codestream (lossless, reversible) of a 16-bit signed frame, made with OpenJPH's encoder. */
function htj2k(pixels: Int16Array): Uint8Array {
  const Encoder = wasmCodecModule('openjph').HTJ2KEncoder as new () => HtEncoder;
  const enc = new Encoder();
  try {
    enc.getDecodedBuffer({ width: COLS, height: ROWS, bitsPerSample: 16, componentCount: 1, isSigned: true, isUsingColorTransform: false }).set(new Uint8Array(pixels.buffer));
    enc.encode();
    return enc.getEncodedBuffer().slice();
  } finally {
    enc.delete();
  }
}

const split = (b: Uint8Array, parts: number): Uint8Array[] => {
  // Fragments other than the last have even lengths (PS3.5 A.4: items are padded, not codestreams).
  const size = Math.ceil(b.length / parts / 2) * 2;
  return Array.from({ length: parts }, (_, i) => b.subarray(i * size, Math.min(b.length, (i + 1) * size))).filter((x) => x.length > 0);
};

test('HTJ2K (.201, .203): multi-frame, frames over several fragments, with and without a Basic Offset Table, bit-exact', () => {
  const originals = [0, 1, 2].map(frame16);
  const codestreams = originals.map(htj2k);
  for (const ts of ['1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.203']) {
    for (const [label, fragments, bot] of [
      ['one fragment per frame, no table', 1, false],
      ['three fragments per frame, table', 3, true],
      ['three fragments per frame, no table (split at SOC markers)', 3, false],
    ] as const) {
      const part10 = syntheticPart10({
        transferSyntaxUid: ts,
        rows: ROWS,
        columns: COLS,
        bitsAllocated: 16,
        pixelRepresentation: 1,
        numberOfFrames: 3,
        frames: codestreams.map((c) => split(c, fragments)),
        basicOffsetTable: bot,
      });
      for (let f = 0; f < 3; f++) {
        const got = decodeFrameSync(part10, f);
        assert.ok(got.pixels instanceof Int16Array, label);
        assert.deepEqual(got.pixels, originals[f], `${ts} ${label} frame ${f}`);
      }
    }
  }
});

test('RLE: 16-bit signed multi-frame, 8-bit planar RGB; corrupt segments are MEDGE_ERR_CODEC_DECODE', () => {
  const originals = [0, 1].map(frame16);
  const planes16 = (a: Int16Array): Uint8Array[] => {
    const u = new Uint16Array(a.buffer);
    return [Uint8Array.from(u, (v) => v >> 8), Uint8Array.from(u, (v) => v & 0xff)];
  };
  const part10 = syntheticPart10({
    transferSyntaxUid: '1.2.840.10008.1.2.5',
    rows: ROWS,
    columns: COLS,
    bitsAllocated: 16,
    pixelRepresentation: 1,
    numberOfFrames: 2,
    frames: originals.map((o) => [rleEncode(planes16(o))]),
  });
  assert.deepEqual(decodeFrameSync(part10, 1).pixels, originals[1]);
  // RGB: three byte planes (R, G, B) that come back interleaved.
  const n = ROWS * COLS;
  const r = Uint8Array.from({ length: n }, (_, i) => i & 0xff);
  const g = Uint8Array.from({ length: n }, (_, i) => (i >> 3) & 0xff);
  const b = Uint8Array.from({ length: n }, () => 7);
  const rgb = syntheticPart10({ transferSyntaxUid: '1.2.840.10008.1.2.5', rows: ROWS, columns: COLS, bitsAllocated: 8, samplesPerPixel: 3, planarConfiguration: 1, frames: [[rleEncode([r, g, b])]] });
  const got = decodeFrameSync(rgb, 0);
  assert.equal(got.info.planarConfiguration, 0);
  assert.deepEqual(Array.from(got.pixels.subarray(300, 303)), [r[100], g[100], b[100]]);
  // Corrupt: a segment count that does not match the pixel module, and a truncated segment.
  const bad = rleEncode(planes16(originals[0]!));
  const wrongCount = Uint8Array.from(bad);
  wrongCount[0] = 3;
  const truncated = bad.subarray(0, bad.length - 500);
  for (const [data, pattern] of [
    [wrongCount, /lists 3 segments, 2 are needed/],
    [truncated, /overruns|decodes to \d+ bytes/],
  ] as const) {
    const file = syntheticPart10({ transferSyntaxUid: '1.2.840.10008.1.2.5', rows: ROWS, columns: COLS, bitsAllocated: 16, pixelRepresentation: 1, frames: [[data]] });
    throwsCode(() => decodeFrameSync(file, 0), 'MEDGE_ERR_CODEC_DECODE', pattern);
  }
});

test('native: views without copy, big endian swapped, 12-bit signed sign-extended, planar colour, packed 1-bit', () => {
  const original = frame16(0);
  const le = syntheticPart10({ transferSyntaxUid: '1.2.840.10008.1.2.1', rows: ROWS, columns: COLS, bitsAllocated: 16, pixelRepresentation: 1, native: new Uint8Array(original.buffer) });
  const view = decodeFrameSync(le, 0);
  assert.deepEqual(view.pixels, original);
  if (view.pixels.byteOffset % 2 === 0) assert.equal(view.pixels.buffer, le.buffer, 'an aligned little endian frame is a view into the file');

  const be = Buffer.from(original.buffer.slice(0));
  be.swap16();
  assert.deepEqual(decodeFrameSync(syntheticPart10({ transferSyntaxUid: '1.2.840.10008.1.2.2', rows: ROWS, columns: COLS, bitsAllocated: 16, pixelRepresentation: 1, native: be }), 0).pixels, original);

  // 12 bits stored in 16, signed, with junk in the top 4 bits (PS3.5 8.1.1: not part of the value).
  const junk = Uint16Array.from(original, (v) => ((v & 0x0fff) | 0xa000) & 0xffff);
  const twelve = decodeFrameSync(syntheticPart10({ transferSyntaxUid: '1.2.840.10008.1.2.1', rows: ROWS, columns: COLS, bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 1, native: new Uint8Array(junk.buffer) }), 0);
  assert.deepEqual(twelve.pixels, Int16Array.from(original, (v) => (v << 20) >> 20));

  const n = 4;
  const planar = Uint8Array.from([1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24]);
  const colour = decodeFrameSync(syntheticPart10({ transferSyntaxUid: '1.2.840.10008.1.2.1', rows: 2, columns: 2, bitsAllocated: 8, samplesPerPixel: 3, planarConfiguration: 1, native: planar }), 0);
  assert.deepEqual(Array.from(colour.pixels), [1, 11, 21, 2, 12, 22, 3, 13, 23, 4, 14, 24]);
  assert.equal(colour.info.planarConfiguration, 0);
  assert.equal(n, 4);

  // 1-bit, 3x3 frames: frame 1 starts at bit 9, inside the second byte.
  const bits = [1, 0, 1, 1, 0, 0, 1, 1, 1, /* frame 1 */ 0, 1, 1, 0, 1, 0, 0, 0, 1];
  const packed = new Uint8Array(4);
  bits.forEach((bit, i) => (packed[i >> 3]! |= bit << (i & 7)));
  const mask = syntheticPart10({ transferSyntaxUid: '1.2.840.10008.1.2.1', rows: 3, columns: 3, bitsAllocated: 1, numberOfFrames: 2, native: packed });
  assert.deepEqual(Array.from(decodeFrameSync(mask, 1).pixels), bits.slice(9));
});

test('errors name the syntax and instance: no pixel data, unsupported syntax, truncated, frame out of range', () => {
  const base = { rows: ROWS, columns: COLS, bitsAllocated: 16 } as const;
  throwsCode(() => decodeFrameSync(syntheticPart10({ ...base, transferSyntaxUid: '1.2.840.10008.1.2.4.100', frames: [[new Uint8Array(16)]] }), 0), 'MEDGE_ERR_CODEC_UNSUPPORTED', /1\.2\.840\.10008\.1\.2\.4\.100.*no decoder|no decoder.*1\.2\.840\.10008\.1\.2\.4\.100/);
  const short = syntheticPart10({ ...base, transferSyntaxUid: '1.2.840.10008.1.2.1', native: new Uint8Array(100) });
  throwsCode(() => decodeFrameSync(short, 0), 'MEDGE_ERR_CODEC_DECODE', /instance 2\.25\.5678.*truncated/);
  const ok = syntheticPart10({ ...base, transferSyntaxUid: '1.2.840.10008.1.2.1', native: new Uint8Array(ROWS * COLS * 2) });
  throwsCode(() => decodeFrameSync(ok, 1), 'MEDGE_ERR_CODEC_DECODE', /frame 1 does not exist/);
  assert.equal(readPixelInfo(ok).numberOfFrames, 1);
  throwsCode(() => decodeFrameSync(Buffer.alloc(300, 0x20), 0), 'MEDGE_ERR_INGEST_NOT_DICOM');
  // Garbage where a JPEG 2000 codestream should be: the WASM codec fails, the error is a MedgeError.
  const garbage = syntheticPart10({ ...base, transferSyntaxUid: '1.2.840.10008.1.2.4.90', frames: [[Uint8Array.from({ length: 200 }, (_, i) => (i * 7919) & 0xff)]] });
  throwsCode(() => decodeFrameSync(garbage, 0), 'MEDGE_ERR_CODEC_DECODE', /1\.2\.840\.10008\.1\.2\.4\.90/);
  const badJpeg = syntheticPart10({ ...base, transferSyntaxUid: '1.2.840.10008.1.2.4.51', frames: [[Uint8Array.from([0xff, 0xd8, 0xff, 0xc1, 0, 11, 12, 0, 64, 0, 48, 1, 1, 0x11, 0, 0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0, 1, 2, 3])]] });
  throwsCode(() => decodeFrameSync(badJpeg, 0), 'MEDGE_ERR_CODEC_DECODE', /JPEG/);
});
