import { sliceOffset, type Grid } from './grid.js';
import { linkTableLayers, type Group } from './link.js';

/** Largest working-grid pixel, mm, at which thin layers are linked across slabs (see detect). */
const LINK_MAX_PIXEL_MM = 1.0;
import { chamferDistance, chamferWeights } from './morph.js';
import { ICH } from './params.js';
import { brainBackground, PROFILE_BINS, tableProfile } from './profile.js';
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

export interface Detection {
  components: Component[];
  backgroundHu: number;
  /** Number of voxels excluded as calcification or its rim. */
  calcVoxels: number;
}

/** Midline of the intracranial cavity: image column x = a + b * row, working pixels. */
export interface Midline { a: number; b: number }

/**
 * Candidate blood: denoised value in [bloodLoHu, bloodHiHu], inside the skull, deeper than the
 * partial-volume band, outside calcifications and their rim; grouped in 3D (8-connected in the
 * plane, overlapping across slices with the tilt shift); each group then regrows into the band
 * (extra-axial blood lies against the table) by at most band + 1 mm.
 */
export function detect(g: Grid, skull: Skull, smooth: Int16Array, midline: Midline): Detection {
  const { nx, ny, nz, hu } = g;
  const n = nx * ny;
  const N = n * nz;
  const { ic, dist } = skull;
  const band = ICH.bandMm * 10;
  const lo = ICH.bloodLoHu;
  const hi = ICH.bloodHiHu;
  const backgroundHu = brainBackground(skull, smooth, N);

  // Calcifications and their rim (in-plane chamfer per affected slice, plus the slices either side).
  const excl = new Uint8Array(N);
  let calcVoxels = 0;
  const w = chamferWeights(g.sx, g.sy);
  const src = new Uint8Array(n);
  const d16 = new Uint16Array(n);
  const rim = ICH.calcRimMm * 10;
  for (let k = 0; k < nz; k++) {
    if (skull.sliceArea[k] === 0) continue;
    const o = k * n;
    let any = false;
    for (let p = 0; p < n; p++) {
      const c = ic[o + p] && hu[o + p]! > ICH.calcHu && dist[o + p]! > band ? 1 : 0;
      src[p] = c;
      if (c) any = true;
    }
    if (!any) continue;
    chamferDistance(src, nx, ny, w, d16);
    for (const m of [k - 1, k, k + 1]) {
      if (m < 0 || m >= nz) continue;
      const om = m * n;
      for (let p = 0; p < n; p++) if (d16[p]! <= rim && !excl[om + p]) { excl[om + p] = 1; calcVoxels++; }
    }
  }

  // Labels: 0 none, -1 candidate core not yet labelled, > 0 component id.
  // Labels: -1 core candidate, -2 weak candidate (grown into from a core only: hysteresis).
  // The thresholds rise where the slice's own tissue at that distance from the table is bright
  // (beam hardening and bone blooming of real scanners light up the whole cortical rim).
  const prof = tableProfile(g, skull, smooth, backgroundHu);
  const label = new Int32Array(N);
  const weak = ICH.bloodWeakHu;
  const excess = ICH.minExcessHu;
  for (let k = 0; k < nz; k++) {
    if (skull.sliceArea[k] === 0) continue;
    const pk = k * PROFILE_BINS;
    for (let p = k * n, e = (k + 1) * n; p < e; p++) {
      if (!ic[p] || excl[p]) continue;
      const d = dist[p]!;
      if (d <= band) continue;
      const x = smooth[p]!;
      if (x < weak || x > hi) continue;
      const b = d >= PROFILE_BINS * 10 ? PROFILE_BINS - 1 : (d / 10) | 0;
      const base = prof[pk + b]!;
      if (x >= lo && x >= base + excess) label[p] = -1;
      else if (x >= base + excess - 6) label[p] = -2;
    }
  }
  const offs: [number, number][] = [];
  for (let k = 0; k < nz; k++) {
    const [dxu, dyu] = k + 1 < nz ? sliceOffset(g, k, k + 1) : [0, 0];
    offs.push([dxu, dyu]);
  }
  const queue = new Int32Array(Math.min(N, 1 << 24));
  const components: Component[] = [];
  const groups: Group[] = [];
  const nearD = (ICH.bandMm + 1) * 10;
  const growSteps = Math.ceil((ICH.bandMm + 1) / Math.min(g.sx, g.sy));
  let id = 0;
  for (let s = 0; s < N; s++) {
    if (label[s] !== -1) continue;
    id++;
    let head = 0;
    let tail = 0;
    label[s] = id;
    queue[tail++] = s;
    while (head < tail) {
      const p = queue[head++]!;
      const k = (p / n) | 0;
      const r = p - k * n;
      const j = (r / nx) | 0;
      const i = r - j * nx;
      for (let dj = -1; dj <= 1; dj++) {
        const jj = j + dj;
        if (jj < 0 || jj >= ny) continue;
        for (let di = -1; di <= 1; di++) {
          const ii = i + di;
          if (ii < 0 || ii >= nx) continue;
          const q = k * n + jj * nx + ii;
          if (label[q]! < 0 && tail < queue.length) { label[q] = id; queue[tail++] = q; }
        }
      }
      if (k + 1 < nz) {
        const [dx, dy] = offs[k]!;
        const ii = i - dx, jj = j - dy;
        if (ii >= 0 && ii < nx && jj >= 0 && jj < ny) {
          const q = (k + 1) * n + jj * nx + ii;
          if (label[q]! < 0 && tail < queue.length) { label[q] = id; queue[tail++] = q; }
        }
      }
      if (k > 0) {
        const [dx, dy] = offs[k - 1]!;
        const ii = i + dx, jj = j + dy;
        if (ii >= 0 && ii < nx && jj >= 0 && jj < ny) {
          const q = (k - 1) * n + jj * nx + ii;
          if (label[q]! < 0 && tail < queue.length) { label[q] = id; queue[tail++] = q; }
        }
      }
    }
    // Regrow into the band, in-plane, at most growSteps pixels. (Before the size check: a thin
    // subdural of 1.5-2 mm has most of its voxels in the band, and only a few seeds just deeper.)
    let levelEnd = tail;
    head = 0;
    for (let step = 0; step < growSteps && head < tail; step++) {
      levelEnd = tail;
      while (head < levelEnd) {
        const p = queue[head++]!;
        const k = (p / n) | 0;
        const r = p - k * n;
        const j = (r / nx) | 0;
        const i = r - j * nx;
        for (let dj = -1; dj <= 1; dj++) {
          const jj = j + dj;
          if (jj < 0 || jj >= ny) continue;
          for (let di = -1; di <= 1; di++) {
            const ii = i + di;
            if (ii < 0 || ii >= nx) continue;
            const q = k * n + jj * nx + ii;
            if (label[q] !== 0 || !ic[q] || excl[q] || dist[q]! > band) continue;
            const x = smooth[q]!;
            if (x < weak || x > hi) continue;
            label[q] = id;
            if (tail < queue.length) queue[tail++] = q;
          }
        }
      }
    }
    // Cheap size check before the measures: most groups are noise specks. (Groups against the table
    // are kept for linkTableLayers: a thin layer can be split into one small group per slab.)
    let ml = 0;
    let near = false;
    for (let t = 0; t < tail; t++) {
      ml += g.voxelMl[(queue[t]! / n) | 0]!;
      if (dist[queue[t]!]! <= nearD) near = true;
    }
    if (ml < ICH.minFindingMl * 0.5 && !near) continue;
    groups.push({ id, voxels: queue.slice(0, tail) });
  }
  // Linking was measured on binned grids of 0.9 to 1 mm pixels only (every benchmark case and the
  // real GE series); on a coarse 1.2 mm grid (a 192 x 192 head) it joined the table's partial
  // volume into two 0.4 mL parietal groups of a normal phantom: unlinked there until measured.
  const linked = Math.max(g.sx, g.sy) <= LINK_MAX_PIXEL_MM ? linkTableLayers(g, dist, label, groups, offs, nearD) : groups;
  for (const gr of linked) {
    let ml = 0;
    for (let t = 0; t < gr.voxels.length; t++) ml += g.voxelMl[(gr.voxels[t]! / n) | 0]!;
    if (ml < ICH.minFindingMl * 0.5) continue;
    components.push(measure(g, skull, smooth, gr.voxels, midline, label, gr.id, backgroundHu));
  }
  return { components, backgroundHu, calcVoxels };
}

function measure(g: Grid, skull: Skull, smooth: Int16Array, voxels: Int32Array, midline: Midline, label: Int32Array, id: number, bg: number): Component {
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
