import type { IchSubtype } from '../types.js';
import type { Component } from './component.js';
import type { Grid } from './grid.js';
import type { Midline } from './midline.js';
import type { Skull } from './skull.js';

/** Extent of the cavity, working-grid coordinates, for the coarse region rule. */
export interface CavityBox {
  i0: number; i1: number; j0: number; j1: number; k0: number; k1: number;
}

export function cavityBox(g: Grid, skull: Skull): CavityBox {
  const { nx, ny, nz } = g;
  const n = nx * ny;
  let i0 = nx, i1 = -1, j0 = ny, j1 = -1, k0 = nz, k1 = -1;
  for (let k = 0; k < nz; k++) {
    if (!skull.sliceArea[k]) continue;
    if (k < k0) k0 = k;
    k1 = k;
    const o = k * n;
    for (let j = 0; j < ny; j++) {
      const r = o + j * nx;
      for (let i = 0; i < nx; i++) if (skull.ic[r + i]) {
        if (i < i0) i0 = i;
        if (i > i1) i1 = i;
        if (j < j0) j0 = j;
        if (j > j1) j1 = j;
      }
    }
  }
  return { i0, i1, j0, j1, k0, k1 };
}

/**
 * Subtype by position and shape:
 * - extra-axial when much of it lies against the inner table; epidural when lens-shaped (thick for
 *   its volume: maxThickness^3 / volume large), subdural when crescentic (thin and long);
 * - subarachnoid when thin (small inner radius) and bordered by CSF (sulci, cisterns);
 * - intraventricular when bordered by CSF but compact and deep (the ventricles);
 * - intraparenchymal otherwise.
 */
export function classify(c: Component, box: CavityBox, midline: Midline, slicesGoUp: boolean, rowsGoPosterior: boolean): IchSubtype {
  const volMm3 = Math.max(1, c.pvVolumeMl * 1000);
  const lens = c.maxDistMm ** 3 / volMm3;
  if (c.contactFraction >= 0.1 && c.maxDistMm < 45 && c.maxDistMm >= 2.5) {
    if (lens <= 0.1) return c.contactFraction >= 0.2 ? 'subdural' : 'intraparenchymal';
    if (c.innerRadiusMm <= 2.5 || (c.fill < 0.13 && c.innerRadiusMm < 4)) return 'subarachnoid';
    if (lens < 1.5) return 'epidural';
  }
  const total = c.plusX + c.minusX;
  const { h } = place(c, box, midline, slicesGoUp, rowsGoPosterior);
  // Across the midline low in the head and not a solid mass: the basal cisterns.
  if (total > 0 && Math.min(c.plusX, c.minusX) >= 0.25 * total && h < 0.5 && c.innerRadiusMm <= 14) return 'subarachnoid';
  // Sparse and thin: sulcal or fissural blood.
  if (c.fill < 0.2 && c.innerRadiusMm <= 5) return 'subarachnoid';
  if (c.maxDistMm > 25 && (c.csfNear >= 0.35 || inAtrium(c, box, midline, slicesGoUp, rowsGoPosterior))) return 'intraventricular';
  return 'intraparenchymal';
}

/**
 * Whether the centroid lies where the atria and occipital horns of the lateral ventricles are
 * (fractions of the cavity extent): blood in a supine patient's ventricles settles there, and
 * filled with blood the ventricle shows no CSF to recognise it by.
 */
function inAtrium(c: Component, box: CavityBox, midline: Midline, slicesGoUp: boolean, rowsGoPosterior: boolean): boolean {
  const { h, ap, lateral } = place(c, box, midline, slicesGoUp, rowsGoPosterior);
  return lateral >= 0.05 && lateral <= 0.45 && ap >= 0.62 && ap <= 0.76 && h >= 0.42 && h <= 0.72;
}

function place(c: Component, box: CavityBox, midline: Midline, slicesGoUp: boolean, rowsGoPosterior: boolean): { h: number; ap: number; lateral: number } {
  let h = box.k1 > box.k0 ? (c.ck - box.k0) / (box.k1 - box.k0) : 0.5;
  if (!slicesGoUp) h = 1 - h; // 0 = base, 1 = vertex
  let ap = box.j1 > box.j0 ? (c.cj - box.j0) / (box.j1 - box.j0) : 0.5;
  if (!rowsGoPosterior) ap = 1 - ap; // 0 = anterior, 1 = posterior
  const half = (box.i1 - box.i0) / 2 || 1;
  const lateral = Math.abs(c.ci - (midline.a + midline.b * c.cj)) / half; // 0 midline .. 1 table
  return { h, ap, lateral };
}

/** Side from the voxels on each side of the midline. rowSign: +1 when image x increases toward patient left. */
export function sideOf(c: Component, rowSign: number, widthMidlinePx: number): 'left' | 'right' | 'bilateral' | 'midline' {
  const total = c.plusX + c.minusX;
  if (total === 0) return 'midline';
  const plus = c.plusX / total;
  const left = rowSign >= 0 ? plus : 1 - plus;
  if (left > 0.8) return 'left';
  if (left < 0.2) return 'right';
  // Across the midline: 'midline' when it straddles it narrowly (a few cm), else 'bilateral'.
  return c.i1 - c.i0 <= widthMidlinePx ? 'midline' : 'bilateral';
}

/** A coarse region from the centroid's place in the cavity (fractions of its extent). */
export function regionOf(c: Component, subtype: IchSubtype, box: CavityBox, midline: Midline, rowsGoPosterior: boolean, slicesGoUp: boolean): string {
  if (subtype === 'intraventricular') return 'lateral ventricle';
  const { h, ap, lateral } = place(c, box, midline, slicesGoUp, rowsGoPosterior);
  if (subtype === 'subarachnoid' && h < 0.45 && lateral < 0.2) return 'basal cisterns';
  if (h < 0.25 && ap > 0.6) return 'posterior fossa';
  if (subtype === 'intraparenchymal' && lateral < 0.45 && h >= 0.25 && h < 0.6 && ap > 0.3 && ap < 0.75) {
    return ap < 0.55 ? 'basal ganglia' : 'thalamus';
  }
  if (ap < 0.35) return 'frontal';
  if (ap > 0.72) return 'occipital';
  if (h < 0.45 && lateral > 0.5) return 'temporal';
  return 'parietal';
}

/** 0..1 from the contrast against brain and the size. */
export function confidenceOf(c: Component, backgroundHu: number): number {
  const contrast = Math.min(1, Math.max(0, (c.meanHu - backgroundHu - 12) / 25));
  const size = Math.min(1, c.volumeMl / 1.0);
  return Math.round((0.35 + 0.4 * contrast + 0.25 * size) * 100) / 100;
}
