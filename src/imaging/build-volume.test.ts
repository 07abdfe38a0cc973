import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateUid, TS } from '../dicom/uids.js';
import { buildVolume } from './build-volume.js';
import { OUTSIDE_HU } from './rescale.js';
import { syntheticSeries, syntheticSlice } from './synthetic-slices.js';
import { voxelToPatient } from './volume.js';

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test('slices are ordered along the normal, not by input order or Instance Number', async () => {
  const { instances } = syntheticSeries({ slices: 10 });
  const a = await buildVolume(instances);
  const b = await buildVolume(shuffle(instances, 7));
  assert.deepEqual(a.dims, [8, 8, 10]);
  assert.deepEqual(a.sliceLocations, [0, 5, 10, 15, 20, 25, 30, 35, 40, 45]);
  assert.deepEqual(b.sliceLocations, a.sliceLocations);
  assert.deepEqual(b.sources, a.sources);
  assert.deepEqual(Buffer.from(b.data.buffer), Buffer.from(a.data.buffer));
  for (let k = 0; k < 10; k++) assert.equal(a.data[k * 64], k);
  assert.equal(a.tiltDegrees, 0);
  assert.deepEqual(a.gaps, []);
  assert.deepEqual(a.sliceSpan, new Array(10).fill(5));
});

test('Instance Numbers against the geometry do not change the order', async () => {
  const studyUid = generateUid();
  const seriesUid = generateUid();
  const instances = [2, 0, 1].map((k) => ({
    part10: syntheticSlice({ studyUid, seriesUid, instanceNumber: k + 1 === 1 ? 3 : k, position: [0, 0, -k * 2], rows: 2, columns: 2, frames: [new Int16Array(4).fill(k)] }),
  }));
  const v = await buildVolume(instances);
  assert.deepEqual(v.sliceLocations.map((x) => x + 0), [-4, -2, 0]);
  assert.deepEqual([v.data[0], v.data[4], v.data[8]], [2, 1, 0]);
});

test('a missing slice is one gap, and its neighbours do not claim the missing tissue', async () => {
  const { instances } = syntheticSeries({ slices: 10, skip: [4] });
  const v = await buildVolume(shuffle(instances, 3));
  assert.equal(v.dims[2], 9);
  assert.deepEqual(v.gaps, [{ afterSlice: 3, distanceMm: 10, expectedMm: 5 }]);
  assert.deepEqual(v.sliceSpan, [5, 5, 5, 5, 5, 5, 5, 5, 5]);
});

test('a duplicate location keeps the first by Instance Number and reports the other', async () => {
  const { instances, studyUid, seriesUid } = syntheticSeries({ slices: 4 });
  const dupUid = generateUid();
  const dup = syntheticSlice({ studyUid, seriesUid, sopInstanceUid: dupUid, instanceNumber: 99, position: [-10, -10, 10], rows: 8, columns: 8, frames: [new Int16Array(64).fill(500)] });
  const v = await buildVolume(shuffle([...instances, { part10: dup }], 11));
  assert.equal(v.dims[2], 4);
  assert.equal(v.data[2 * 64], 2);
  assert.equal(v.excluded.length, 1);
  assert.equal(v.excluded[0]!.sopInstanceUid, dupUid);
  assert.match(v.excluded[0]!.reason, /duplicate position/);
});

