import type { Grid } from './grid.js';
import type { Skull } from './skull.js';

/** Midline of the intracranial cavity: image column x = a + b * row, working pixels. */
export interface Midline { a: number; b: number }

/**
 * The mid-sagittal line of the cavity, from the skull's left-right symmetry: on the slices with the
 * largest cavity (the upper half of the brain, where the skull is an oval), the centre of each row's
 * intracranial run, fitted as column = a + b * row by least squares (a rotated head gives b != 0).
 */
export function fitMidline(g: Grid, skull: Skull): Midline {
  const { nx, ny, nz } = g;
  const n = nx * ny;
  let maxArea = 0;
  for (let k = 0; k < nz; k++) if (skull.sliceArea[k]! > maxArea) maxArea = skull.sliceArea[k]!;
  if (maxArea === 0) return { a: nx / 2, b: 0 };
  let sw = 0, sj = 0, sx = 0, sjj = 0, sjx = 0;
  for (let k = 0; k < nz; k++) {
    if (skull.sliceArea[k]! < 0.6 * maxArea) continue;
    const o = k * n;
    let maxW = 0;
    const first = new Int32Array(ny).fill(-1);
    const last = new Int32Array(ny).fill(-1);
    for (let j = 0; j < ny; j++) {
      const r = o + j * nx;
      for (let i = 0; i < nx; i++) if (skull.ic[r + i]) { if (first[j] === -1) first[j] = i; last[j] = i; }
      if (first[j]! >= 0) maxW = Math.max(maxW, last[j]! - first[j]!);
    }
    for (let j = 0; j < ny; j++) {
      if (first[j]! < 0 || last[j]! - first[j]! < 0.5 * maxW) continue;
      const c = (first[j]! + last[j]!) / 2;
      sw++; sj += j; sx += c; sjj += j * j; sjx += j * c;
    }
  }
  if (sw < 3) return { a: nx / 2, b: 0 };
  const den = sw * sjj - sj * sj;
  const b = den > 0 ? (sw * sjx - sj * sx) / den : 0;
  const a = (sx - b * sj) / sw;
  return { a, b };
}

/**
 * Midline shift, mm: on the slices of the lateral ventricles (two CSF pools, < 18 HU, either side of
 * the midline in the middle of the cavity), the septum pellucidum is the tissue between them; its
 * median column against the skull's midline. Null when no slice shows both frontal horns.
 */
export function midlineShift(g: Grid, skull: Skull, smooth: Int16Array, midline: Midline): number | null {
  const { nx, ny, nz } = g;
  const n = nx * ny;
  const reach = Math.round(20 / g.sx); // search 20 mm either side
  const minGap = 1, maxGap = Math.max(2, Math.round(8 / g.sx));
  const found: number[] = [];
  for (let k = 0; k < nz; k++) {
    if (!skull.sliceArea[k]) continue;
    const o = k * n;
    for (let j = 0; j < ny; j++) {
      const mid = midline.a + midline.b * j;
      const i0 = Math.max(1, Math.round(mid - reach));
      const i1 = Math.min(nx - 2, Math.round(mid + reach));
      // Runs along the row: CSF (>= 3 px) | tissue (minGap..maxGap px) | CSF (>= 3 px), with the gap near the midline.
      let runStart = -1;
      let prevCsfEnd = -1;
      let prevCsfLen = 0;
      for (let i = i0; i <= i1 + 1; i++) {
        const p = o + j * nx + i;
        const csf = i <= i1 && skull.ic[p] && skull.dist[p]! > 150 && smooth[p]! < 18 && smooth[p]! > -20;
        if (csf && runStart < 0) runStart = i;
        if (!csf && runStart >= 0) {
          const len = i - runStart;
          if (len >= 3) {
            const gap = runStart - prevCsfEnd - 1;
            if (prevCsfEnd >= 0 && prevCsfLen >= 3 && gap >= minGap && gap <= maxGap) {
              found.push((prevCsfEnd + 1 + runStart - 1) / 2 - mid);
            }
            prevCsfEnd = i - 1;
            prevCsfLen = len;
          }
          runStart = -1;
        }
      }
    }
  }
  if (found.length < 5) return null;
  found.sort((a, b) => a - b);
  return Math.abs(found[found.length >> 1]!) * g.sx;
}
