import { ellipsoid, halfChord, insideEllipsoid, paint, paintEllipsoid, type Ellipsoid, type LineBuffer } from './line.js';

/**
 * The parametric head in its anatomical frame: mm, origin at the centre of the brain, axes as the
 * patient's LPS (x to the left, y posterior, z to the vertex). render.ts maps patient coordinates
 * into this frame (head size and shape variation are a per-axis scale).
 *
 * The cranial cavity is the inner table: a half-ellipsoid above z = 0 (semi-axes 68, 86, 70) on a
 * deeper one below (depth 85), cut by the skull base floor, which steps down from the anterior
 * (-28) through the middle (-48) to the posterior fossa (-62).
 */

/** Attenuation values, HU (non-contrast head CT, 120 kVp). */
export const HU = {
  air: -1000,
  sinusAir: -950,
  fat: -90,
  scalp: 40,
  outerTable: 1300,
  diploe: 650,
  innerTable: 1400,
  baseBone: 1100,
  petrous: 1600,
  csf: 7,
  grey: 38,
  white: 27,
  deepGrey: 36,
  thalamus: 37,
  falx: 55,
  brainstem: 32,
} as const;

export const INNER = { a: 68, b: 86, cUp: 70, cDown: 85 } as const;
const SCALP_MM = 4.5;
const CSF_LAYER_MM = 1.5;
const CORTEX_MM = 3;
const SULCUS_DEPTH_MM = 12;
const SULCUS_PERIOD_MM = 26;

export interface AnatomyOptions {
  /** Shift of the midline structures along x, mm (signed). */
  shiftX: number;
  pineal: { radius: number; hu: number } | null;
  choroid: { radius: number; hu: number } | null;
  falxCalcification: boolean;
  beamHardening: number;
  /** Random numbers for the sulcal pattern. */
  rand: () => number;
}

/** Half-chord of the inner table grown by d mm (negative: shrunk) on the line (y, z), or -1. */
export function innerChord(d: number, y: number, z: number): number {
  const a = INNER.a + d;
  const b = INNER.b + d;
  const c = (z > 0 ? INNER.cUp : INNER.cDown) + d;
  if (a <= 0 || b <= 0 || c <= 0) return -1;
  const u = y / b;
  const w = z / c;
  const q = 1 - u * u - w * w;
  return q > 0 ? a * Math.sqrt(q) : -1;
}

/** Height of the skull base floor (top of the bone) at y, mm. */
export function floorZ(y: number): number {
  if (y <= -40) return -28;
  if (y <= -22) return -28 - ((y + 40) / 18) * 20;
  if (y <= 0) return -48;
  if (y <= 16) return -48 - (y / 16) * 14;
  return -62;
}

/** Half-chord of the cranial cavity (inside the inner table, above the floor) on the line, or -1. */
export function intracranialChord(y: number, z: number): number {
  return z >= floorZ(y) ? innerChord(0, y, z) : -1;
}

function chebyshev9(u: number): number {
  let t0 = 1, t1 = u;
  for (let k = 2; k <= 9; k++) { const t2 = 2 * u * t1 - t0; t0 = t1; t1 = t2; }
  return t1;
}

/**
 * The Sylvian fissures: oblique CSF sheets over the insula, |x| = 41 + 2 (y + 8) +- 3 mm for z in
 * [-22, 4], within 26 mm of the cortex: a curvilinear cleft in axial slices. Returns the |x| range
 * on the line (empty when lo >= hi).
 */
function sylvian(y: number, z: number, h1: number): [number, number] {
  if (z < -22 || z > 4 || h1 <= 30) return [0, 0];
  const mid = 44 + 2 * (y + 8);
  return [Math.max(mid - 3, h1 - 26), Math.min(mid + 3, h1)];
}

/** Skull thickness, mm: 5 at the vertex to 8 at the base. */
function skullThickness(z: number): number {
  return 5 + 3 * Math.min(1, Math.max(0, -z / 50));
}

