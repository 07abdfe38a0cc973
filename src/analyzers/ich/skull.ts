import { sliceOffset, type Grid } from './grid.js';
import { chamferDistance, chamferWeights, floodFromBorder, label2D, type Chamfer } from './morph.js';
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
  // Per-slice work happens on the head's bounding box (plus one pixel of air), copied into these.
  const cb = new Uint8Array(n);
  const reached = new Uint8Array(n);
  const closed = new Uint8Array(n);
  const interior = new Uint8Array(n);
  const labels = new Int32Array(n);
  const stack = new Int32Array(n);
  const d16 = new Uint16Array(n);
  const boxes = new Int32Array(nz * 4);
  const w = chamferWeights(g.sx, g.sy);
  const closeR = ICH.closeMm * 10;
  const minCavityPx = (ICH.minCavityCm2 * 100) / (g.sx * g.sy);
  const t: SliceWork = { g, bone, ic, sliceArea, boxes, cb, reached, closed, interior, labels, stack, d16, w, closeR, minCavityPx, cavityMl: 0, brainMl: 0 };
  for (let k = 0; k < nz; k++) cavitySlice(t, k);
  const { cavityMl, brainMl } = t;
  // Distance from the table: in-plane, from non-intracranial pixels and (oblique slices) from the
  // neighbours' bone, on the head's box; pixels outside the box are not intracranial (distance 0).
  let maxArea = 0;
  for (let k = 0; k < nz; k++) if (sliceArea[k]! > maxArea) maxArea = sliceArea[k]!;
  for (let k = 0; k < nz; k++) {
    if (sliceArea[k] === 0) continue;
    const o = k * n;
    const i0 = boxes[4 * k]!, j0 = boxes[4 * k + 1]!, bw = boxes[4 * k + 2]!, bh = boxes[4 * k + 3]!, bn = bw * bh;
    for (let j = 0; j < bh; j++) {
      const r = o + (j + j0) * nx + i0;
      for (let i = 0; i < bw; i++) cb[j * bw + i] = ic[r + i] ? 0 : 1;
    }
    // Where the skull is cut obliquely (vertex, skull base: small cavity sections) bone of the
    // neighbouring slices lies over the voxel and its partial volume spreads far in the plane;
    // elsewhere the in-plane band suffices, and marking the neighbours' bone would erase
    // convexity subdurals under the curving skull.
    const oblique = sliceArea[k]! < 0.3 * maxArea;
    for (const m of oblique ? [k - 1, k + 1] : []) {
      if (m < 0 || m >= nz) continue;
      const [dx, dy] = sliceOffset(g, k, m);
      const om = m * n;
      for (let j = 0; j < bh; j++) {
        const jm = j + j0 - dy;
        if (jm < 0 || jm >= ny) continue;
        for (let i = 0; i < bw; i++) {
          const im = i + i0 - dx;
          if (im < 0 || im >= nx) continue;
          if (bone[om + jm * nx + im]) cb[j * bw + i] = 1;
        }
      }
    }
    chamferDistance(cb.subarray(0, bn), bw, bh, w, d16);
    for (let j = 0; j < bh; j++) {
      const r = o + (j + j0) * nx + i0;
      dist.set(d16.subarray(j * bw, (j + 1) * bw), r);
    }
  }
  return { bone, ic, dist, cavityMl, brainMl, sliceArea };
}

/** Buffers and results shared by the per-slice steps (one call per slice keeps the JIT warm from the first series). */
interface SliceWork {
  g: Grid;
  bone: Uint8Array;
  ic: Uint8Array;
  sliceArea: Int32Array;
  boxes: Int32Array;
  cb: Uint8Array;
  reached: Uint8Array;
  closed: Uint8Array;
  interior: Uint8Array;
  labels: Int32Array;
  stack: Int32Array;
  d16: Uint16Array;
  w: Chamfer;
  closeR: number;
  minCavityPx: number;
  cavityMl: number;
  brainMl: number;
}

