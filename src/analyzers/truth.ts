import { MedgeError } from '../errors.js';
import type { IchSubtype } from './types.js';
import type { ReportedFinding, SeriesReport } from './offline.js';

/**
 * Ground truth for `medge analyze --truth FILE`: the truth.json that `medge phantom` writes, or a
 * site's own labels in the same shape (docs/analyze.md). A file holds one series' truth, a list of
 * them, or `{ "series": [...] }`:
 *
 *   { "seriesInstanceUid"?: "1.2...", "bleeds": [ { "subtype": "subdural", "volumeMl": 12.5,
 *     "centroidMm": [x, y, z] }, ... ] }
 *
 * An empty `bleeds` list says the series has no bleed. A truth without seriesInstanceUid applies to
 * the only series analysed (and is an error when there are several).
 */
export interface TruthBleed {
  subtype: IchSubtype;
  volumeMl: number;
  /** Patient coordinates (LPS), mm. */
  centroidMm: [number, number, number];
}

export interface SeriesTruth {
  seriesInstanceUid?: string;
  bleeds: TruthBleed[];
}

const SUBTYPES: readonly IchSubtype[] = ['intraparenchymal', 'intraventricular', 'subdural', 'epidural', 'subarachnoid'];

/** Parses and checks a truth document (already JSON-parsed); errors name the offending entry. */
export function parseTruth(doc: unknown): SeriesTruth[] {
  const list: unknown[] = Array.isArray(doc) ? doc : isObject(doc) && Array.isArray(doc.series) ? doc.series : [doc];
  return list.map((entry, i) => {
    const where = `truth entry ${i}`;
    if (!isObject(entry) || !Array.isArray(entry.bleeds)) throw usage(`${where} has no "bleeds" list`);
    const uid = entry.seriesInstanceUid;
    if (uid !== undefined && typeof uid !== 'string') throw usage(`${where}: seriesInstanceUid must be a string`);
    const bleeds = entry.bleeds.map((b: unknown, j: number): TruthBleed => {
      const at = `${where}, bleed ${j}`;
      if (!isObject(b)) throw usage(`${at} is not an object`);
      if (!SUBTYPES.includes(b.subtype as IchSubtype)) throw usage(`${at}: subtype must be one of ${SUBTYPES.join(', ')}`);
      if (typeof b.volumeMl !== 'number' || !(b.volumeMl > 0)) throw usage(`${at}: volumeMl must be a positive number`);
      const c = b.centroidMm;
      if (!Array.isArray(c) || c.length !== 3 || !c.every((x) => typeof x === 'number' && Number.isFinite(x))) throw usage(`${at}: centroidMm must be [x, y, z] in mm`);
      return { subtype: b.subtype as IchSubtype, volumeMl: b.volumeMl, centroidMm: [c[0], c[1], c[2]] };
    });
    return uid ? { seriesInstanceUid: uid, bleeds } : { bleeds };
  });
}

/** One truth bleed and what the analyzer found for it. */
export interface BleedMatch {
  truth: TruthBleed;
  detected: boolean;
  /** Sum of the volumes of the findings matched to it, mL. */
  detectedVolumeMl?: number;
  /** (detected - truth) / truth x 100. */
  volumeErrorPct?: number;
  /** Subtype of the largest matched finding. */
  detectedSubtype?: IchSubtype;
  subtypeAgrees?: boolean;
  /** Distance from the truth centroid to the largest matched finding's centroid, mm. */
  distanceMm?: number;
}

export interface SeriesComparison {
  seriesInstanceUid: string;
  analyzer: string | null;
  status: SeriesReport['status'];
  /** Series level: the truth has a bleed / the analyzer said positive. */
  truthPositive: boolean;
  /** 'TP' | 'FN' | 'FP' | 'TN', or 'not-assessed' when the status is neither positive nor negative. */
  outcome: 'TP' | 'FN' | 'FP' | 'TN' | 'not-assessed';
  bleeds: BleedMatch[];
  /** Findings that matched no truth bleed. */
  falsePositiveFindings: ReportedFinding[];
}

