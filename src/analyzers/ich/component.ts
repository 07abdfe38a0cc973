import type { Grid } from './grid.js';
import type { Midline } from './midline.js';
import { chamferDistance, chamferWeights } from './morph.js';
import { ICH } from './params.js';
import type { Skull } from './skull.js';

/** A connected set of blood-like voxels on the working grid, with what the classifier needs. */
export interface Component {
  /** Working-grid voxel indices (k*nx*ny + j*nx + i). */
  voxels: Int32Array;
  /** Voxel count volume (denoised value in the blood range), mL. */
  volumeMl: number;
  /**
   * Partial-volume volume, mL: over the component grown by 2 px in the plane and one slice either
   * way, each voxel counts (value - background) / (blood - background), clamped to 0..1, so that
   * edges and thin caps count for what they hold instead of all or nothing.
   */
  pvVolumeMl: number;
  /** Blood level (80th percentile of the denoised values). */
  bloodHu: number;
  meanHu: number;
  /** Largest distance from the inner table, mm. */
  maxDistMm: number;
  /** Fraction of voxels within ICH.bandMm + 1 mm of the table. */
  contactFraction: number;
  /** Largest in-plane distance from the component's own border, mm (half its thickness). */
  innerRadiusMm: number;
  /** Fraction of the ring around the component (2 px) that is CSF (< 20 HU). */
  csfRing: number;
  /** Fraction of the ring 2-6 mm around the component that is deep CSF (ventricles, cisterns: < 18 HU, > 15 mm from the table). */
  csfNear: number;
  /** Mean denoised HU of the component's voxels within ICH.bandMm + 1 mm of the table and deeper (NaN when none). */
  nearHu: number;
  farHu: number;
  /** Fraction of voxels with bone at the same place in an adjacent slice (a layer on a horizontal bone surface). */
  zBone: number;
  /** Mean denoised HU of the non-blood tissue 2-6 mm around the component (its local background). */
  ringHu: number;
  /** Voxels over bounding-box voxels: about 0.5 for a blob, low for branching sulcal blood. */
  fill: number;
  /** Centroid, working-grid voxel coordinates. */
  ci: number;
  cj: number;
  ck: number;
  k0: number;
  k1: number;
  /** Voxels on each side of the midline (image x greater / smaller than the midline). */
  plusX: number;
  minusX: number;
  /** Bounding box in-plane, working pixels. */
  i0: number; i1: number; j0: number; j1: number;
}

/**
 * Measures one group for the filters and the classifier: `voxels` are its working-grid indices,
 * labelled `id` in `label` (other groups > 0); `bg` is the brain background, HU. Volumes in mL,
 * distances in mm, centroid and bounds in working-grid voxels.
 */