export interface Anatomy {
  /** Paints the anatomy on a sub-line (y, z): air, scalp, skull, brain, CSF spaces, calcifications. */
  renderLine(line: LineBuffer, y: number, z: number): void;
  /** Adds the beam-hardening streaks (after bleeds are painted: they affect everything in the brain). */
  beamHardening(line: LineBuffer, y: number, z: number): void;
  /** Whether (x, y, z) lies in the subarachnoid space: the CSF layer under the inner table, a sulcus,
   *  a Sylvian fissure, or (with `cisterns`) the basal cisterns. Ventricles are not included. */
  inCsfSpace(x: number, y: number, z: number, cisterns: boolean): boolean;
  /** Half-width on the line (y, z) inside which there is no subarachnoid CSF (0 when the line meets a
   *  basal cistern and `cisterns` is set): subarachnoid blood is searched only outside it. */
  csfInnerLimit(y: number, z: number, cisterns: boolean): number;
  /** Outer half-chord of the head (scalp surface), or -1. */
  headChord(y: number, z: number): number;
  ventricles: { atria: [Ellipsoid, Ellipsoid]; bodies: [Ellipsoid, Ellipsoid] };
}

/** Builds the anatomy; `prepare` must be called with the column geometry before rendering lines. */
export function createAnatomy(o: AnatomyOptions): Anatomy & { prepare(x0: number, dx: number, columns: number): void } {
  const s = o.shiftX;
  const both = (x: number, y: number, z: number, a: number, b: number, c: number): [Ellipsoid, Ellipsoid] =>
    [ellipsoid(s + x, y, z, a, b, c), ellipsoid(s - x, y, z, a, b, c)];
  const frontalHorns = both(8, -20, 14, 6, 11, 8);
  const bodies = both(9, 2, 18, 5, 22, 6);
  const atria = both(17, 28, 8, 7, 11, 9);
  const occipitalHorns = both(18, 42, 6, 3.5, 8, 4);
  const temporalHorns = both(30, -5, -20, 3, 10, 3);
  const thirdVentricle = ellipsoid(s, 3, 0, 2.5, 13, 9);
  const fourthVentricle = ellipsoid(0, 34, -45, 6, 5, 7);
  const basalGanglia = both(20, -4, 2, 9, 15, 10);
  const thalami = both(9, 10, 4, 8, 11, 8);
  const cisterns = [ellipsoid(0, 14, -18, 17, 16, 10), ellipsoid(0, -8, -18, 11, 7, 5), ellipsoid(0, 30, -12, 8, 6, 6), ellipsoid(0, 4, -40, 8, 6, 12)];
  const brainstem = ellipsoid(0, 18, -45, 12, 12, 35);
  const foramen = ellipsoid(0, 20, -70, 16, 16, 40);
  const pineal = o.pineal ? ellipsoid(s, 19, -2, o.pineal.radius, o.pineal.radius, o.pineal.radius) : null;
  const choroid = o.choroid ? both(17, 30, 8, o.choroid.radius, o.choroid.radius * 1.3, o.choroid.radius) : null;
  const sinuses = [ellipsoid(0, -25, -64, 14, 12, 10), ...both(22, -52, -72, 13, 15, 13), ellipsoid(0, -89, -15, 12, 2, 8)];
  const mastoids = both(48, 22, -62, 10, 10, 10);
  const petrous = both(32, 8, -58, 22, 7, 8);

  // Sulcal pattern: |sum of three plane waves| small = inside a sulcus. Per-column tables of
  // sin/cos(kx * x) turn each pixel's evaluation into a few multiply-adds.
  const k = 2 * Math.PI / SULCUS_PERIOD_MM;
  const waves = [0, 1, 2].map(() => {
    const t = Math.acos(2 * o.rand() - 1);
    const p = 2 * Math.PI * o.rand();
    return { kx: k * Math.sin(t) * Math.cos(p), ky: k * Math.sin(t) * Math.sin(p), kz: k * Math.cos(t), ph: 2 * Math.PI * o.rand() };
  });
  let sinT: Float32Array[] = [];
  let cosT: Float32Array[] = [];
  const sulcusF = (x: number, y: number, z: number): number => {
    let f = 0;
    for (const w of waves) f += Math.sin(w.kx * x + w.ky * y + w.kz * z + w.ph);
    return f;
  };
  const W_CSF = 0.22;
  const W_GREY = 0.65;

  function sulci(line: LineBuffer, y: number, z: number, hOuter: number, hInner: number): void {
    if (hOuter <= 0) return;
    const hu = line.hu;
    const b0 = Math.sin(waves[0]!.ky * y + waves[0]!.kz * z + waves[0]!.ph), c0 = Math.cos(waves[0]!.ky * y + waves[0]!.kz * z + waves[0]!.ph);
    const b1 = Math.sin(waves[1]!.ky * y + waves[1]!.kz * z + waves[1]!.ph), c1 = Math.cos(waves[1]!.ky * y + waves[1]!.kz * z + waves[1]!.ph);
    const b2 = Math.sin(waves[2]!.ky * y + waves[2]!.kz * z + waves[2]!.ph), c2 = Math.cos(waves[2]!.ky * y + waves[2]!.kz * z + waves[2]!.ph);
    const [s0, s1, s2] = sinT as [Float32Array, Float32Array, Float32Array];
    const [k0, k1, k2] = cosT as [Float32Array, Float32Array, Float32Array];
    // The band between the sulcal depth and the cortex surface: one range, or one on each side.
    const n = line.hu.length;
    const lo = Math.max(0, Math.ceil((-hOuter - line.x0) / line.dx));
    const hi = Math.min(n - 1, Math.floor((hOuter - line.x0) / line.dx));
    const innerLo = hInner > 0 ? Math.ceil((-hInner - line.x0) / line.dx) : hi + 1;
    const innerHi = hInner > 0 ? Math.floor((hInner - line.x0) / line.dx) : hi;
    for (let i = lo; i <= hi; i++) {
      if (i === innerLo && innerHi > i) i = innerHi + 1;
      if (i > hi) break;
      const f = Math.abs(s0[i]! * c0 + k0[i]! * b0 + s1[i]! * c1 + k1[i]! * b1 + s2[i]! * c2 + k2[i]! * b2);
      if (f < W_GREY) {
        const g = f < W_CSF ? 0 : Math.min(1, (f - W_CSF) / 0.12);
        const target = HU.csf + (HU.grey - HU.csf) * g;
        if (hu[i]! > target || f < W_CSF) hu[i] = target;
      }
    }
  }

  function renderLine(line: LineBuffer, y: number, z: number): void {
    line.hu.fill(HU.air);
    const t = skullThickness(z);
    const hHead = innerChord(t + SCALP_MM, y, z);
    if (hHead <= 0) return;
    paint(line, -hHead, hHead, HU.scalp);
    const hFat = innerChord(t + 1.2, y, z);
    if (hFat > 0) paint(line, -hFat, hFat, HU.outerTable);
    const hDip = innerChord(t - 1.4, y, z);
    if (hDip > 0) paint(line, -hDip, hDip, HU.diploe);
    for (const e of sinuses) if (e.cz > -20) paintEllipsoid(line, e, y, z, HU.sinusAir);
    const hIn = innerChord(1.6, y, z);
    if (hIn > 0) paint(line, -hIn, hIn, HU.innerTable);
    const h0 = innerChord(0, y, z);
    if (h0 <= 0) return;
    const floor = floorZ(y);
    if (z < floor) {
      // Skull base: a dense plate under the floor, soft tissue and air cells below it.
      paint(line, -h0, h0, z > floor - 12 ? HU.baseBone : HU.scalp);
      for (const e of petrous) paintEllipsoid(line, e, y, z, HU.petrous);
      for (const e of mastoids) paintEllipsoid(line, e, y, z, HU.sinusAir);
      for (const e of sinuses) if (e.cz <= -20) paintEllipsoid(line, e, y, z, HU.sinusAir);
      paintEllipsoid(line, foramen, y, z, HU.csf);
      paintEllipsoid(line, brainstem, y, z, HU.brainstem);
      return;
    }
    paint(line, -h0, h0, HU.csf);
    const h1 = innerChord(-CSF_LAYER_MM, y, z);
    if (h1 > 0) paint(line, -h1, h1, HU.grey);
    const h2 = innerChord(-CSF_LAYER_MM - CORTEX_MM, y, z);
    if (h2 > 0) paint(line, -h2, h2, HU.white);
    sulci(line, y, z, h1, innerChord(-SULCUS_DEPTH_MM, y, z));
    // Sylvian fissures: oblique CSF clefts over the insula, laterally.
    const [sa, sb] = sylvian(y, z, h1);
    if (sb > sa) {
      paint(line, -sb, -sa, HU.csf);
      paint(line, sa, sb, HU.csf);
    }
    for (const e of basalGanglia) paintEllipsoid(line, e, y, z, HU.deepGrey);
    for (const e of thalami) paintEllipsoid(line, e, y, z, HU.thalamus);
    if (h1 > 0 && z > -25 && (z > 24 || Math.abs(y) > 42)) {
      // Interhemispheric fissure and the falx in it.
      paint(line, Math.max(-h1, s - 1.3), Math.min(h1, s + 1.3), HU.csf);
      const dense = o.falxCalcification && z > 30 && z < 45 && y > -30 && y < -10;
      paint(line, Math.max(-h0, s - 0.4), Math.min(h0, s + 0.4), dense ? 450 : HU.falx);
    }
    for (const e of cisterns) paintEllipsoid(line, e, y, z, HU.csf);
    paintEllipsoid(line, brainstem, y, z, HU.brainstem);
    paintEllipsoid(line, fourthVentricle, y, z, HU.csf);
    for (const group of [frontalHorns, bodies, atria, occipitalHorns, temporalHorns]) for (const e of group) paintEllipsoid(line, e, y, z, HU.csf);
    paintEllipsoid(line, thirdVentricle, y, z, HU.csf);
    if (choroid) for (const e of choroid) paintEllipsoid(line, e, y, z, o.choroid!.hu);
    if (pineal) paintEllipsoid(line, pineal, y, z, o.pineal!.hu);
    for (const e of petrous) paintEllipsoid(line, e, y, z, HU.petrous);
  }

  function beamHardening(line: LineBuffer, y: number, z: number): void {
    if (o.beamHardening <= 0) return;
    const floor = floorZ(y);
    const above = z - floor;
    if (above < 0 || above > 30 || y < -45) return;
    const h = intracranialChord(y, z);
    if (h <= 0) return;
    const amp = o.beamHardening * Math.exp(-above / 9);
    const n = line.hu.length;
    const a = Math.max(0, Math.ceil((-h - line.x0) / line.dx));
    const e = Math.min(n - 1, Math.floor((h - line.x0) / line.dx));
    const dy = y - 8;
    for (let i = a; i <= e; i++) {
      // Streaks radiating from the petrous bones (x = +-32, y = 8): cos^2(9 theta), theta the angle
      // seen from the nearer one, as the Chebyshev polynomial T9 of cos(theta) (no atan2 per pixel).
      const dx = Math.abs(line.x0 + i * line.dx) - 32;
      const r = Math.sqrt(dx * dx + dy * dy) || 1;
      const c = chebyshev9(dx / r);
      line.hu[i] = line.hu[i]! + amp * c * c;
    }
  }

  return {
    renderLine,
    beamHardening,
    inCsfSpace: (x, y, z, withCisterns) => {
      const h0 = intracranialChord(y, z);
      const ax = Math.abs(x);
      if (h0 <= 0 || ax >= h0) return false;
      if (withCisterns) {
        if (insideEllipsoid(brainstem, x, y, z)) return false;
        for (const e of cisterns) if (insideEllipsoid(e, x, y, z)) return true;
      }
      const h1 = innerChord(-CSF_LAYER_MM, y, z);
      if (ax >= h1) return true;
      const [sa, sb] = sylvian(y, z, h1);
      if (ax > sa && ax < sb) return true;
      const hd = innerChord(-SULCUS_DEPTH_MM, y, z);
      return ax > hd && Math.abs(sulcusF(x, y, z)) < W_CSF;
    },
    csfInnerLimit: (y, z, withCisterns) => {
      if (withCisterns) for (const e of cisterns) if (halfChord(e, y, z) > 0) return 0;
      const hd = Math.max(0, innerChord(-SULCUS_DEPTH_MM, y, z));
      const [sa, sb] = sylvian(y, z, innerChord(-CSF_LAYER_MM, y, z));
      return sb > sa ? Math.max(0, Math.min(hd, sa)) : hd;
    },
    headChord: (y, z) => innerChord(skullThickness(z) + SCALP_MM, y, z),
    ventricles: { atria, bodies },
    prepare(x0, dx, columns) {
      sinT = waves.map((w) => Float32Array.from({ length: columns }, (_, i) => Math.sin(w.kx * (x0 + i * dx))));
      cosT = waves.map((w) => Float32Array.from({ length: columns }, (_, i) => Math.cos(w.kx * (x0 + i * dx))));
    },
  };
}

export { halfChord };
