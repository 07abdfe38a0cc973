import { type Vec3, type Volume } from '../../imaging/volume.js';
import type { AnalysisResult, Analyzer, Finding } from '../types.js';
import { ichApplies } from './applies.js';
import { detect } from './candidates.js';
import type { Component } from './component.js';
import { cavityBox, classify, confidenceOf, regionOf, sideOf } from './classify.js';
import { buildGrid, denoise, type Grid } from './grid.js';
import { fitMidline, midlineShift } from './midline.js';
import { ICH } from './params.js';
import { findSkull } from './skull.js';

export { ichApplies } from './applies.js';

/** Time per stage of one analysis, ms. */
export interface IchTimings {
  grid: number;
  denoise: number;
  skull: number;
  detect: number;
  findings: number;
  total: number;
}

/** A group's features with what the filters weigh them against (no voxels). */
export type GroupFeatures = Omit<Component, 'voxels'> & {
  centroidMm: Vec3;
  /** Height of the centroid in the cavity: 0 at the bottom, 1 at the vertex. */
  base: number;
  /** Span of the group's first working slab, mm. */
  slabMm: number;
  /** Brain background of the series, HU. */
  backgroundHu: number;
};

export interface IchAnalysis extends AnalysisResult {
  timingsMs: IchTimings;
  /** Features of every reported finding, same order (for tests and tuning; no voxels). */
  features: GroupFeatures[];
  /** Groups of at least 0.1 mL that a filter removed, with the filter (for tuning and audits). */
  rejected: (GroupFeatures & { reason: string })[];
}

/** Why a group is not reported (null: it is). `base`: 0 at the bottom of the cavity, 1 at the vertex. */
export function rejection(c: Omit<Component, 'voxels'>, backgroundHu: number, base: number, slabMm: number): string | null {
  // Faint blood whose voxels hover about the seed threshold (thin sulcal blood, a small bleed
  // averaged over a thick slice): few voxels are counted, but what the group holds (partial-volume
  // estimate) and how far it stands above the brain around it are a bleed's (ICH.faintSulcalMinMl).
  const sulcal = c.bloodHu < ICH.smallMinBloodHu && c.pvVolumeMl >= ICH.faintSulcalMinMl && c.meanHu - c.ringHu >= ICH.faintLocalContrastHu;
  // (A layer lying wholly against the table is counted by its partial-volume estimate: most of a
  // thin subdural lies in the first working pixel, dimmed under the blood range by the mix.)
  const layer = c.contactFraction >= ICH.layerMinContact && c.pvVolumeMl >= ICH.minFindingMl;
  if (c.volumeMl < ICH.minFindingMl && !layer && !sulcal) return 'small';
  if (c.meanHu - backgroundHu < ICH.minContrastHu) return 'contrast';
  if (c.meanHu - c.ringHu < ICH.minLocalContrastHu) return 'local-contrast';
  // Thin layers hugging the table are what bone blooming looks like when they are brighter than a
  // thin layer of clot can be (partial volume dims it) or lie in a bright rim.
  if (c.contactFraction >= 0.5 && c.maxDistMm < ICH.minExtraAxialMm && (c.bloodHu >= ICH.thinLayerMaxBloodHu || c.ringHu >= ICH.thinLayerMaxRingHu)) return 'thin-layer';
  // Against the table in a bright rim and not well above it: blooming and beam hardening at the
  // tilted skull base of thin slices (ICH.brightRimHu).
  if (c.contactFraction >= 0.5 && c.ringHu >= ICH.brightRimHu && c.meanHu - c.ringHu < ICH.faintLocalContrastHu) return 'bright-rim';
  // A thin layer in one working slice with bone over most of it in the next: partial volume of a
  // horizontal bone surface (skull floor, vertex) through the slab.
  // (Thin slabs only: with thick slices a convexity bleed under the curving skull is one or two slices.)
  if (c.maxDistMm < ICH.minExtraAxialMm && c.k1 - c.k0 <= 1 && c.zBone > 0.5 && slabMm < 3) return 'bone-surface';
  // One working pixel thick against the table: partial volume along a bone surface, not a collection.
  if (c.contactFraction >= 0.9 && c.maxDistMm < 2.5 && c.innerRadiusMm <= 1) return 'bone-surface';
  // Blooming fades with the distance from the bone; a collection of blood is level across its depth.
  if (c.contactFraction >= 0.2 && c.nearHu - c.farHu >= ICH.maxTableGradientHu) return 'table-gradient';
  // Small and faint: veins, choroid plexus, dense dura look like this; acute clot is brighter.
  // (Larger faint groups pass only when their mean clears the seed threshold: beam-hardening
  // streaks at the skull base make long groups that are mostly weak voxels; thin sulcal blood of
  // a mL or more is as faint but stands well above the brain around it: streaks stay under 20 HU.)
  // (From faintLargeMl up a little less local contrast suffices: streaks that long stay far lower.)
  const faintLc = c.pvVolumeMl >= ICH.faintLargeMl ? ICH.faintLargeLocalContrastHu : ICH.faintLocalContrastHu;
  if (c.bloodHu < ICH.smallMinBloodHu && ((c.pvVolumeMl < ICH.faintMaxMl && !sulcal) || (c.meanHu < ICH.bloodLoHu + 1 && c.meanHu - c.ringHu < faintLc))) return 'faint';
  // Small, deep, away from the table and either in the ventricles or astride the midline: the
  // choroid plexus and the pineal when they are dense but not calcified enough (under calcHu) to be
  // excluded; they come in a symmetric pair or sit on the midline behind the third ventricle.
  if (c.pvVolumeMl < ICH.deepMimicMaxMl && c.contactFraction === 0 && c.maxDistMm >= ICH.deepMimicMinDepthMm &&
    (c.csfNear >= 0.5 || Math.min(c.plusX, c.minusX) >= 0.3 * Math.max(c.plusX, c.minusX))) return 'deep-mimic';
  // Skull base (lowest 30 % of the cavity): beam hardening, sinuses and dense dura; stricter. A
  // group there with no part deeper than band + 1 mm is the partial volume of the skull floor (a
  // 0.6 mL layer of slabs joined by linkTableLayers; no bleed group like it on 900 cases).
  if (base < 0.3 && (c.meanHu - c.ringHu < ICH.baseLocalContrastHu || Number.isNaN(c.farHu) || c.nearHu - c.farHu >= ICH.baseMaxTableGradientHu || c.bloodHu < ICH.smallMinBloodHu)) return 'skull-base';
  return null;
}

