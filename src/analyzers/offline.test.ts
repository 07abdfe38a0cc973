import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeSyntheticCtSeries } from '../dicom/synthetic/ct-series.js';
import { MedgeError } from '../errors.js';
import type { Volume } from '../imaging/volume.js';
import { analyzeDirectory } from './offline.js';
import { createAnalyzerRegistry } from './registry.js';
import type { AnalysisResult, Analyzer, Finding } from './types.js';
import { createTimedVolumeBuilder } from './volume-builder.js';

let dir: string;
let seriesA: string;
let seriesB: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medge-offline-'));
  seriesA = (await writeSyntheticCtSeries({ dir: join(dir, 'a'), slices: 6, rows: 64, columns: 64, sliceThickness: 5 })).seriesUid;
  seriesB = (await writeSyntheticCtSeries({ dir: join(dir, 'nested', 'b'), slices: 4, rows: 64, columns: 64, sliceThickness: 2.5 })).seriesUid;
  await writeFile(join(dir, 'notes.txt'), 'not DICOM');
  await writeFile(join(dir, 'nested', 'empty.dcm'), Buffer.alloc(0));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function finding(): Finding {
  return {
    type: 'intracranial-hemorrhage',
    subtype: 'subdural',
    side: 'left',
    region: 'frontal',
    volumeMl: 12.3456,
    centroidMm: [10.04, -20.06, 30.15],
    sliceRange: [1, 3],
    maxThicknessMm: 7.77,
    confidence: 0.876,
    mask: new Uint8Array(1),
  };
}

/** Positive on 5 mm series, not applicable to the others: exercises both paths. */
const thickOnly: Analyzer = {
  manifest: { id: 'thick-only', version: '0.0.1', description: 'test', modalities: ['CT'], timeLimitMs: 10_000 },
  applies: (v: Volume) => (v.sliceThickness === 5 ? { ok: true } : { ok: false, reason: `slice thickness ${v.sliceThickness} mm is not 5 mm` }),
  analyze: (): AnalysisResult => ({ status: 'positive', findings: [finding()], midlineShiftMm: 2.04 }),
};

test('every series under the directory, grouped by UID, non-DICOM files skipped and counted', async () => {
  const registry = createAnalyzerRegistry([thickOnly]);
  const report = await analyzeDirectory(dir, { registry, buildVolume: createTimedVolumeBuilder() });
  assert.deepEqual(report.files, { dicom: 10, skipped: 2 });
  assert.equal(report.series.length, 2);
  const a = report.series.find((s) => s.seriesInstanceUid === seriesA)!;
  const b = report.series.find((s) => s.seriesInstanceUid === seriesB)!;
  assert.equal(a.status, 'positive');
  assert.equal(a.slices, 6);
  assert.equal(a.midlineShiftMm, 2);
  // Rounded, and without the mask.
  assert.deepEqual(a.findings, [
    { type: 'intracranial-hemorrhage', subtype: 'subdural', side: 'left', region: 'frontal', volumeMl: 12.35, centroidMm: [10, -20.1, 30.2], sliceRange: [1, 3], maxThicknessMm: 7.8, confidence: 0.88 },
  ]);
  for (const k of ['decode', 'volume', 'analyze'] as const) assert.ok(a.timingsMs[k] >= 0, k);
  assert.equal(b.status, 'not-applicable');
  assert.match(b.reason!, /2.5 mm is not 5 mm/);
  assert.equal(b.timingsMs.analyze, 0);
  assert.deepEqual(report.analyzers, [{ id: 'thick-only', version: '0.0.1', state: 'loaded' }]);
});

test('a series whose volume cannot be built is failed with the reason, the others still run', async () => {
  const registry = createAnalyzerRegistry([thickOnly]);
  const report = await analyzeDirectory(dir, {
    registry,
    buildVolume: async (instances) => {
      if (instances.length === 4) throw new Error('the slices disagree');
      return createTimedVolumeBuilder()(instances);
    },
  });
  const b = report.series.find((s) => s.seriesInstanceUid === seriesB)!;
  assert.equal(b.status, 'failed');
  assert.match(b.reason!, /volume could not be built: the slices disagree/);
  assert.equal(report.series.find((s) => s.seriesInstanceUid === seriesA)!.status, 'positive');
});

test('an unreadable directory throws (the CLI turns it into exit status 1)', async () => {
  const registry = createAnalyzerRegistry([]);
  await assert.rejects(analyzeDirectory(join(dir, 'no-such-dir'), { registry, buildVolume: createTimedVolumeBuilder() }), /ENOENT/);
});

test('a series with no image slice (say a structured report) is not-applicable; undecodable slices are failed', async () => {
  const registry = createAnalyzerRegistry([thickOnly]);
  const noSlices = (reason: string) => new MedgeError('MEDGE_ERR_IMAGING_NO_SLICES', 'no image slice', { excluded: [{ sopInstanceUid: '1', reason }] });
  const report = await analyzeDirectory(dir, {
    registry,
    buildVolume: async (instances) => {
      throw instances.length === 4 ? noSlices('not an image: no Pixel Data') : noSlices('pixel data cannot be decoded: truncated');
    },
  });
  const byUid = new Map(report.series.map((s) => [s.seriesInstanceUid, s]));
  assert.equal(byUid.get(seriesB)!.status, 'not-applicable');
  assert.match(byUid.get(seriesB)!.reason!, /no image slice to analyse \(not an image/);
  assert.equal(byUid.get(seriesA)!.status, 'failed');
});
