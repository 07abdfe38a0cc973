/**
 * Pixels of a head-like phantom, fast enough for benchmarks (a 512x512 slice in a few ms): an
 * ellipsoid skull shell (1000 HU) around brain (40 HU), air (-1000 HU) outside, plus Gaussian noise
 * from a precomputed table. Stored values are HU + 1024 (Rescale Intercept -1024, slope 1).
 */
import { mulberry32 } from '../../util/seeded-random.js';

export interface HeadPhantomGeometry {
  rows: number;
  columns: number;
  /** Pixel spacing in mm (square pixels). */
  spacing: number;
  slices: number;
  /** Distance between slice centres, in mm. */
  thickness: number;
  /** Noise standard deviation in HU. */
  noiseHu: number;
  seed: number;
}

export const AIR_HU = -1000;
export const BRAIN_HU = 40;
export const BONE_HU = 1000;
const INTERCEPT = -1024;
/** Semi-axes of the head in mm: left-right, anterior-posterior, and the skull's thickness. */
const HEAD_A = 75;
const HEAD_B = 95;
const SKULL = 6;
const NOISE_TABLE = 1 << 16;

const noiseTables = new Map<string, Int16Array>();

/** Fills `out` (rows*columns stored values) with slice `index` of the phantom. */
export function headPhantomSlice(g: HeadPhantomGeometry, index: number, out: Int16Array): void {
  const noise = noiseTable(g.seed, g.noiseHu);
  const rng = mulberry32(g.seed * 7919 + index);
  // The scanned range covers 90 % of the ellipsoid's height, so every slice shows some head.
  const halfLength = (g.slices * g.thickness) / 2 / 0.9;
  const z = (index - (g.slices - 1) / 2) * g.thickness;
  const scale = Math.sqrt(Math.max(0, 1 - (z / halfLength) ** 2));
  const a = HEAD_A * scale;
  const b = HEAD_B * scale;
  const ai = Math.max(0, a - SKULL);
  const bi = Math.max(0, b - SKULL);
  const air = AIR_HU - INTERCEPT;
  const bone = BONE_HU - INTERCEPT;
  const brain = BRAIN_HU - INTERCEPT;
  const cx = g.columns / 2;
  let offset = Math.floor(rng() * NOISE_TABLE);
  for (let r = 0; r < g.rows; r++) {
    const y = (r - g.rows / 2 + 0.5) * g.spacing;
    const outer = halfChord(a, b, y) / g.spacing;
    const inner = halfChord(ai, bi, y) / g.spacing;
    const rowStart = r * g.columns;
    const o0 = clampCol(Math.round(cx - outer), g.columns);
    const o1 = clampCol(Math.round(cx + outer), g.columns);
    const i0 = clampCol(Math.round(cx - inner), g.columns);
    const i1 = clampCol(Math.round(cx + inner), g.columns);
    out.fill(air, rowStart, rowStart + o0);
    out.fill(bone, rowStart + o0, rowStart + i0);
    out.fill(brain, rowStart + i0, rowStart + i1);
    out.fill(bone, rowStart + i1, rowStart + o1);
    out.fill(air, rowStart + o1, rowStart + g.columns);
    for (let c = 0; c < g.columns; c++) {
      const v = out[rowStart + c]! + noise[offset]!;
      out[rowStart + c] = v < 0 ? 0 : v;
      offset = (offset + 1) & (NOISE_TABLE - 1);
    }
    // Jump within the table so that rows do not repeat each other's noise.
    offset = (offset + Math.floor(rng() * 977)) & (NOISE_TABLE - 1);
  }
}

function halfChord(a: number, b: number, y: number): number {
  if (a <= 0 || b <= 0 || Math.abs(y) >= b) return 0;
  return a * Math.sqrt(1 - (y / b) ** 2);
}

function clampCol(c: number, columns: number): number {
  return c < 0 ? 0 : c > columns ? columns : c;
}

function noiseTable(seed: number, sd: number): Int16Array {
  const key = `${seed}:${sd}`;
  let table = noiseTables.get(key);
  if (!table) {
    table = new Int16Array(NOISE_TABLE);
    const rng = mulberry32(seed);
    for (let i = 0; i < NOISE_TABLE; i += 2) {
      // Box-Muller: two normal deviates per pair of uniforms.
      const u = Math.max(rng(), 1e-12);
      const v = rng();
      const m = Math.sqrt(-2 * Math.log(u)) * sd;
      table[i] = Math.round(m * Math.cos(2 * Math.PI * v));
      table[i + 1] = Math.round(m * Math.sin(2 * Math.PI * v));
    }
    noiseTables.set(key, table);
  }
  return table;
}

