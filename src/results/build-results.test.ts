import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import dicomParser, { type DataSet } from 'dicom-parser';
import type { AnalysisResult, Finding } from '../analyzers/types.js';
import { writeSyntheticCtSeries } from '../dicom/synthetic/ct-series.js';
import { isMedgeError } from '../errors.js';
import { buildVolume } from '../imaging/build-volume.js';
import type { Volume } from '../imaging/volume.js';
import { buildResults } from './build-results.js';
import { subtypeIndex } from './key-image-palette.js';
import { unpackBinaryFrame } from './seg-bits.js';
import type { ResultsInput } from './types.js';

const N = 32; // columns = rows
let dir: string;
let volume: Volume;
let sources: Map<string, Buffer>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medge-results-unit-'));
  const series = await writeSyntheticCtSeries({ dir, slices: 6, rows: N, columns: N, sliceThickness: 5, patientId: 'UNIT-1' });
  sources = new Map();
  for (let i = 0; i < series.files.length; i++) sources.set(series.sopInstanceUids[i]!, await readFile(series.files[i]!));
  volume = await buildVolume([...sources].map(([sopInstanceUid, part10]) => ({ sopInstanceUid, part10 })));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A box mask: columns x0..x1, rows y0..y1, slices k0..k1 (inclusive). */
function box(x0: number, x1: number, y0: number, y1: number, k0: number, k1: number): Uint8Array {
  const m = new Uint8Array(volume.data.length);
  for (let k = k0; k <= k1; k++) for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[k * N * N + y * N + x] = 1;
  return m;
}

function finding(over: Partial<Finding> & Pick<Finding, 'mask' | 'sliceRange'>): Finding {
  return { type: 'intracranial-hemorrhage', subtype: 'subdural', side: 'left', region: 'frontal', volumeMl: 1.5, centroidMm: [0, 0, 0], confidence: 0.9, ...over };
}

function input(result: AnalysisResult): ResultsInput {
  return { volume, sources, analyzer: { id: 'ich', version: '9.9.9' }, result, now: new Date(2026, 0, 2, 3, 4, 5), softwareVersion: 'test' };
}

function parse(b: Buffer): DataSet {
  return dicomParser.parseDicom(b);
}

