/**
 * 2D binary morphology on one slice (nx by ny, x fastest), with buffers passed in so that nothing is
 * allocated per slice. Masks are Uint8Array views of 0/1.
 */

/** Chamfer weights in 0.1 mm for pixels of sx by sy mm. */
export interface Chamfer {
  ax: number;
  ay: number;
  ad: number;
}

export function chamferWeights(sx: number, sy: number): Chamfer {
  return { ax: Math.round(sx * 10), ay: Math.round(sy * 10), ad: Math.round(Math.hypot(sx, sy) * 10) };
}

const FAR = 65535;

/**
 * Two-pass 3x3 chamfer distance (0.1 mm units, at most 6553 mm) from the pixels where
 * `source` is 1 (distance 0 there). `out` has nx*ny entries.
 */
export function chamferDistance(source: Uint8Array, nx: number, ny: number, w: Chamfer, out: Uint16Array): void {
  const { ax, ay, ad } = w;
  const n = nx * ny;
  for (let p = 0; p < n; p++) out[p] = source[p] ? 0 : FAR;
  for (let j = 0; j < ny; j++) {
    const r = j * nx;
    for (let i = 0; i < nx; i++) {
      const p = r + i;
      let d = out[p]!;
      if (d === 0) continue;
      if (i > 0) { const c = out[p - 1]! + ax; if (c < d) d = c; }
      if (j > 0) {
        const q = p - nx;
        let c = out[q]! + ay; if (c < d) d = c;
        if (i > 0) { c = out[q - 1]! + ad; if (c < d) d = c; }
        if (i < nx - 1) { c = out[q + 1]! + ad; if (c < d) d = c; }
      }
      out[p] = d > FAR ? FAR : d;
    }
  }
  for (let j = ny - 1; j >= 0; j--) {
    const r = j * nx;
    for (let i = nx - 1; i >= 0; i--) {
      const p = r + i;
      let d = out[p]!;
      if (d === 0) continue;
      if (i < nx - 1) { const c = out[p + 1]! + ax; if (c < d) d = c; }
      if (j < ny - 1) {
        const q = p + nx;
        let c = out[q]! + ay; if (c < d) d = c;
        if (i > 0) { c = out[q - 1]! + ad; if (c < d) d = c; }
        if (i < nx - 1) { c = out[q + 1]! + ad; if (c < d) d = c; }
      }
      out[p] = d;
    }
  }
}

/**
 * Marks in `reached` (0/1) every pixel 4-connected to the image border through pixels where
 * `blocked` is 0. `stack` needs nx*ny entries.
 */
export function floodFromBorder(blocked: Uint8Array, nx: number, ny: number, reached: Uint8Array, stack: Int32Array): void {
  reached.fill(0);
  let top = 0;
  const last = (ny - 1) * nx;
  for (let i = 0; i < nx; i++) {
    if (!blocked[i] && !reached[i]) { reached[i] = 1; stack[top++] = i; }
    const q = last + i;
    if (!blocked[q] && !reached[q]) { reached[q] = 1; stack[top++] = q; }
  }
  for (let j = 0; j < ny; j++) {
    const a = j * nx, b = a + nx - 1;
    if (!blocked[a] && !reached[a]) { reached[a] = 1; stack[top++] = a; }
    if (!blocked[b] && !reached[b]) { reached[b] = 1; stack[top++] = b; }
  }
  while (top > 0) {
    const p = stack[--top]!;
    const i = p % nx;
    let q = p - 1;
    if (i > 0 && !blocked[q] && !reached[q]) { reached[q] = 1; stack[top++] = q; }
    q = p + 1;
    if (i < nx - 1 && !blocked[q] && !reached[q]) { reached[q] = 1; stack[top++] = q; }
    q = p - nx;
    if (p >= nx && !blocked[q] && !reached[q]) { reached[q] = 1; stack[top++] = q; }
    q = p + nx;
    if (p < last && !blocked[q] && !reached[q]) { reached[q] = 1; stack[top++] = q; }
  }
}

/**
 * Labels the 4-connected components of `mask` (labels 1..count in `labels`, 0 elsewhere) and
 * returns their pixel counts (index 0 unused).
 */
export function label2D(mask: Uint8Array, nx: number, ny: number, labels: Int32Array, stack: Int32Array): number[] {
  const n = nx * ny;
  labels.fill(0, 0, n);
  const sizes = [0];
  let next = 0;
  for (let s = 0; s < n; s++) {
    if (!mask[s] || labels[s]) continue;
    next++;
    let size = 0;
    let top = 0;
    labels[s] = next;
    stack[top++] = s;
    while (top > 0) {
      const p = stack[--top]!;
      size++;
      const i = p % nx;
      if (i > 0 && mask[p - 1] && !labels[p - 1]) { labels[p - 1] = next; stack[top++] = p - 1; }
      if (i < nx - 1 && mask[p + 1] && !labels[p + 1]) { labels[p + 1] = next; stack[top++] = p + 1; }
      if (p >= nx && mask[p - nx] && !labels[p - nx]) { labels[p - nx] = next; stack[top++] = p - nx; }
      if (p < n - nx && mask[p + nx] && !labels[p + nx]) { labels[p + nx] = next; stack[top++] = p + nx; }
    }
    sizes.push(size);
  }
  return sizes;
}
