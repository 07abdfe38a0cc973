import { sliceOffset, type Grid } from './grid.js';
import { chamferDistance, chamferWeights, floodFromBorder, label2D } from './morph.js';
import { ICH } from './params.js';

/** The skull and what it encloses, on the working grid. */
export interface Skull {
  /** 1 = bone (> ICH.boneHu). */
  bone: Uint8Array;
  /** 1 = intracranial: enclosed by the skull ring, not bone, not air. */
  ic: Uint8Array;
  /**
   * Distance from the inner table, 0.1 mm: in-plane chamfer distance to anything not intracranial or
   * to bone of the adjacent slices (which lies over the voxel at the vertex and the skull base).
   */
  dist: Uint16Array;
  /** Intracranial volume, mL, and the part of it with brain-like values (0-80 HU). */
  cavityMl: number;
  brainMl: number;
  /** Number of intracranial pixels per slice. */
  sliceArea: Int32Array;
}

/**
 * Per slice: bone mask; the cavity as the pixels the border cannot reach through non-bone
 * (2D hole filling); when the ring is open (skull base, foramen magnum, a burr hole) a closing of the
 * bone by ICH.closeMm is tried; enclosed pockets that are small or mostly not soft tissue (sinuses,
 * mastoid air cells, orbits' fat) are dropped.
 */
export function findSkull(g: Grid): Skull {
  const { nx, ny, nz, hu } = g;
  const n = nx * ny;
  const bone = new Uint8Array(n * nz);
  const ic = new Uint8Array(n * nz);
  const dist = new Uint16Array(n * nz);
  const sliceArea = new Int32Array(nz);
  const reached = new Uint8Array(n);
  const closed = new Uint8Array(n);
  const interior = new Uint8Array(n);
  const labels = new Int32Array(n);
  const stack = new Int32Array(n);
  const d16 = new Uint16Array(n);
  const w = chamferWeights(g.sx, g.sy);
  const closeR = ICH.closeMm * 10;
  const minCavityPx = (ICH.minCavityCm2 * 100) / (g.sx * g.sy);
  let cavityMl = 0;
  let brainMl = 0;
  for (let k = 0; k < nz; k++) {
    const o = k * n;
    const b = bone.subarray(o, o + n);
    let boneCount = 0;
    let headCount = 0;
    for (let p = 0; p < n; p++) {
      const x = hu[o + p]!;
      if (x > ICH.boneHu) { b[p] = 1; boneCount++; }
      if (x > -300) headCount++;
    }
    if (boneCount * g.sx * g.sy < 100) continue; // under 1 cm2 of bone: no skull in this slice
    floodFromBorder(b, nx, ny, reached, stack);
    let area = 0;
    for (let p = 0; p < n; p++) { const v = !reached[p] && !b[p] ? 1 : 0; interior[p] = v; area += v; }
    let blocked: Uint8Array = b;
    if (area < 0.25 * headCount) {
      // Open ring: close the bone (dilate then erode by closeMm) and fill again.
      chamferDistance(b, nx, ny, w, d16);
      for (let p = 0; p < n; p++) closed[p] = d16[p]! > closeR ? 1 : 0; // not dilated
      chamferDistance(closed, nx, ny, w, d16);
      for (let p = 0; p < n; p++) closed[p] = d16[p]! > closeR ? 1 : 0; // closed bone
      floodFromBorder(closed, nx, ny, reached, stack);
      for (let p = 0; p < n; p++) interior[p] = !reached[p] && !closed[p] ? 1 : 0;
      blocked = closed;
    }
    void blocked;
    const sizes = label2D(interior, nx, ny, labels, stack);
    if (sizes.length <= 1) continue;
    const soft = new Int32Array(sizes.length);
    for (let p = 0; p < n; p++) {
      const l = labels[p]!;
      if (l) { const x = hu[o + p]!; if (x >= -20 && x <= 100) soft[l]!++; }
    }
    const keep = new Uint8Array(sizes.length);
    for (let l = 1; l < sizes.length; l++) keep[l] = sizes[l]! >= minCavityPx && soft[l]! >= 0.6 * sizes[l]! ? 1 : 0;
    const ml = g.voxelMl[k]!;
    let a = 0;
    for (let p = 0; p < n; p++) {
      const l = labels[p]!;
      if (!l || !keep[l]) continue;
      const x = hu[o + p]!;
      if (x < -200) continue; // air inside the cavity is not brain
      ic[o + p] = 1;
      a++;
      if (x >= ICH.brainLoHu && x <= ICH.brainHiHu) brainMl += ml;
    }
    sliceArea[k] = a;
    cavityMl += a * ml;
  }
  // Distance from the table: in-plane, from non-intracranial pixels and from the neighbours' bone.
  const ext = new Uint8Array(n);
  let maxArea = 0;
  for (let k = 0; k < nz; k++) if (sliceArea[k]! > maxArea) maxArea = sliceArea[k]!;
  for (let k = 0; k < nz; k++) {
    const o = k * n;
    if (sliceArea[k] === 0) { dist.fill(0, o, o + n); continue; }
    for (let p = 0; p < n; p++) ext[p] = ic[o + p] ? 0 : 1;
    // Where the skull is cut obliquely (vertex, skull base: small cavity sections) bone of the
    // neighbouring slices lies over the voxel and its partial volume spreads far in the plane;
    // elsewhere the in-plane band suffices, and marking the neighbours' bone would erase
    // convexity subdurals under the curving skull.
    const oblique = sliceArea[k]! < 0.3 * maxArea;
    for (const m of oblique ? [k - 1, k + 1] : []) {
      if (m < 0 || m >= nz) continue;
      const [dx, dy] = sliceOffset(g, k, m);
      const om = m * n;
      for (let j = 0; j < ny; j++) {
        const jm = j - dy;
        if (jm < 0 || jm >= ny) continue;
        for (let i = 0; i < nx; i++) {
          const im = i - dx;
          if (im < 0 || im >= nx) continue;
          if (bone[om + jm * nx + im]) ext[j * nx + i] = 1;
        }
      }
    }
    chamferDistance(ext, nx, ny, w, dist.subarray(o, o + n));
  }
  return { bone, ic, dist, cavityMl, brainMl, sliceArea };
}