test('two findings: SEG frames where each mask has voxels, bits equal to the masks; key image on the largest cross-section', () => {
  const big = finding({ mask: box(4, 13, 4, 11, 1, 2), sliceRange: [1, 2], volumeMl: 12.34, maxThicknessMm: 6.5 }); // 80 voxels a slice
  const small = finding({ subtype: 'intraparenchymal', side: 'right', region: 'thalamus', mask: box(20, 25, 20, 29, 4, 4), sliceRange: [4, 4], volumeMl: 3.2 }); // 60
  const out = buildResults(input({ status: 'positive', findings: [big, small], midlineShiftMm: 2.5 }));
  const seg = parse(out.seg!);
  assert.equal(seg.string('x00080016'), '1.2.840.10008.5.1.4.1.1.66.4');
  assert.equal(seg.intString('x00280008'), 3);
  assert.equal(seg.elements.x00620002!.items!.length, 2);
  assert.equal(seg.elements.x00620002!.items![0]!.dataSet!.string('x00620005'), 'Subdural 12.3 mL');
  const frames = seg.elements.x52009230!.items!.map((it) => it.dataSet!);
  const px = seg.elements.x7fe00010!;
  const packed = new Uint8Array(seg.byteArray.buffer, seg.byteArray.byteOffset + px.dataOffset, px.length);
  const expected: Array<[number, Uint8Array, number]> = [[1, big.mask, 1], [1, big.mask, 2], [2, small.mask, 4]];
  expected.forEach(([segment, mask, k], f) => {
    const item = frames[f]!;
    assert.equal(item.elements.x0062000a!.items![0]!.dataSet!.uint16('x0062000b'), segment);
    assert.equal(item.elements.x00209111!.items![0]!.dataSet!.uint32('x00209157', 1), k + 1);
    const src = item.elements.x00089124!.items![0]!.dataSet!.elements.x00082112!.items![0]!.dataSet!.string('x00081155');
    assert.equal(src, volume.sources[k]!.sopInstanceUid);
    assert.deepEqual(unpackBinaryFrame(packed, f, N * N), mask.subarray(k * N * N, (k + 1) * N * N));
  });
  const sc = parse(out.keyImage!);
  assert.equal(sc.string('x00280301'), 'YES');
  assert.equal(sc.uint16('x00280011'), N);
  assert.ok(sc.uint16('x00280010')! > N, 'banner and caption bands above and below the slice');
  // PALETTE COLOR: one 8-bit index per pixel; the outlines use their subtypes' reserved entries.
  assert.equal(sc.string('x00280004'), 'PALETTE COLOR');
  assert.equal(sc.uint16('x00280002'), 1);
  assert.equal(sc.uint16('x00280100'), 8);
  assert.deepEqual([0, 1, 2].map((i) => sc.uint16('x00281101', i)), [256, 0, 16]);
  const scPx = sc.elements.x7fe00010!;
  const indices = new Uint8Array(sc.byteArray.buffer, sc.byteArray.byteOffset + scPx.dataOffset, scPx.length);
  assert.equal(indices.length, N * sc.uint16('x00280010')!);
  const used = new Set(indices);
  assert.ok(used.has(subtypeIndex('subdural')), 'the subdural outline is drawn');
  assert.ok(!used.has(subtypeIndex('intraparenchymal')), 'the other finding is on another slice');
  assert.equal(sc.elements.x00082112!.items![0]!.dataSet!.string('x00081155'), volume.sources[1]!.sopInstanceUid, 'first slice of the largest cross-section');
  const sr = parse(out.sr);
  assert.equal(sr.string('x00080060'), 'SR');
  assert.equal(sr.string('x00100020'), 'UNIT-1');
  assert.equal(sr.string('x0020000d'), volume.meta.studyInstanceUid);
  assert.equal(sr.string('x0040a493'), 'UNVERIFIED');
  const text = out.sr.toString('latin1');
  assert.match(text, /NOT FOR DIAGNOSIS/);
  assert.match(text, /12\.34/); // the volume, as DS
  assert.match(text, /Midline shift/);
});

test('negative: only an SR, which states the hemorrhage is absent', () => {
  const out = buildResults(input({ status: 'negative', findings: [] }));
  assert.equal(out.seg, undefined);
  assert.equal(out.keyImage, undefined);
  const text = out.sr.toString('latin1');
  assert.match(text, /272519000/); // Absent
  assert.match(text, /No intracranial hemorrhage found/);
  assert.doesNotMatch(text, /126010/); // no Imaging Measurements container without measurements
});

test('a finding with an empty mask is reported in the SR without a segment; the others keep numbers 1..n', () => {
  const empty = finding({ mask: new Uint8Array(volume.data.length), sliceRange: [0, 5] });
  const real = finding({ mask: box(2, 5, 2, 5, 3, 3), sliceRange: [3, 3] });
  const out = buildResults(input({ status: 'positive', findings: [empty, real] }));
  const seg = parse(out.seg!);
  assert.equal(seg.elements.x00620002!.items!.length, 1);
  assert.equal(seg.elements.x00620002!.items![0]!.dataSet!.uint16('x00620004'), 1);
  assert.equal(seg.intString('x00280008'), 1);
});

test('a missing source or a mask of the wrong size is MEDGE_ERR_RESULTS_BUILD', () => {
  const partial = new Map([...sources].slice(1));
  assert.throws(() => buildResults({ ...input({ status: 'negative', findings: [] }), sources: partial }), (e) => isMedgeError(e, 'MEDGE_ERR_RESULTS_BUILD'));
  const bad = finding({ mask: new Uint8Array(10), sliceRange: [0, 0] });
  assert.throws(() => buildResults(input({ status: 'positive', findings: [bad] })), (e) => isMedgeError(e, 'MEDGE_ERR_RESULTS_BUILD'));
});
