import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Volume } from '../imaging/volume.js';
import { createAnalyzerRegistry, loadAnalyzers } from './registry.js';
import type { AnalysisResult, Analyzer } from './types.js';

function tinyVolume(modality = 'CT'): Volume {
  return {
    data: new Int16Array(8),
    outside: new Uint8Array(8),
    dims: [2, 2, 2],
    pixelSpacing: [1, 1],
    rowDirection: [1, 0, 0],
    columnDirection: [0, 1, 0],
    normal: [0, 0, 1],
    slicePositions: [
      [0, 0, 0],
      [0, 0, 1],
    ],
    sliceLocations: [0, 1],
    sliceSpan: [1, 1],
    sliceThickness: 1,
    tiltDegrees: 0,
    gaps: [],
    sources: [
      { sopInstanceUid: '1.2.3.1', frame: 1 },
      { sopInstanceUid: '1.2.3.2', frame: 1 },
    ],
    excluded: [],
    hounsfield: true,
    meta: { studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', modality, bodyPart: 'HEAD', seriesDescription: null, contrast: false, convolutionKernel: null },
  };
}

function fakeAnalyzer(over: Partial<Analyzer> & { id?: string; timeLimitMs?: number } = {}): Analyzer {
  return {
    manifest: { id: over.id ?? 'fake', version: '1.0.0', description: 'a test analyzer', modalities: ['CT'], timeLimitMs: over.timeLimitMs ?? 1000 },
    applies: over.applies ?? (() => ({ ok: true })),
    analyze: over.analyze ?? ((): AnalysisResult => ({ status: 'negative', findings: [] })),
  };
}

test('an analyzer that throws gives status failed with the reason', () => {
  const analyzer = fakeAnalyzer({
    analyze: () => {
      throw new Error('out of cheese');
    },
  });
  const registry = createAnalyzerRegistry([analyzer]);
  const run = registry.run(analyzer, tinyVolume());
  assert.equal(run.result.status, 'failed');
  assert.match(run.result.reason ?? '', /out of cheese/);
  assert.deepEqual(run.result.findings, []);
});

test('an analyzer over its time limit is failed and its result discarded (measured with the injected clock)', () => {
  let t = 0;
  const analyzer = fakeAnalyzer({
    timeLimitMs: 50,
    analyze: () => {
      t += 120; // the analysis "takes" 120 ms on the fake clock
      return { status: 'positive', findings: [] };
    },
  });
  const registry = createAnalyzerRegistry([analyzer], { now: () => t });
  const run = registry.run(analyzer, tinyVolume());
  assert.equal(run.result.status, 'failed');
  assert.match(run.result.reason ?? '', /time limit of 50 ms \(took 120 ms\)/);
  assert.equal(run.elapsedMs, 120);
});

test('within its time limit the result is passed through with the elapsed time', () => {
  let t = 0;
  const analyzer = fakeAnalyzer({
    analyze: () => {
      t += 10;
      return { status: 'negative', findings: [], midlineShiftMm: 0.5 };
    },
  });
  const run = createAnalyzerRegistry([analyzer], { now: () => t }).run(analyzer, tinyVolume());
  assert.equal(run.result.status, 'negative');
  assert.equal(run.result.midlineShiftMm, 0.5);
  assert.equal(run.elapsedMs, 10);
  assert.equal(run.analyzerId, 'fake');
});

test('not applicable: another modality, or the analyzer says why', () => {
  const picky = fakeAnalyzer({ id: 'picky', applies: () => ({ ok: false, reason: 'contrast-enhanced series' }) });
  const plain = fakeAnalyzer({ id: 'plain' });
  const registry = createAnalyzerRegistry([picky, plain]);
  const onCt = registry.applicable(tinyVolume('CT'));
  assert.deepEqual(
    onCt.map((a) => [a.analyzer.manifest.id, a.ok, a.ok ? undefined : a.reason]),
    [
      ['picky', false, 'contrast-enhanced series'],
      ['plain', true, undefined],
    ],
  );
  const onMr = registry.applicable(tinyVolume('MR'));
  assert.ok(onMr.every((a) => !a.ok));
  assert.match(onMr[1]!.ok ? '' : onMr[1]!.reason, /modality MR is not one of CT/);
});

test('an applicability check that throws is reported as failed, not as not-applicable silently', () => {
  const broken = fakeAnalyzer({
    applies: () => {
      throw new TypeError('bad header');
    },
  });
  const [v] = createAnalyzerRegistry([broken]).applicable(tinyVolume());
  assert.equal(v!.ok, false);
  assert.ok(!v!.ok && v!.failed === true && /bad header/.test(v!.reason));
});

test('a plugin that fails to load, or has an invalid manifest, is an entry with an error', async () => {
  const { analyzers, loadFailures } = await loadAnalyzers([
    { id: 'good', load: () => fakeAnalyzer({ id: 'good' }) },
    {
      id: 'missing-model',
      load: async () => {
        throw new Error('model file not found');
      },
    },
  ]);
  const badManifest = fakeAnalyzer({ id: 'bad', timeLimitMs: 0 });
  const duplicate = fakeAnalyzer({ id: 'good' });
  const registry = createAnalyzerRegistry([...analyzers, badManifest, duplicate], { loadFailures });
  const entries = registry.entries();
  assert.deepEqual(
    entries.map((e) => [e.id, e.state]),
    [
      ['missing-model', 'load-failed'],
      ['good', 'loaded'],
      ['bad', 'load-failed'],
      ['good', 'load-failed'],
    ],
  );
  const errors = entries.flatMap((e) => (e.state === 'load-failed' ? [e.error] : []));
  assert.match(errors[0]!, /model file not found/);
  assert.match(errors[1]!, /time limit/);
  assert.match(errors[2]!, /already registered/);
  assert.equal(registry.analyzers().length, 1);
});
