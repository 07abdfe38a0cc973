import { test } from 'node:test';
import assert from 'node:assert/strict';
import { el, tag, writePart10, type DataElement } from './dataset-writer.js';
import { readFileMeta } from './part10.js';
import { generateUid, TS } from './uids.js';
import { decodeFrameSync } from './codecs/index.js';
import { compressForSend, JPEG_LS_LOSSLESS } from './transcode.js';
import { deflatePart10, inflatePart10 } from './deflate-part10.js';
import { encapsulateFrames } from './encapsulate.js';
import { readRawDataset } from './deid/raw-dataset.js';

const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
const SEGMENTATION = '1.2.840.10008.5.1.4.1.1.66.4';

/** A small secondary capture: grey noise with a coloured box, like the key image (docs/results.md). */
function image(o: { rows: number; columns: number; samples: 1 | 3; bits: 8 | 16; stored?: number; planar?: 0 | 1; frames?: number; fill?: (i: number) => number }): { part10: Buffer; pixels: Buffer } {
  const bytes = o.bits / 8;
  const frames = o.frames ?? 1;
  const n = o.rows * o.columns * o.samples * frames;
  const pixels = Buffer.alloc(n * bytes);
  let seed = 7;
  let grey = 0;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let i = 0; i < n; i++) {
    // Grey (R = G = B) with a little noise and a bright band, like the windowed slice of a key image.
    const px = Math.floor(i / o.samples);
    if (i % o.samples === 0) grey = px % o.columns < 6 ? 230 : 60 + ((px % o.columns) >> 2) + (rand() & 3);
    const v = o.fill ? o.fill(i) : grey;
    if (bytes === 1) pixels[i] = v & 0xff;
    else pixels.writeUInt16LE(v & 0xffff, 2 * i);
  }
  const sop = generateUid();
  const elements: DataElement[] = [
    el(tag(0x0008, 0x0016), 'UI', SECONDARY_CAPTURE),
    el(tag(0x0008, 0x0018), 'UI', sop),
    el(tag(0x0008, 0x0060), 'CS', 'OT'),
    el(tag(0x0020, 0x000d), 'UI', generateUid()),
    el(tag(0x0028, 0x0002), 'US', o.samples),
    el(tag(0x0028, 0x0004), 'CS', o.samples === 3 ? 'RGB' : 'MONOCHROME2'),
    ...(o.samples === 3 ? [el(tag(0x0028, 0x0006), 'US', o.planar ?? 0)] : []),
    ...(frames > 1 ? [el(tag(0x0028, 0x0008), 'IS', frames)] : []),
    el(tag(0x0028, 0x0010), 'US', o.rows),
    el(tag(0x0028, 0x0011), 'US', o.columns),
    el(tag(0x0028, 0x0100), 'US', o.bits),
    el(tag(0x0028, 0x0101), 'US', o.stored ?? o.bits),
    el(tag(0x0028, 0x0102), 'US', (o.stored ?? o.bits) - 1),
    el(tag(0x0028, 0x0103), 'US', 0),
    el(tag(0x7fe0, 0x0010), o.bits === 8 ? 'OB' : 'OW', pixels),
  ];
  return { part10: writePart10({ mediaStorageSopClassUid: SECONDARY_CAPTURE, mediaStorageSopInstanceUid: sop, transferSyntaxUid: TS.ExplicitVRLittleEndian }, elements), pixels };
}

/** Decodes every frame with the node's own decoders (the decode-only CharLS build) and joins them, interleaved. */
function decodeAll(part10: Buffer, frames: number): Buffer {
  const out: Buffer[] = [];
  for (let f = 0; f < frames; f++) {
    const { pixels } = decodeFrameSync(part10, f);
    out.push(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength));
  }
  return Buffer.concat(out);
}

test('an RGB key image goes out as JPEG-LS lossless: smaller, decoded back to the same samples, Planar Configuration 0', () => {
  const { part10, pixels } = image({ rows: 64, columns: 48, samples: 3, bits: 8 });
  const out = compressForSend(part10)!;
  assert.equal(out.transferSyntaxUid, JPEG_LS_LOSSLESS);
  assert.equal(readFileMeta(out.part10)!.transferSyntaxUid, JPEG_LS_LOSSLESS);
  assert.ok(out.part10.length < part10.length / 2, `${out.part10.length} bytes from ${part10.length}`);
  assert.deepEqual(decodeAll(out.part10, 1), pixels);
});

