import type { AnalysisStatus } from '../../src/analyzers/types.js';
import type { BleedMatch } from '../../src/analyzers/truth.js';
import { formatTable, median } from './table.js';

/** What the benchmark keeps of one case after `medge analyze --json --truth`. */
export interface CaseResult {
  label: string;
  kind: 'phantom' | 'ge-insert' | 'ge-real';
  sliceThicknessMm: number;
  slices: number;
  status: AnalysisStatus;
  reason?: string;
  /** One entry per truth bleed (none for a negative case). */
  bleeds: BleedMatch[];
  falsePositiveFindings: number;
  timingsMs: { decode: number; volume: number; analyze: number };
}

/** The volume threshold of the anchors' headline figures (RAPID ICH: bleeds over 0.4 mL). */
export const SMALL_ML = 0.4;

export interface Rate {
  hit: number;
  of: number;
}

export interface IchMetrics {
  sensitivity: Rate;
  sensitivityAtLeast04: Rate;
  specificity: Rate;
  perSubtype: Map<string, { all: Rate; atLeast04: Rate }>;
  medianAbsVolumeErrorPct: number | null;
  medianAbsVolumeErrorPctAtLeast04: number | null;
  subtypeAccuracy: Rate;
  notAssessed: number;
  failed: number;
  falsePositiveFindingsOnPositives: number;
}

/**
 * A positive case counts as detected when the series is called positive and at least one finding
 * matches its truth bleed (a positive call in the wrong place is not a detection). A negative case is
 * a true negative only when called negative: not-assessable, failed and not-applicable count against
 * specificity and sensitivity alike, since a triage product would give no answer.
 */
export function computeMetrics(results: CaseResult[]): IchMetrics {
  const pos = results.filter((r) => r.bleeds.length > 0);
  const neg = results.filter((r) => r.bleeds.length === 0);
  const detected = (r: CaseResult) => r.status === 'positive' && r.bleeds.some((b) => b.detected);
  const largest = (r: CaseResult) => Math.max(...r.bleeds.map((b) => b.truth.volumeMl));
  const rate = (xs: CaseResult[], f: (r: CaseResult) => boolean): Rate => ({ hit: xs.filter(f).length, of: xs.length });
  const perSubtype = new Map<string, { all: Rate; atLeast04: Rate }>();
  for (const r of pos) {
    for (const b of r.bleeds) {
      const e = perSubtype.get(b.truth.subtype) ?? { all: { hit: 0, of: 0 }, atLeast04: { hit: 0, of: 0 } };
      const found = r.status === 'positive' && b.detected;
      e.all.of++;
      if (found) e.all.hit++;
      if (b.truth.volumeMl >= SMALL_ML) {
        e.atLeast04.of++;
        if (found) e.atLeast04.hit++;
      }
      perSubtype.set(b.truth.subtype, e);
    }
  }
  const matched = pos.flatMap((r) => (r.status === 'positive' ? r.bleeds.filter((b) => b.detected) : []));
  const errs = matched.map((b) => Math.abs(b.volumeErrorPct ?? 0));
  const errs04 = matched.filter((b) => b.truth.volumeMl >= SMALL_ML).map((b) => Math.abs(b.volumeErrorPct ?? 0));
  return {
    sensitivity: rate(pos, detected),
    sensitivityAtLeast04: rate(
      pos.filter((r) => largest(r) >= SMALL_ML),
      detected,
    ),
    specificity: rate(neg, (r) => r.status === 'negative'),
    perSubtype,
    medianAbsVolumeErrorPct: errs.length ? median(errs) : null,
    medianAbsVolumeErrorPctAtLeast04: errs04.length ? median(errs04) : null,
    subtypeAccuracy: { hit: matched.filter((b) => b.subtypeAgrees).length, of: matched.length },
    notAssessed: results.filter((r) => r.status === 'not-assessable' || r.status === 'not-applicable').length,
    failed: results.filter((r) => r.status === 'failed').length,
    falsePositiveFindingsOnPositives: pos.reduce((a, r) => a + r.falsePositiveFindings, 0),
  };
}

export function pct(r: Rate): string {
  return r.of === 0 ? 'n/a' : `${((100 * r.hit) / r.of).toFixed(1)} % (${r.hit}/${r.of})`;
}

/** p-th percentile (0..100) by nearest rank. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Timing table: median and p95 per stage for the series of one thickness. */
export function timingRows(results: CaseResult[], thicknesses: number[]): Array<Array<string | number>> {
  const rows: Array<Array<string | number>> = [];
  for (const t of thicknesses) {
    const xs = results.filter((r) => r.sliceThicknessMm === t && r.kind === 'phantom');
    if (xs.length === 0) continue;
    const slices = median(xs.map((r) => r.slices));
    const stage = (k: keyof CaseResult['timingsMs']) => xs.map((r) => r.timingsMs[k]);
    const total = xs.map((r) => r.timingsMs.decode + r.timingsMs.volume + r.timingsMs.analyze);
    rows.push([
      `${t} mm (${xs.length} series, ~${slices} slices)`,
      median(stage('decode')),
      percentile(stage('decode'), 95),
      median(stage('volume')),
      percentile(stage('volume'), 95),
      median(stage('analyze')),
      percentile(stage('analyze'), 95),
      median(total),
      percentile(total, 95),
    ]);
  }
  return rows;
}

export function timingTable(results: CaseResult[], thicknesses: number[]): string {
  return formatTable(['series', 'decode p50', 'p95', 'volume p50', 'p95', 'analyze p50', 'p95', 'total p50', 'p95 (ms)'], timingRows(results, thicknesses));
}