export interface TruthComparison {
  /** How findings were matched to truth bleeds, in words (for the reader of the report). */
  rule: string;
  series: SeriesComparison[];
  /** Truth entries whose series was not found under the directory. */
  unmatchedTruth: string[];
  summary: {
    series: { tp: number; fn: number; fp: number; tn: number; notAssessed: number };
    bleeds: { tp: number; fn: number; fpFindings: number };
    subtypeAgreement: { agree: number; of: number };
    medianAbsVolumeErrorPct: number | null;
  };
}

/** A finding matches a truth bleed when its centroid lies within this many mm, or within twice the bleed's equivalent-sphere radius if larger. */
export const MATCH_MIN_MM = 15;

export function matchRadiusMm(volumeMl: number): number {
  const r = Math.cbrt((3 * volumeMl * 1000) / (4 * Math.PI));
  return Math.max(MATCH_MIN_MM, 2 * r);
}

/**
 * Compares the analysis with the truth. Each finding goes to the nearest truth bleed within its
 * match radius (several findings may share one bleed: an analyzer that splits a bleed is not
 * punished twice); findings near no bleed are false positives; bleeds with no finding are misses.
 */
export function compareWithTruth(series: SeriesReport[], truths: SeriesTruth[]): TruthComparison {
  const byUid = new Map<string, SeriesTruth>();
  const unmatchedTruth: string[] = [];
  const uids = new Set(series.map((s) => s.seriesInstanceUid));
  const anonymous = truths.filter((t) => !t.seriesInstanceUid);
  if (anonymous.length > 0) {
    if (anonymous.length > 1 || uids.size !== 1) {
      throw usage('a truth without seriesInstanceUid needs exactly one truth entry and exactly one series under the directory');
    }
    byUid.set([...uids][0]!, anonymous[0]!);
  }
  for (const t of truths) {
    if (!t.seriesInstanceUid) continue;
    if (uids.has(t.seriesInstanceUid)) byUid.set(t.seriesInstanceUid, t);
    else unmatchedTruth.push(t.seriesInstanceUid);
  }

  const out: SeriesComparison[] = [];
  for (const s of series) {
    const truth = byUid.get(s.seriesInstanceUid);
    if (!truth) continue;
    out.push(compareSeries(s, truth));
  }

  const sum = { tp: 0, fn: 0, fp: 0, tn: 0, notAssessed: 0 };
  const bleeds = { tp: 0, fn: 0, fpFindings: 0 };
  const subtype = { agree: 0, of: 0 };
  const errors: number[] = [];
  for (const c of out) {
    if (c.outcome === 'not-assessed') sum.notAssessed++;
    else sum[c.outcome.toLowerCase() as 'tp' | 'fn' | 'fp' | 'tn']++;
    bleeds.fpFindings += c.falsePositiveFindings.length;
    for (const b of c.bleeds) {
      if (!b.detected) {
        bleeds.fn++;
        continue;
      }
      bleeds.tp++;
      subtype.of++;
      if (b.subtypeAgrees) subtype.agree++;
      if (b.volumeErrorPct !== undefined) errors.push(Math.abs(b.volumeErrorPct));
    }
  }
  return {
    rule: `a finding matches the nearest truth bleed whose centroid is within max(${MATCH_MIN_MM} mm, 2 x the bleed's equivalent-sphere radius); several findings may match one bleed (their volumes add up)`,
    series: out,
    unmatchedTruth,
    summary: { series: sum, bleeds, subtypeAgreement: subtype, medianAbsVolumeErrorPct: errors.length ? roundTo(median(errors), 1) : null },
  };
}