/**
 * Finds acute intracranial blood in a non-contrast head CT (docs/ich.md): skull and cavity, denoised
 * blood-range voxels deeper than the partial-volume band, grouped in 3D, regrown into the band,
 * filtered (size, contrast, calcification rims), classified and measured. Works on a 2x2-reduced grid
 * when pixels are finer than 0.7 mm; masks are returned at full resolution.
 */
export function analyzeIch(v: Volume, now: () => number = () => performance.now()): IchAnalysis {
  const t0 = now();
  const g = buildGrid(v);
  const t1 = now();
  const smooth = denoise(g);
  const t2 = now();
  const skull = findSkull(g);
  const t3 = now();
  const timings = (t4: number, t5: number): IchTimings => ({ grid: t1 - t0, denoise: t2 - t1, skull: t3 - t2, detect: t4 - t3, findings: t5 - t4, total: t5 - t0 });
  if (skull.brainMl < ICH.minBrainMl) {
    const t = now();
    return {
      status: 'not-assessable',
      reason: `no brain inside the skull: ${skull.brainMl.toFixed(0)} mL of 0-80 HU tissue in a ${skull.cavityMl.toFixed(0)} mL cavity (at least ${ICH.minBrainMl} mL needed)`,
      findings: [],
      timingsMs: timings(t, t),
      features: [],
      rejected: [],
    };
  }
  const midline = fitMidline(g, skull);
  const det = detect(g, skull, smooth, midline);
  const t4 = now();
  const box = cavityBox(g, skull);
  const rowSign = v.rowDirection[0] >= 0 ? 1 : -1;
  const findings: Finding[] = [];
  const features: GroupFeatures[] = [];
  const widthMidlinePx = 30 / g.sx;
  const up = v.normal[2] >= 0;
  const baseLevel = (k: number): number => {
    const h = box.k1 > box.k0 ? (k - box.k0) / (box.k1 - box.k0) : 0.5;
    return up ? h : 1 - h;
  };
  const rejected: IchAnalysis['rejected'] = [];
  const describe = (c: Component): GroupFeatures => {
    const { voxels: _v, ...rest } = c;
    void _v;
    return { ...rest, centroidMm: centroid(v, g, c), base: baseLevel(c.ck), slabMm: g.span[c.k0]!, backgroundHu: det.backgroundHu };
  };
  for (const c of det.components) {
    const why = rejection(c, det.backgroundHu, baseLevel(c.ck), g.span[c.k0]!);
    if (why) {
      if (c.volumeMl >= 0.1) rejected.push({ reason: why, ...describe(c) });
      continue;
    }
    const subtype = classify(c, box, midline, v.normal[2] >= 0, v.columnDirection[1] >= 0);
    const finding: Finding = {
      type: 'intracranial-hemorrhage',
      subtype,
      side: sideOf(c, rowSign, widthMidlinePx),
      region: regionOf(c, subtype, box, midline, v.columnDirection[1] >= 0, v.normal[2] >= 0),
      volumeMl: round(c.pvVolumeMl, 2),
      centroidMm: centroid(v, g, c),
      sliceRange: [g.firstSlice[c.k0]!, g.firstSlice[c.k1]! + g.sliceCount[c.k1]! - 1],
      confidence: confidenceOf(c, det.backgroundHu),
      mask: fullMask(v, g, c),
    };
    if (subtype === 'subdural' || subtype === 'epidural') finding.maxThicknessMm = round(c.maxDistMm, 1);
    findings.push(finding);
    features.push(describe(c));
  }
  const shift = midlineShift(g, skull, smooth, midline);
  const t5 = now();
  const result: IchAnalysis = { status: findings.length ? 'positive' : 'negative', findings, timingsMs: timings(t4, t5), features, rejected };
  if (shift !== null) result.midlineShiftMm = round(shift, 1);
  return result;
}