export function measureComponent(g: Grid, skull: Skull, smooth: Int16Array, voxels: Int32Array, midline: Midline, label: Int32Array, id: number, bg: number): Component {
  const { nx, ny } = g;
  const n = nx * ny;
  let ml = 0, sumHu = 0, maxDist = 0, contact = 0, si = 0, sj = 0, sk = 0, wsum = 0;
  let k0 = Infinity, k1 = -1, i0 = nx, i1 = -1, j0 = ny, j1 = -1, plusX = 0, minusX = 0;
  // Bounding box in tilt-corrected coordinates (slices shifted back onto the first), for the fill.
  let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
  const contactD = (ICH.bandMm + 1) * 10;
  const hist = new Int32Array(256);
  let nearSum = 0, farSum = 0, farN = 0, zBone = 0;
  for (let t = 0; t < voxels.length; t++) {
    const p = voxels[t]!;
    const k = (p / n) | 0;
    const r = p - k * n;
    const j = (r / nx) | 0;
    const i = r - j * nx;
    const vm = g.voxelMl[k]!;
    ml += vm;
    sumHu += smooth[p]!;
    hist[Math.max(0, Math.min(255, smooth[p]!))]!++;
    const d = skull.dist[p]!;
    if (d > maxDist) maxDist = d;
    if ((k > 0 && skull.bone[p - n]) || (k + 1 < g.nz && skull.bone[p + n])) zBone++;
    if (d <= contactD) { contact++; nearSum += smooth[p]!; } else { farSum += smooth[p]!; farN++; }
    si += i * vm; sj += j * vm; sk += k * vm; wsum += vm;
    if (k < k0) k0 = k;
    if (k > k1) k1 = k;
    if (i < i0) i0 = i;
    if (i > i1) i1 = i;
    if (j < j0) j0 = j;
    if (j > j1) j1 = j;
    const u = Math.round(i + g.cumX[k]!), vv = Math.round(j + g.cumY[k]!);
    if (u < u0) u0 = u;
    if (u > u1) u1 = u;
    if (vv < v0) v0 = vv;
    if (vv > v1) v1 = vv;
    const mid = midline.a + midline.b * j;
    if (i > mid + 0.5) plusX++;
    else if (i < mid - 0.5) minusX++;
  }
  // Inner radius and the CSF ring: per slice, over the component's bounding box plus a margin.
  const m = Math.ceil(6 / Math.min(g.sx, g.sy)) + 1;
  const bi0 = Math.max(0, i0 - m), bi1 = Math.min(nx - 1, i1 + m), bj0 = Math.max(0, j0 - m), bj1 = Math.min(ny - 1, j1 + m);
  const bw = bi1 - bi0 + 1, bh = bj1 - bj0 + 1;
  const src = new Uint8Array(bw * bh);
  const d16 = new Uint16Array(bw * bh);
  const w = chamferWeights(g.sx, g.sy);
  let inner = 0, ring = 0, ringCsf = 0, near = 0, nearCsf = 0, bgSum = 0, bgN = 0;
  const ringD = 2 * Math.max(w.ax, w.ay) + 1;
  for (let k = k0; k <= k1; k++) {
    for (let j = bj0; j <= bj1; j++) for (let i = bi0; i <= bi1; i++) src[(j - bj0) * bw + (i - bi0)] = label[k * n + j * nx + i] === id ? 0 : 1;
    chamferDistance(src, bw, bh, w, d16);
    for (let q = 0; q < bw * bh; q++) if (d16[q]! > inner) inner = d16[q]!;
    // Ring: outside pixels within 2 px of the component, inside the skull.
    for (let q = 0; q < bw * bh; q++) src[q] = src[q] ? 0 : 1;
    chamferDistance(src, bw, bh, w, d16);
    for (let j = bj0; j <= bj1; j++) for (let i = bi0; i <= bi1; i++) {
      const q = (j - bj0) * bw + (i - bi0);
      const d = d16[q]!;
      if (d === 0 || d > 60) continue;
      const p = k * n + j * nx + i;
      if (!skull.ic[p]) continue;
      const x = smooth[p]!;
      if (d <= ringD) {
        ring++;
        if (x < 20) ringCsf++;
      } else {
        near++;
        if (x > 15 && x < ICH.bloodWeakHu) { bgSum += x; bgN++; }
        if (x < 18 && x > -10 && skull.dist[p]! > 150) nearCsf++;
      }
    }
  }
  let bloodHu = 60;
  for (let t = 255, acc = 0; t >= 0; t--) { acc += hist[t]!; if (acc >= 0.2 * voxels.length) { bloodHu = Math.max(60, t); break; } }
  // Partial-volume volume over the grown footprint.
  let pv = 0;
  const grow = 2 * Math.max(w.ax, w.ay) + 1;
  const nz = g.nz;
  const span = bloodHu - bg;
  for (let k = Math.max(0, k0 - 1); k <= Math.min(nz - 1, k1 + 1); k++) {
    for (let j = bj0; j <= bj1; j++) for (let i = bi0; i <= bi1; i++) {
      const q = j * nx + i;
      let inFoot = label[k * n + q] === id;
      if (!inFoot && k > 0) inFoot = label[(k - 1) * n + q] === id;
      if (!inFoot && k + 1 < nz) inFoot = label[(k + 1) * n + q] === id;
      src[(j - bj0) * bw + (i - bi0)] = inFoot ? 1 : 0;
    }
    chamferDistance(src, bw, bh, w, d16);
    const vm = g.voxelMl[k]!;
    for (let j = bj0; j <= bj1; j++) for (let i = bi0; i <= bi1; i++) {
      if (d16[(j - bj0) * bw + (i - bi0)]! > grow) continue;
      const p = k * n + j * nx + i;
      if (!skull.ic[p]) continue;
      const l = label[p]!;
      if (l > 0 && l !== id) continue;
      const x = smooth[p]!;
      if (l === id && x >= ICH.bloodLoHu) { pv += vm; continue; }
      if (x <= bg || x > ICH.softHiHu) continue;
      pv += vm * Math.min(1, (x - bg) / span);
    }
  }
  return {
    voxels,
    volumeMl: ml,
    pvVolumeMl: pv,
    bloodHu,
    meanHu: sumHu / voxels.length,
    maxDistMm: maxDist / 10,
    contactFraction: contact / voxels.length,
    innerRadiusMm: inner / 10,
    csfRing: ring ? ringCsf / ring : 0,
    csfNear: near ? nearCsf / near : 0,
    ringHu: bgN ? bgSum / bgN : bg,
    nearHu: contact ? nearSum / contact : NaN,
    zBone: zBone / voxels.length,
    farHu: farN ? farSum / farN : NaN,
    fill: voxels.length / ((u1 - u0 + 1) * (v1 - v0 + 1) * (k1 - k0 + 1)),
    ci: si / wsum, cj: sj / wsum, ck: sk / wsum,
    k0, k1: k1, plusX, minusX, i0, i1, j0, j1,
  };
}