function compareSeries(s: SeriesReport, truth: SeriesTruth): SeriesComparison {
  const assigned: ReportedFinding[][] = truth.bleeds.map(() => []);
  const falsePositiveFindings: ReportedFinding[] = [];
  for (const f of s.findings) {
    let best = -1;
    let bestD = Number.POSITIVE_INFINITY;
    truth.bleeds.forEach((b, i) => {
      const d = distance(f.centroidMm, b.centroidMm);
      if (d <= matchRadiusMm(b.volumeMl) && d < bestD) {
        best = i;
        bestD = d;
      }
    });
    if (best >= 0) assigned[best]!.push(f);
    else falsePositiveFindings.push(f);
  }
  const bleeds = truth.bleeds.map((b, i): BleedMatch => {
    const fs = assigned[i]!;
    if (fs.length === 0) return { truth: b, detected: false };
    const largest = fs.reduce((a, f) => (f.volumeMl > a.volumeMl ? f : a));
    const vol = fs.reduce((a, f) => a + f.volumeMl, 0);
    return {
      truth: b,
      detected: true,
      detectedVolumeMl: roundTo(vol, 2),
      volumeErrorPct: roundTo(((vol - b.volumeMl) / b.volumeMl) * 100, 1),
      detectedSubtype: largest.subtype,
      subtypeAgrees: largest.subtype === b.subtype,
      distanceMm: roundTo(distance(largest.centroidMm, b.centroidMm), 1),
    };
  });
  const truthPositive = truth.bleeds.length > 0;
  let outcome: SeriesComparison['outcome'];
  if (s.status === 'positive') outcome = truthPositive ? 'TP' : 'FP';
  else if (s.status === 'negative') outcome = truthPositive ? 'FN' : 'TN';
  else outcome = 'not-assessed';
  return { seriesInstanceUid: s.seriesInstanceUid, analyzer: s.analyzer, status: s.status, truthPositive, outcome, bleeds, falsePositiveFindings };
}

/** Lines a person reads: per series, then the totals. */
export function formatComparison(c: TruthComparison): string {
  const lines: string[] = ['Comparison with the truth', `  rule: ${c.rule}`];
  for (const s of c.series) {
    lines.push(`  series ${s.seriesInstanceUid}: ${s.outcome} (status ${s.status}, ${s.bleeds.length} truth bleed(s))`);
    for (const b of s.bleeds) {
      const t = `${b.truth.subtype} ${b.truth.volumeMl} mL`;
      lines.push(
        b.detected
          ? `    found   ${t}: as ${b.detectedSubtype} ${b.detectedVolumeMl} mL (volume error ${b.volumeErrorPct} %, ${b.distanceMm} mm away)${b.subtypeAgrees ? '' : ' SUBTYPE DIFFERS'}`
          : `    MISSED  ${t} at [${b.truth.centroidMm.map((x) => x.toFixed(1)).join(', ')}]`,
      );
    }
    for (const f of s.falsePositiveFindings) lines.push(`    FALSE POSITIVE ${f.subtype} ${f.volumeMl} mL at [${f.centroidMm.join(', ')}]`);
  }
  for (const uid of c.unmatchedTruth) lines.push(`  truth for series ${uid}: no such series under the directory`);
  const { series: ss, bleeds: b, subtypeAgreement: st, medianAbsVolumeErrorPct: v } = c.summary;
  lines.push(
    `  series: TP ${ss.tp}, FN ${ss.fn}, FP ${ss.fp}, TN ${ss.tn}, not assessed ${ss.notAssessed}`,
    `  bleeds: found ${b.tp}, missed ${b.fn}; false-positive findings ${b.fpFindings}`,
    `  subtype agreement: ${st.agree}/${st.of}; median absolute volume error: ${v === null ? 'n/a' : `${v} %`}`,
  );
  return lines.join('\n');
}

function distance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function roundTo(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function usage(message: string): MedgeError {
  return new MedgeError('MEDGE_ERR_CLI_USAGE', `--truth: ${message}`, {});
}