export const ichAnalyzer: Analyzer = {
  manifest: {
    id: 'ich',
    version: '0.1.0',
    description: 'Intracranial hemorrhage on non-contrast head CT: detection, subtype, side, region, volume, thickness, midline shift (classical image analysis).',
    modalities: ['CT'],
    timeLimitMs: 10_000,
  },
  applies: ichApplies,
  analyze(volume: Volume): AnalysisResult {
    const { timingsMs: _t, features: _f, rejected: _r, ...result } = analyzeIch(volume);
    void _t, _f, _r;
    return result;
  },
};

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Patient coordinates of the component's centroid (fractional working slice interpolated). */
function centroid(v: Volume, g: Grid, c: Component): Vec3 {
  const f = g.factor;
  const i = c.ci * f + (f - 1) / 2;
  const j = c.cj * f + (f - 1) / 2;
  const k0 = Math.floor(c.ck);
  const k1 = Math.min(g.nz - 1, k0 + 1);
  const t = c.ck - k0;
  const at = (k: number): Vec3 => {
    const p = g.positions[k]!;
    const [sx, sy] = v.pixelSpacing;
    return [0, 1, 2].map((d) => p[d]! + v.rowDirection[d]! * sx * i + v.columnDirection[d]! * sy * j) as Vec3;
  };
  const a = at(k0);
  const b = at(k1);
  return [round(a[0] + t * (b[0] - a[0]), 1), round(a[1] + t * (b[1] - a[1]), 1), round(a[2] + t * (b[2] - a[2]), 1)];
}

/** The component's mask at full resolution (each working voxel covers factor x factor pixels of its slices). */
function fullMask(v: Volume, g: Grid, c: Component): Uint8Array {
  const [cols, rows] = v.dims;
  const mask = new Uint8Array(v.data.length);
  const n = g.nx * g.ny;
  const f = g.factor;
  for (let t = 0; t < c.voxels.length; t++) {
    const p = c.voxels[t]!;
    const kw = (p / n) | 0;
    const r = p - kw * n;
    const j = (r / g.nx) | 0;
    const i = r - j * g.nx;
    for (let k = g.firstSlice[kw]!, e = k + g.sliceCount[kw]!; k < e; k++) {
      const base = k * cols * rows + j * f * cols + i * f;
      for (let b = 0; b < f; b++) for (let a = 0; a < f; a++) mask[base + b * cols + a] = 1;
    }
  }
  return mask;
}
