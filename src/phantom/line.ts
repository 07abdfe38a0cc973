/**
 * Primitives of the phantom's line renderer. The anatomy is a set of continuous shapes; every
 * image row of a (possibly tilted) slice is a line parallel to the patient x axis at a fixed (y, z),
 * so each shape meets it in x intervals computed in closed form. Painting an interval with its
 * fractional coverage at the two end pixels anti-aliases edges along x; averaging several such
 * sub-lines (across the row height and the slice thickness) anti-aliases y and z: partial volume
 * like a real scanner's, without per-voxel objects.
 */

/** A line buffer of one sub-line: values in HU plus the bleed coverage (0..1) and which bleed (1-based). */
export interface LineBuffer {
  hu: Float32Array;
  /** Coverage of bleeds, only maintained when the renderer tracks labels. */
  bleed: Float32Array | null;
  bleedId: Uint8Array | null;
  /** Anatomical x of the centre of pixel 0, mm, and anatomical pixel width, mm. */
  x0: number;
  dx: number;
}

export function createLine(columns: number, labels: boolean): LineBuffer {
  return {
    hu: new Float32Array(columns),
    bleed: labels ? new Float32Array(columns) : null,
    bleedId: labels ? new Uint8Array(columns) : null,
    x0: 0,
    dx: 1,
  };
}

/**
 * Paints [xa, xb] (anatomical mm) with `value`: full pixels are overwritten, the two end pixels are
 * blended by the fraction of the pixel the interval covers.
 */
export function paint(line: LineBuffer, xa: number, xb: number, value: number): void {
  if (!(xb > xa)) return;
  const hu = line.hu;
  const n = hu.length;
  const f0 = (xa - line.x0) / line.dx + 0.5;
  const f1 = (xb - line.x0) / line.dx + 0.5;
  if (f1 <= 0 || f0 >= n) return;
  const i0 = Math.floor(f0);
  const i1 = Math.floor(f1);
  if (i0 === i1) {
    hu[i0] = hu[i0]! + (value - hu[i0]!) * (f1 - f0);
    return;
  }
  if (i0 >= 0) hu[i0] = hu[i0]! + (value - hu[i0]!) * (i0 + 1 - f0);
  const s = Math.max(0, i0 + 1);
  const e = Math.min(n, i1);
  if (e > s) hu.fill(value, s, e);
  if (i1 < n) hu[i1] = hu[i1]! + (value - hu[i1]!) * (f1 - i1);
}

/**
 * Like paint, also recording the bleed coverage and id (when labels are tracked). The value varies
 * along x as value + texAmp * sin(texK * x + texPhase): clot heterogeneity without per-pixel randomness.
 */
export function paintBleed(line: LineBuffer, xa: number, xb: number, value: number, id: number, texAmp: number, texK: number, texPhase: number): void {
  if (!(xb > xa)) return;
  const hu = line.hu;
  const n = hu.length;
  const f0 = (xa - line.x0) / line.dx + 0.5;
  const f1 = (xb - line.x0) / line.dx + 0.5;
  if (f1 <= 0 || f0 >= n) return;
  const s = Math.max(0, Math.floor(f0));
  const e = Math.min(n - 1, Math.floor(f1));
  for (let i = s; i <= e; i++) {
    const frac = Math.min(f1, i + 1) - Math.max(f0, i);
    if (frac <= 0) continue;
    const v = value + texAmp * Math.sin(texK * (line.x0 + i * line.dx) + texPhase);
    hu[i] = hu[i]! + (v - hu[i]!) * frac;
    if (line.bleed) {
      line.bleed[i] = line.bleed[i]! + (1 - line.bleed[i]!) * frac;
      line.bleedId![i] = id;
    }
  }
}

/** Adds `delta(x)` to the pixels whose centres lie in [xa, xb]. */
export function addOver(line: LineBuffer, xa: number, xb: number, delta: (x: number) => number): void {
  const n = line.hu.length;
  const s = Math.max(0, Math.ceil((xa - line.x0) / line.dx));
  const e = Math.min(n - 1, Math.floor((xb - line.x0) / line.dx));
  for (let i = s; i <= e; i++) line.hu[i] = line.hu[i]! + delta(line.x0 + i * line.dx);
}

/** Pixel index range [s, e] whose centres lie in [xa, xb] (e < s when none). */
export function pixelRange(line: LineBuffer, xa: number, xb: number): [number, number] {
  const n = line.hu.length;
  return [Math.max(0, Math.ceil((xa - line.x0) / line.dx)), Math.min(n - 1, Math.floor((xb - line.x0) / line.dx))];
}

/** An axis-aligned ellipsoid: centre and semi-axes, mm. */
export interface Ellipsoid {
  cx: number; cy: number; cz: number;
  a: number; b: number; c: number;
}

export function ellipsoid(cx: number, cy: number, cz: number, a: number, b: number, c: number): Ellipsoid {
  return { cx, cy, cz, a, b, c };
}

/** Half-width of the ellipsoid's chord on the line (y, z), or -1 when the line misses it. */
export function halfChord(e: Ellipsoid, y: number, z: number): number {
  const u = (y - e.cy) / e.b;
  const w = (z - e.cz) / e.c;
  const q = 1 - u * u - w * w;
  return q > 0 ? e.a * Math.sqrt(q) : -1;
}

export function insideEllipsoid(e: Ellipsoid, x: number, y: number, z: number): boolean {
  const u = (x - e.cx) / e.a;
  const v = (y - e.cy) / e.b;
  const w = (z - e.cz) / e.c;
  return u * u + v * v + w * w < 1;
}

/** Paints the ellipsoid's chord on the line (y, z) with value. */
export function paintEllipsoid(line: LineBuffer, e: Ellipsoid, y: number, z: number, value: number): void {
  const h = halfChord(e, y, z);
  if (h > 0) paint(line, e.cx - h, e.cx + h, value);
}


/** A table of standard normal deviates (Box-Muller), read at random offsets: fast noise without per-voxel transcendental calls. */
export function gaussianTable(rand: () => number, size = 1 << 18): Float32Array {
  const t = new Float32Array(size);
  for (let i = 0; i < size; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const m = Math.sqrt(-2 * Math.log(u));
    t[i] = m * Math.cos(2 * Math.PI * v);
    t[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return t;
}