test('localizers, other orientations, other sizes, non-images and unreadable files are left out with reasons', async () => {
  const { instances, studyUid, seriesUid } = syntheticSeries({ slices: 6 });
  const localizer = syntheticSlice({ studyUid, seriesUid, imageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'], position: [0, 0, 0], orientation: [1, 0, 0, 0, 0, -1], rows: 8, columns: 8, frames: [new Int16Array(64)] });
  const scoutNoFlag = syntheticSlice({ studyUid, seriesUid, position: [0, 0, 0], orientation: [0, 1, 0, 0, 0, -1], rows: 8, columns: 8, frames: [new Int16Array(64)] });
  const summary = syntheticSlice({ studyUid, seriesUid, imageType: ['DERIVED', 'SECONDARY', 'AXIAL'], position: [0, 0, 2.5], rows: 4, columns: 4, frames: [new Int16Array(16)] });
  const otherSpacing = syntheticSlice({ studyUid, seriesUid, position: [0, 0, 7.5], rows: 8, columns: 8, pixelSpacing: [0.7, 0.7], frames: [new Int16Array(64)] });
  const notDicom = Buffer.from('not a DICOM file at all, just text that is long enough to pass the preamble check '.repeat(3));
  const v = await buildVolume([...instances, { part10: localizer }, { part10: scoutNoFlag }, { part10: summary }, { part10: otherSpacing }, { sopInstanceUid: 'x', part10: notDicom }]);
  assert.equal(v.dims[2], 6);
  const reasons = v.excluded.map((e) => e.reason).sort();
  assert.equal(reasons.length, 5);
  assert.ok(reasons.some((r) => /^localizer/.test(r)));
  assert.ok(reasons.some((r) => /orientation differs/.test(r)));
  assert.ok(reasons.some((r) => /summary or derived image: Rows\/Columns 4x4/.test(r)));
  assert.ok(reasons.some((r) => /Pixel Spacing 0.7\\0.7 differs/.test(r)));
  assert.ok(reasons.some((r) => /not a readable DICOM/.test(r)));
});

test('rescale: intercept -1024 on unsigned storage, a fractional slope, and clamping to Int16', async () => {
  const studyUid = generateUid();
  const seriesUid = generateUid();
  const unsigned = syntheticSlice({ studyUid, seriesUid, position: [0, 0, 0], rows: 2, columns: 2, intercept: -1024, frames: [Uint16Array.from([0, 1024, 1064, 65535])] });
  const v = await buildVolume([{ part10: unsigned }]);
  assert.deepEqual([...v.data], [-1024, 0, 40, 32767]);
  assert.equal(v.hounsfield, true);
  const fractional = syntheticSlice({ studyUid, seriesUid, position: [0, 0, 0], rows: 2, columns: 2, slope: 0.5, intercept: -10, frames: [Int16Array.from([0, 3, -3, 100])] });
  const f = await buildVolume([{ part10: fractional }]);
  assert.deepEqual([...f.data], [-10, -8, -11, 40]); // Math.round: -11.5 to -11
});

test('Implicit VR Little Endian gives the same volume as Explicit', async () => {
  const value = (k: number, i: number) => k * 100 + i - 30;
  const a = await buildVolume(syntheticSeries({ slices: 3, value }).instances);
  const b = await buildVolume(syntheticSeries({ slices: 3, value, transferSyntaxUid: TS.ImplicitVRLittleEndian }).instances);
  assert.deepEqual([...b.data], [...a.data]);
});

test('Pixel Padding Value and Range Limit, and an out-of-field constant without padding attributes', async () => {
  const studyUid = generateUid();
  const seriesUid = generateUid();
  // Padding range [-2000, -1900] stored, intercept 0: both ends and inside masked, -1899 kept.
  const padded = syntheticSlice({ studyUid, seriesUid, position: [0, 0, 0], rows: 2, columns: 3, paddingValue: -2000, paddingRangeLimit: -1900, frames: [Int16Array.from([-2000, -1950, -1900, -1899, 40, -1000])] });
  const p = await buildVolume([{ part10: padded }]);
  assert.deepEqual([...p.outside], [1, 1, 1, 0, 0, 0]);
  assert.deepEqual([...p.data], [OUTSIDE_HU, OUTSIDE_HU, OUTSIDE_HU, -1899, 40, -1000]);
  // No padding attribute; corners at -3024 HU (stored 0 with intercept -3024 style): out of field.
  const n = 6;
  const px = new Int16Array(n * n).fill(-3024);
  for (let y = 1; y < n - 1; y++) for (let x = 1; x < n - 1; x++) px[y * n + x] = -1000 + x;
  const circle = syntheticSlice({ studyUid, seriesUid, position: [0, 0, 0], rows: n, columns: n, frames: [px] });
  const c = await buildVolume([{ part10: circle }]);
  assert.equal(c.outside.reduce((s, v) => s + v, 0), n * n - (n - 2) * (n - 2));
  assert.equal(c.data[0], OUTSIDE_HU);
  assert.equal(c.data[n + 1], -999);
  // Air at -1024 exactly in the corners (clipped) is not taken for out-of-field.
  const air = syntheticSlice({ studyUid, seriesUid, position: [0, 0, 0], rows: 2, columns: 2, frames: [Int16Array.from([-1024, -1024, -1024, 30])] });
  assert.equal((await buildVolume([{ part10: air }])).outside.reduce((s, v) => s + v, 0), 0);
});

test('a multi-frame instance with per-frame positions and rescale, in shuffled frame order', async () => {
  const studyUid = generateUid();
  const seriesUid = generateUid();
  const zs = [6, 0, 4, 2];
  const frames = zs.map((z) => new Int16Array(4).fill(z * 10));
  const part10 = syntheticSlice({
    studyUid,
    seriesUid,
    position: [0, 0, 0],
    rows: 2,
    columns: 2,
    sliceThickness: 2,
    frames,
    framePositions: zs.map((z) => [0, 0, z]),
    frameRescale: zs.map(() => ({ slope: 1, intercept: -5 })),
  });
  const v = await buildVolume([{ part10 }]);
  assert.deepEqual(v.dims, [2, 2, 4]);
  assert.deepEqual(v.sliceLocations, [0, 2, 4, 6]);
  assert.deepEqual(v.sources.map((s) => s.frame), [2, 4, 3, 1]);
  assert.deepEqual([v.data[0], v.data[4], v.data[8], v.data[12]], [-5, 15, 35, 55]);
});

test('a legacy multi-frame without functional groups is stacked from Image Position and Spacing Between Slices', async () => {
  const frames = [0, 1, 2].map((k) => new Int16Array(4).fill(k));
  const part10 = syntheticSlice({ studyUid: generateUid(), seriesUid: generateUid(), position: [1, 2, 3], rows: 2, columns: 2, spacingBetweenSlices: 1.5, frames });
  const v = await buildVolume([{ part10 }]);
  assert.deepEqual(v.slicePositions, [[1, 2, 3], [1, 2, 4.5], [1, 2, 6]]);
  assert.deepEqual(v.sliceSpan, [1.5, 1.5, 1.5]);
});

test('gantry tilt: the stack steps along z while the image plane is tilted; voxelToPatient uses each slice position', async () => {
  const studyUid = generateUid();
  const seriesUid = generateUid();
  const tilt = (20 * Math.PI) / 180;
  const orientation = [1, 0, 0, 0, Math.cos(tilt), -Math.sin(tilt)];
  const instances = [0, 1, 2, 3].map((k) => ({
    part10: syntheticSlice({ studyUid, seriesUid, instanceNumber: k + 1, position: [0, 0, k * 5], orientation, rows: 2, columns: 2, frames: [new Int16Array(4)] }),
  }));
  const v = await buildVolume(instances);
  assert.ok(Math.abs(v.tiltDegrees - 20) < 1e-4, `tilt ${v.tiltDegrees}`);
  for (const s of v.sliceSpan) assert.ok(Math.abs(s - 5 * Math.cos(tilt)) < 1e-4);
  const p = voxelToPatient(v, 1, 1, 2);
  assert.ok(Math.abs(p[0] - 0.5) < 1e-9 && Math.abs(p[1] - 0.5 * Math.cos(tilt)) < 1e-9 && Math.abs(p[2] - (10 - 0.5 * Math.sin(tilt))) < 1e-9);
});

test('meta: modality, body part, description, contrast and kernel', async () => {
  const studyUid = generateUid();
  const seriesUid = generateUid();
  const mk = (contrastAgent?: string) =>
    syntheticSlice({ studyUid, seriesUid, position: [0, 0, 0], rows: 2, columns: 2, contrastAgent, kernel: 'H30s', bodyPart: 'HEAD', frames: [new Int16Array(4)] });
  const none = await buildVolume([{ part10: mk('NONE') }]);
  assert.deepEqual(none.meta, { studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, modality: 'CT', bodyPart: 'HEAD', seriesDescription: 'SYNTHETIC', contrast: false, convolutionKernel: 'H30s' });
  assert.equal((await buildVolume([{ part10: mk('IOHEXOL') }])).meta.contrast, true);
  assert.equal((await buildVolume([{ part10: mk() }])).meta.contrast, false);
});

test('an injected decoder is used, and an undecodable instance is left out, not fatal', async () => {
  const { instances } = syntheticSeries({ slices: 3 });
  const bad = instances[1]!.part10;
  const v = await buildVolume(instances, {
    decode: (part10) => {
      if (part10 === bad) throw new Error('corrupt');
      return { pixels: new Int16Array(64).fill(7) };
    },
  });
  assert.equal(v.dims[2], 2);
  assert.equal(v.data[0], 7);
  assert.match(v.excluded[0]!.reason, /cannot be decoded.*corrupt/);
});

test('a series of only non-images fails with a clear error', async () => {
  await assert.rejects(buildVolume([{ part10: Buffer.alloc(10) }]), /no image slice/);
});

test('Bits Stored 12 in 16 allocated: high bits ignored, sign extended from bit 11 (PS3.5 8.1.1)', async () => {
  const studyUid = generateUid();
  const seriesUid = generateUid();
  // -5 in 12-bit two's complement is 0xFFB; 0xA000 is garbage in the unused high bits.
  const signed = syntheticSlice({ studyUid, seriesUid, position: [0, 0, 0], rows: 2, columns: 2, bitsStored: 12, frames: [Int16Array.from([0xaffb - 0x10000, 0x07ff, 0x0800, 0x1000])] });
  assert.deepEqual([...(await buildVolume([{ part10: signed }])).data], [-5, 2047, -2048, 0]);
  const unsigned = syntheticSlice({ studyUid, seriesUid, position: [0, 0, 0], rows: 1, columns: 3, bitsStored: 12, intercept: -1024, frames: [Uint16Array.from([0xf400, 0x0fff, 0x0001])] });
  assert.deepEqual([...(await buildVolume([{ part10: unsigned }])).data], [1024 - 1024, 4095 - 1024, 1 - 1024]);
});

test('a derived image at the location of an original one is the one dropped, whatever its Instance Number', async () => {
  const { instances, studyUid, seriesUid } = syntheticSeries({ slices: 3 });
  const derivedUid = generateUid();
  const derived = syntheticSlice({ studyUid, seriesUid, sopInstanceUid: derivedUid, instanceNumber: 0, imageType: ['DERIVED', 'SECONDARY', 'AXIAL'], position: [-10, -10, 5], rows: 8, columns: 8, frames: [new Int16Array(64).fill(900)] });
  const v = await buildVolume([{ part10: derived }, ...instances]);
  assert.equal(v.data[64], 1);
  assert.deepEqual(v.excluded.map((e) => e.sopInstanceUid), [derivedUid]);
});