/** Bone, head box, cavity (hole filling, closing when open) and its soft-tissue check for slice k. */
function cavitySlice(t: SliceWork, k: number): void {
  const { g, bone, ic, sliceArea, boxes, cb, reached, closed, interior, labels, stack, d16, w, closeR, minCavityPx } = t;
  const { nx, ny, hu } = g;
  const n = nx * ny;
  const o = k * n;
  let boneCount = 0;
  let headCount = 0;
  let i0 = nx, i1 = -1, j0 = ny, j1 = -1;
  for (let j = 0; j < ny; j++) {
    const r = o + j * nx;
    let rowHead = false;
    for (let i = 0; i < nx; i++) {
      const x = hu[r + i]!;
      if (x > -300) {
        headCount++;
        rowHead = true;
        if (i < i0) i0 = i;
        if (i > i1) i1 = i;
        if (x > ICH.boneHu) { bone[r + i] = 1; boneCount++; }
      }
    }
    if (rowHead) { if (j < j0) j0 = j; j1 = j; }
  }
  if (boneCount * g.sx * g.sy < 100) return; // under 1 cm2 of bone: no skull in this slice
  i0 = Math.max(0, i0 - 1); j0 = Math.max(0, j0 - 1); i1 = Math.min(nx - 1, i1 + 1); j1 = Math.min(ny - 1, j1 + 1);
  const bw = i1 - i0 + 1, bh = j1 - j0 + 1, bn = bw * bh;
  boxes[4 * k] = i0; boxes[4 * k + 1] = j0; boxes[4 * k + 2] = bw; boxes[4 * k + 3] = bh;
  for (let j = 0; j < bh; j++) {
    const src = o + (j + j0) * nx + i0;
    for (let i = 0; i < bw; i++) cb[j * bw + i] = bone[src + i]!;
  }
  floodFromBorder(cb.subarray(0, bn), bw, bh, reached, stack);
  let area = 0;
  for (let p = 0; p < bn; p++) { const v = !reached[p] && !cb[p] ? 1 : 0; interior[p] = v; area += v; }
  if (area < 0.25 * headCount) {
    // Open ring: close the bone (dilate then erode by closeMm) and fill again.
    chamferDistance(cb.subarray(0, bn), bw, bh, w, d16);
    for (let p = 0; p < bn; p++) closed[p] = d16[p]! > closeR ? 1 : 0; // not dilated
    chamferDistance(closed.subarray(0, bn), bw, bh, w, d16);
    for (let p = 0; p < bn; p++) closed[p] = d16[p]! > closeR ? 1 : 0; // closed bone
    floodFromBorder(closed.subarray(0, bn), bw, bh, reached, stack);
    for (let p = 0; p < bn; p++) interior[p] = !reached[p] && !closed[p] ? 1 : 0;
  }
  const sizes = label2D(interior.subarray(0, bn), bw, bh, labels, stack);
  if (sizes.length <= 1) return;
  const soft = new Int32Array(sizes.length);
  for (let j = 0; j < bh; j++) {
    const r = o + (j + j0) * nx + i0;
    for (let i = 0; i < bw; i++) {
      const l = labels[j * bw + i]!;
      if (l) { const x = hu[r + i]!; if (x >= -20 && x <= 100) soft[l]!++; }
    }
  }
  const keep = new Uint8Array(sizes.length);
  for (let l = 1; l < sizes.length; l++) keep[l] = sizes[l]! >= minCavityPx && soft[l]! >= 0.6 * sizes[l]! ? 1 : 0;
  const ml = g.voxelMl[k]!;
  let a = 0;
  for (let j = 0; j < bh; j++) {
    const r = o + (j + j0) * nx + i0;
    for (let i = 0; i < bw; i++) {
      const l = labels[j * bw + i]!;
      if (!l || !keep[l]) continue;
      const x = hu[r + i]!;
      if (x < -200) continue; // air inside the cavity is not brain
      ic[r + i] = 1;
      a++;
      if (x >= ICH.brainLoHu && x <= ICH.brainHiHu) t.brainMl += ml;
    }
  }
  sliceArea[k] = a;
  t.cavityMl += a * ml;
}
