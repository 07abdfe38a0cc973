import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReportedFinding, SeriesReport } from './offline.js';
import { compareWithTruth, formatComparison, matchRadiusMm, parseTruth } from './truth.js';

function finding(subtype: ReportedFinding['subtype'], volumeMl: number, centroidMm: [number, number, number]): ReportedFinding {
  return { type: 'intracranial-hemorrhage', subtype, side: 'left', region: 'frontal', volumeMl, centroidMm, sliceRange: [3, 9], confidence: 0.9 };
}

function series(uid: string, status: SeriesReport['status'], findings: ReportedFinding[]): SeriesReport {
  return { seriesInstanceUid: uid, analyzer: 'ich', status, findings, timingsMs: { decode: 1, volume: 1, analyze: 1 } };
}

test('parseTruth: one series, a list, {series: [...]}, and clear errors', () => {
  const one = { seriesInstanceUid: '1.2', bleeds: [{ subtype: 'subdural', volumeMl: 10, centroidMm: [1, 2, 3], side: 'left' }] };
  assert.equal(parseTruth(one).length, 1);
  assert.equal(parseTruth([one, { bleeds: [] }]).length, 2);
  assert.equal(parseTruth({ series: [one] })[0]!.bleeds[0]!.subtype, 'subdural');
  assert.throws(() => parseTruth({ bleeds: [{ subtype: 'bruise', volumeMl: 1, centroidMm: [0, 0, 0] }] }), /subtype must be one of/);
  assert.throws(() => parseTruth({ bleeds: [{ subtype: 'subdural', volumeMl: 1, centroidMm: [0, 0] }] }), /centroidMm/);
  assert.throws(() => parseTruth({ nothing: true }), /no "bleeds" list/);
});

test('compareWithTruth: a known case with a hit, a miss, a false positive and a negative series', () => {
  const truths = parseTruth([
    {
      seriesInstanceUid: 'A',
      bleeds: [
        { subtype: 'intraparenchymal', volumeMl: 20, centroidMm: [30, 10, 40] },
        { subtype: 'subarachnoid', volumeMl: 0.5, centroidMm: [-50, 0, 60] },
      ],
    },
    { seriesInstanceUid: 'B', bleeds: [] },
    { seriesInstanceUid: 'C', bleeds: [{ subtype: 'epidural', volumeMl: 5, centroidMm: [0, 0, 0] }] },
    { seriesInstanceUid: 'missing', bleeds: [] },
  ]);
  const report = [
    // A: the IPH found as two pieces (18 + 3 mL) plus a false positive far away; the SAH missed.
    series('A', 'positive', [finding('intraparenchymal', 18, [31, 11, 41]), finding('intraventricular', 3, [28, 12, 45]), finding('subdural', 2, [0, -80, 0])]),
    series('B', 'negative', []),
    series('C', 'not-assessable', []),
  ];
  const c = compareWithTruth(report, truths);
  assert.deepEqual(c.unmatchedTruth, ['missing']);
  assert.deepEqual(
    c.series.map((s) => s.outcome),
    ['TP', 'TN', 'not-assessed'],
  );
  const a = c.series[0]!;
  assert.equal(a.bleeds[0]!.detected, true);
  assert.equal(a.bleeds[0]!.detectedVolumeMl, 21);
  assert.equal(a.bleeds[0]!.volumeErrorPct, 5);
  assert.equal(a.bleeds[0]!.subtypeAgrees, true);
  assert.equal(a.bleeds[1]!.detected, false);
  assert.equal(a.falsePositiveFindings.length, 1);
  assert.deepEqual(c.summary.series, { tp: 1, fn: 0, fp: 0, tn: 1, notAssessed: 1 });
  // C's bleed counts as missed at the bleed level: the analyzer found nothing there.
  assert.deepEqual(c.summary.bleeds, { tp: 1, fn: 2, fpFindings: 1 });
  assert.deepEqual(c.summary.subtypeAgreement, { agree: 1, of: 1 });
  assert.equal(c.summary.medianAbsVolumeErrorPct, 5);
  assert.match(formatComparison(c), /MISSED {2}subarachnoid 0.5 mL/);
});

test('a truth without seriesInstanceUid applies to the only series, and is refused with several', () => {
  const truth = parseTruth({ bleeds: [{ subtype: 'subdural', volumeMl: 30, centroidMm: [60, 0, 50] }] });
  const c = compareWithTruth([series('X', 'negative', [])], truth);
  assert.equal(c.series[0]!.outcome, 'FN');
  assert.throws(() => compareWithTruth([series('X', 'negative', []), series('Y', 'negative', [])], truth), /exactly one series/);
});

test('the match radius grows with the bleed: 15 mm for small ones, twice the equivalent radius for large', () => {
  assert.equal(matchRadiusMm(0.1), 15);
  assert.ok(Math.abs(matchRadiusMm(80) - 2 * Math.cbrt((3 * 80000) / (4 * Math.PI))) < 1e-9);
});
