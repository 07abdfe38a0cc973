import type { Finding } from '../analyzers/types.js';
import type { Volume } from '../imaging/volume.js';

/** Where a finding's mask lies, slice by slice. */
export interface MaskSlices {
  /** Voxels in each slice of the volume (0 outside the finding's slice range). */
  counts: Int32Array;
  /** Bounding box of each slice's voxels as [x0, y0, x1, y1] (inclusive) at 4k; meaningless where the count is 0. */
  boxes: Int32Array;
}

/**
 * Counts a finding's mask voxels per slice and boxes them. Only the slices of `sliceRange` are read
 * (a 250-slice mask is 65 MB; a bleed spans a few dozen slices), four voxels at a time: most of a
 * slice is empty, and an empty word is one comparison.
 */
export function maskSlices(volume: Volume, f: Finding): MaskSlices {
  const [cols, rows, slices] = volume.dims;
  const n = cols * rows;
  const counts = new Int32Array(slices);
  const boxes = new Int32Array(slices * 4);
  const k0 = Math.max(0, Math.min(f.sliceRange[0], f.sliceRange[1]));
  const k1 = Math.min(slices - 1, Math.max(f.sliceRange[0], f.sliceRange[1]));
  const m = f.mask;
  const words = m.byteOffset % 4 === 0 && n % 4 === 0 ? new Uint32Array(m.buffer, m.byteOffset, m.length >> 2) : null;
  for (let k = k0; k <= k1; k++) {
    let c = 0;
    let x0 = cols;
    let y0 = rows;
    let x1 = -1;
    let y1 = -1;
    const visit = (i: number) => {
      c++;
      const p = i - k * n;
      const y = (p / cols) | 0;
      const x = p - y * cols;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    };
    if (words) {
      for (let w = (k * n) >> 2, e = w + (n >> 2); w < e; w++) {
        if (words[w] === 0) continue;
        const i = w << 2;
        for (let b = 0; b < 4; b++) if (m[i + b] !== 0) visit(i + b);
      }
    } else {
      for (let i = k * n, e = i + n; i < e; i++) if (m[i] !== 0) visit(i);
    }
    counts[k] = c;
    boxes.set([x0, y0, x1, y1], k * 4);
  }
  return { counts, boxes };
}
