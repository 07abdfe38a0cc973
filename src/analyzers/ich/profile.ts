import type { Grid } from './grid.js';
import type { Skull } from './skull.js';

/**
 * What brain tissue looks like in this series: the background level, and per slice the level at
 * each depth under the inner table (bone blooming and beam hardening of real scanners raise the
 * cortical rim, and the blood thresholds rise with it).
 */

/** Distance bins of the table profile, 1 mm each; the last holds everything deeper. */
export const PROFILE_BINS = 16;

/**
 * Per slice and per 1 mm of distance from the table, the 35th percentile of the denoised intracranial
 * values (-20..120 HU): what tissue at that depth looks like in this slice. Bins with few voxels
 * take the brain background. A bleed covering less than about two thirds of a slice's rim does not
 * move it.
 */
export function tableProfile(g: Grid, skull: Skull, smooth: Int16Array, bg: number): Float32Array {
  const { nx, ny, nz } = g;
  const n = nx * ny;
  const NV = 141;
  const hist = new Int32Array(PROFILE_BINS * NV);
  const prof = new Float32Array(nz * PROFILE_BINS).fill(bg);
  for (let k = 0; k < nz; k++) {
    if (skull.sliceArea[k] === 0) continue;
    hist.fill(0);
    const counts = new Int32Array(PROFILE_BINS);
    for (let p = k * n, e = (k + 1) * n; p < e; p++) {
      if (!skull.ic[p]) continue;
      const x = smooth[p]!;
      if (x < -20 || x > 120) continue;
      const d = skull.dist[p]!;
      const b = d >= PROFILE_BINS * 10 ? PROFILE_BINS - 1 : (d / 10) | 0;
      hist[b * NV + x + 20]!++;
      counts[b]!++;
    }
    for (let b = 0; b < PROFILE_BINS; b++) {
      if (counts[b]! < 40) continue;
      const target = 0.35 * counts[b]!;
      let acc = 0;
      for (let v = 0; v < NV; v++) {
        acc += hist[b * NV + v]!;
        if (acc >= target) { prof[k * PROFILE_BINS + b] = Math.max(bg, v - 20); break; }
      }
    }
  }
  return prof;
}

/** Median of brain tissue (15-50 HU, deeper than 10 mm): grey and white matter. */
export function brainBackground(skull: Skull, smooth: Int16Array, N: number): number {
  const hist = new Int32Array(36);
  let total = 0;
  for (let p = 0; p < N; p += 3) {
    if (!skull.ic[p] || skull.dist[p]! < 100) continue;
    const x = smooth[p]!;
    if (x >= 15 && x <= 50) { hist[x - 15]!++; total++; }
  }
  if (total === 0) return 35;
  let acc = 0;
  for (let t = 0; t < hist.length; t++) { acc += hist[t]!; if (acc * 2 >= total) return t + 15; }
  return 35;
}

