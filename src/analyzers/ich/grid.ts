import type { Volume } from '../../imaging/volume.js';
import { ICH } from './params.js';

/**
 * The working grid: the volume at reduced in-plane resolution (2x2 block means when pixels are finer
 * than 0.7 mm), which quarters the work and halves the noise without losing bleeds of 0.4 mL
 * (about 80 working voxels at 5 mm slices). Outside-the-field voxels and padding are set to air.
 */
export interface Grid {
  nx: number;
  ny: number;
  nz: number;
  /** Full-resolution pixels per working pixel along x and y (1 or 2). */
  factor: number;
  /** Working pixel size, mm. */
  sx: number;
  sy: number;
  /** Slice location along the normal, mm, and the tissue span of each slice, mm. */
  z: Float64Array;
  span: Float64Array;
  /** Volume of one working voxel of each slice, mL. */
  voxelMl: Float64Array;
  /** In-plane shift of slice k+1 relative to slice k in working pixels (gantry tilt), x and y. */
  shiftX: Float64Array;
  shiftY: Float64Array;
  /** Working-resolution HU (air-clamped block means). */
  hu: Int16Array;
}

export function buildGrid(v: Volume): Grid {
  const [cols, rows, nz] = v.dims;
  const factor = v.pixelSpacing[0] < 0.7 && v.pixelSpacing[1] < 0.7 && cols >= 256 && rows >= 256 ? 2 : 1;
  const nx = Math.floor(cols / factor);
  const ny = Math.floor(rows / factor);
  const sx = v.pixelSpacing[0] * factor;
  const sy = v.pixelSpacing[1] * factor;
  const hu = new Int16Array(nx * ny * nz);
  const data = v.data;
  const outside = v.outside;
  const air = ICH.airHu;
  if (factor === 2) {
    for (let k = 0; k < nz; k++) {
      const base = k * cols * rows;
      let o = k * nx * ny;
      for (let j = 0; j < ny; j++) {
        const r0 = base + 2 * j * cols;
        const r1 = r0 + cols;
        for (let i = 0; i < nx; i++, o++) {
          const a = r0 + 2 * i;
          const b = r1 + 2 * i;
          let s0 = data[a]!, s1 = data[a + 1]!, s2 = data[b]!, s3 = data[b + 1]!;
          if (outside[a] || s0 < air) s0 = air;
          if (outside[a + 1] || s1 < air) s1 = air;
          if (outside[b] || s2 < air) s2 = air;
          if (outside[b + 1] || s3 < air) s3 = air;
          hu[o] = (s0 + s1 + s2 + s3 + 2) >> 2;
        }
      }
    }
  } else {
    for (let k = 0; k < nz; k++) {
      const base = k * cols * rows;
      let o = k * nx * ny;
      for (let j = 0; j < ny; j++) {
        const r = base + j * cols;
        for (let i = 0; i < nx; i++, o++) {
          const s = data[r + i]!;
          hu[o] = outside[r + i] || s < air ? air : s;
        }
      }
    }
  }
  const z = Float64Array.from(v.sliceLocations);
  const span = Float64Array.from(v.sliceSpan);
  const voxelMl = new Float64Array(nz);
  for (let k = 0; k < nz; k++) voxelMl[k] = (sx * sy * span[k]!) / 1000;
  const shiftX = new Float64Array(nz);
  const shiftY = new Float64Array(nz);
  for (let k = 0; k + 1 < nz; k++) {
    const p = v.slicePositions[k]!;
    const q = v.slicePositions[k + 1]!;
    const d = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
    shiftX[k] = (d[0]! * v.rowDirection[0] + d[1]! * v.rowDirection[1] + d[2]! * v.rowDirection[2]) / sx;
    shiftY[k] = (d[0]! * v.columnDirection[0] + d[1]! * v.columnDirection[1] + d[2]! * v.columnDirection[2]) / sy;
  }
  return { nx, ny, nz, factor, sx, sy, z, span, voxelMl, shiftX, shiftY, hu };
}

/**
 * In-plane offset (working pixels, rounded) from slice k to slice m: a voxel (i, j) of slice k lies
 * over (i - dx, j - dy) of slice m. Zero without tilt.
 */
export function sliceOffset(g: Grid, k: number, m: number): [number, number] {
  let dx = 0;
  let dy = 0;
  if (m > k) for (let t = k; t < m; t++) { dx += g.shiftX[t]!; dy += g.shiftY[t]!; }
  else for (let t = m; t < k; t++) { dx -= g.shiftX[t]!; dy -= g.shiftY[t]!; }
  return [Math.round(dx), Math.round(dy)];
}

/**
 * Denoises the working grid for thresholding: a 3x3 mean over soft-tissue neighbours only
 * (normalised convolution, so bone and air do not smear into the brain), then, for slices closer
 * than 2 mm, a [1 2 1] mean across slices. Pixels with no soft neighbour keep their value.
 */
export function denoise(g: Grid): Int16Array {
  const { nx, ny, nz, hu } = g;
  const n = nx * ny;
  const out = new Int16Array(hu.length);
  const rowSum = new Int32Array(n);
  const rowCnt = new Int32Array(n);
  const lo = ICH.softLoHu;
  const hi = ICH.softHiHu;
  for (let k = 0; k < nz; k++) {
    const base = k * n;
    // Horizontal 3-sums of soft values and counts.
    for (let j = 0; j < ny; j++) {
      const r = base + j * nx;
      const rr = j * nx;
      for (let i = 0; i < nx; i++) {
        let s = 0, c = 0;
        const i0 = i > 0 ? i - 1 : 0;
        const i1 = i < nx - 1 ? i + 1 : nx - 1;
        for (let t = i0; t <= i1; t++) {
          const x = hu[r + t]!;
          if (x >= lo && x <= hi) { s += x; c++; }
        }
        rowSum[rr + i] = s;
        rowCnt[rr + i] = c;
      }
    }
    for (let j = 0; j < ny; j++) {
      const j0 = j > 0 ? j - 1 : 0;
      const j1 = j < ny - 1 ? j + 1 : ny - 1;
      const r = base + j * nx;
      for (let i = 0; i < nx; i++) {
        let s = 0, c = 0;
        for (let t = j0; t <= j1; t++) { s += rowSum[t * nx + i]!; c += rowCnt[t * nx + i]!; }
        const x = hu[r + i]!;
        out[r + i] = c > 0 && x >= lo && x <= hi ? Math.round(s / c) : x;
      }
    }
  }
  // Across slices: only where slices are thin (noise per slice is then high and blood spans several).
  if (nz >= 3) {
    const mids: number[] = [];
    for (let k = 0; k + 1 < nz; k++) mids.push(g.z[k + 1]! - g.z[k]!);
    mids.sort((a, b) => a - b);
    const median = mids[mids.length >> 1]!;
    if (median < 2) {
      const prev = new Int16Array(n);
      const cur = new Int16Array(n);
      prev.set(out.subarray(0, n));
      for (let k = 1; k + 1 < nz; k++) {
        cur.set(out.subarray(k * n, (k + 1) * n));
        const nb = (k + 1) * n;
        const o = k * n;
        for (let p = 0; p < n; p++) {
          const c = cur[p]!;
          if (c < lo || c > hi) continue;
          const a = prev[p]!;
          const b = out[nb + p]!;
          if (a < lo || a > hi || b < lo || b > hi) continue;
          out[o + p] = (a + 2 * c + b + 2) >> 2;
        }
        prev.set(cur);
      }
    }
  }
  return out;
}