test('planar RGB (Planar Configuration 1) is interleaved for JPEG-LS and decodes to the same pixels', () => {
  const { part10, pixels } = image({ rows: 16, columns: 20, samples: 3, bits: 8, planar: 1 });
  const out = compressForSend(part10)!;
  assert.equal(out.transferSyntaxUid, JPEG_LS_LOSSLESS);
  const n = 16 * 20;
  const interleaved = Buffer.alloc(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) interleaved[3 * i + c] = pixels[c * n + i]!;
  assert.deepEqual(decodeAll(out.part10, 1), interleaved);
  const meta = readFileMeta(out.part10)!;
  const planar = readRawDataset(out.part10, true, () => undefined, meta.datasetOffset).find((e) => e.tag === tag(0x0028, 0x0006));
  assert.equal(planar?.value?.readUInt16LE(0), 0);
});

test('multi-frame 12-bit grey: one fragment per frame with a Basic Offset Table, every frame lossless', () => {
  const { part10, pixels } = image({ rows: 10, columns: 12, samples: 1, bits: 16, stored: 12, frames: 3, fill: (i) => (i * 37) % 4096 });
  const out = compressForSend(part10)!;
  assert.equal(out.transferSyntaxUid, JPEG_LS_LOSSLESS);
  assert.deepEqual(decodeAll(out.part10, 3), pixels);
});

test('values above Bits Stored cannot be kept by JPEG-LS of that precision: deflated instead, byte for byte', () => {
  const { part10 } = image({ rows: 8, columns: 8, samples: 1, bits: 16, stored: 12, fill: () => 0xf000 });
  const out = compressForSend(part10)!;
  assert.equal(out.transferSyntaxUid, TS.DeflatedExplicitVRLittleEndian);
  assert.deepEqual(inflatePart10(out.part10), part10);
});

test('an SR or a 1-bit SEG is deflated (PS3.5 A.5): even length, inflates to the same file', () => {
  const sop = generateUid();
  const frames = Buffer.alloc(4096, 0);
  frames.fill(0xff, 1000, 1100);
  const seg = writePart10({ mediaStorageSopClassUid: SEGMENTATION, mediaStorageSopInstanceUid: sop, transferSyntaxUid: TS.ExplicitVRLittleEndian }, [
    el(tag(0x0008, 0x0016), 'UI', SEGMENTATION),
    el(tag(0x0008, 0x0018), 'UI', sop),
    el(tag(0x0028, 0x0002), 'US', 1),
    el(tag(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    el(tag(0x0028, 0x0008), 'IS', 4),
    el(tag(0x0028, 0x0010), 'US', 64),
    el(tag(0x0028, 0x0011), 'US', 128),
    el(tag(0x0028, 0x0100), 'US', 1),
    el(tag(0x0028, 0x0101), 'US', 1),
    el(tag(0x0028, 0x0102), 'US', 0),
    el(tag(0x0028, 0x0103), 'US', 0),
    el(tag(0x7fe0, 0x0010), 'OB', frames),
  ]);
  const out = compressForSend(seg)!;
  assert.equal(out.transferSyntaxUid, TS.DeflatedExplicitVRLittleEndian);
  assert.equal(out.part10.length % 2, 0);
  assert.ok(out.part10.length < seg.length / 4);
  assert.deepEqual(inflatePart10(out.part10), seg);
  assert.equal(readFileMeta(out.part10)!.mediaStorageSopInstanceUid, sop);
});

test('a file already compressed or in Implicit VR is left as it is', () => {
  const { part10 } = image({ rows: 8, columns: 8, samples: 1, bits: 8 });
  assert.equal(compressForSend(deflatePart10(part10)), null);
});

test('encapsulateFrames: Basic Offset Table of item offsets, odd fragments padded, sequence delimiter (PS3.5 A.4)', () => {
  const v = encapsulateFrames([Uint8Array.from([1, 2, 3]), Uint8Array.from([4, 5])]);
  const hexOf = (b: Buffer) => b.toString('hex');
  assert.equal(hexOf(v.subarray(0, 8)), 'feff00e008000000');
  assert.equal(v.readUInt32LE(8), 0);
  assert.equal(v.readUInt32LE(12), 8 + 4);
  assert.equal(hexOf(v.subarray(16, 28)), 'feff00e004000000' + '01020300');
  assert.equal(hexOf(v.subarray(28, 38)), 'feff00e002000000' + '0405');
  assert.equal(hexOf(v.subarray(38)), 'feffdde000000000');
});
