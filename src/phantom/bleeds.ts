import { floorZ, INNER, innerChord, intracranialChord, type Anatomy } from './anatomy.js';
import { halfChord, type Ellipsoid } from './line.js';
import type { BleedSubtype } from './types.js';

/**
 * Bleed shapes in the anatomical frame. Each shape gives its x intervals on a line (y, z) in
 * closed form, optionally narrowed by a point test (subarachnoid blood fills only CSF spaces). The
 * same intervals paint the image and measure the truth, so truth is the continuous shape's volume.
 */
export interface Shape {
  /** Bounding box in y and z, mm. */
  y0: number; y1: number; z0: number; z1: number;
  /** Writes up to 2 intervals [a0, b0, a1, b1] into out; returns how many. */
  intervals(y: number, z: number, out: Float64Array): number;
  /** When present, only points of the intervals where this holds belong to the shape. */
  pointMask?: (x: number, y: number, z: number) => boolean;
  /** Maximum thickness for extra-axial shapes, mm. */
  thickness?: number;
  /** The ellipsoid, for ellipsoidal shapes (intraparenchymal: its rim of oedema is drawn around it). */
  ellipsoid?: Ellipsoid;
}

/** Volume (mm^3) and centroid (anatomical mm) of a shape, integrated on a grid of step h (exact along x unless masked). */
export function measure(shape: Shape, h: number): { volume: number; centroid: [number, number, number] } {
  const out = new Float64Array(4);
  let v = 0, sx = 0, sy = 0, sz = 0;
  for (let y = shape.y0 + h / 2; y < shape.y1; y += h) {
    for (let z = shape.z0 + h / 2; z < shape.z1; z += h) {
      const n = shape.intervals(y, z, out);
      for (let k = 0; k < n; k++) {
        const a = out[2 * k]!, b = out[2 * k + 1]!;
        if (!(b > a)) continue;
        if (shape.pointMask) {
          for (let x = Math.ceil(a / h - 0.5) * h + h / 2; x < b; x += h) {
            if (!shape.pointMask(x, y, z)) continue;
            v += h; sx += x * h; sy += y * h; sz += z * h;
          }
        } else {
          const len = b - a;
          v += len; sx += ((b * b - a * a) / 2); sy += y * len; sz += z * len;
        }
      }
    }
  }
  const cell = h * h;
  return v > 0 ? { volume: v * cell, centroid: [sx / v, sy / v, sz / v] } : { volume: 0, centroid: [0, 0, 0] };
}

/** Finds the parameter in [lo, hi] whose shape has the target volume (volume increasing with the parameter). */
function solve(make: (p: number) => Shape, lo: number, hi: number, targetMm3: number, h: number, iterations = 24): Shape {
  for (let i = 0; i < iterations; i++) {
    const mid = (lo + hi) / 2;
    if (measure(make(mid), h).volume < targetMm3) lo = mid; else hi = mid;
  }
  return make((lo + hi) / 2);
}

function clipTo(out: Float64Array, n: number, lo: number, hi: number): number {
  let m = 0;
  for (let k = 0; k < n; k++) {
    const a = Math.max(out[2 * k]!, lo), b = Math.min(out[2 * k + 1]!, hi);
    if (b > a) { out[2 * m] = a; out[2 * m + 1] = b; m++; }
  }
  return m;
}

/** An ellipsoid clipped to the cranial cavity (its CSF layer included). */
export function ellipsoidShape(e: Ellipsoid, cutY?: number): Shape {
  return {
    ellipsoid: e,
    y0: cutY !== undefined ? Math.max(cutY, e.cy - e.b) : e.cy - e.b, y1: e.cy + e.b, z0: e.cz - e.c, z1: e.cz + e.c,
    intervals(y, z, out) {
      if (cutY !== undefined && y < cutY) return 0;
      const h = halfChord(e, y, z);
      const hc = intracranialChord(y, z);
      if (h <= 0 || hc <= 0) return 0;
      out[0] = e.cx - h; out[1] = e.cx + h;
      return clipTo(out, 1, -hc, hc);
    },
  };
}

export interface ShapeRequest {
  subtype: BleedSubtype;
  /** Target volume in the anatomical frame, mm^3. */
  volumeMm3: number;
  /** Centre (anatomical, mm), already mirrored for the side. */
  centre: [number, number, number];
  /** +1 left (x > 0), -1 right. */
  sign: number;
  anatomy: Anatomy;
  /** Shape proportions drawn from the seed, ~0.8..1.2. */
  aspect: [number, number];
  /** Grid step for the final truth measurement, mm. */
  truthStep: number;
}

/** Builds the shape of a bleed with (close to) the requested volume. */
export function buildShape(r: ShapeRequest): Shape {
  const [cx, cy, cz] = r.centre;
  const target = r.volumeMm3;
  const coarse = Math.max(0.5, Math.min(1.5, Math.cbrt(target) / 20));
  switch (r.subtype) {
    case 'intraparenchymal': {
      const [p, q] = r.aspect;
      const k = Math.cbrt(target / ((4 / 3) * Math.PI * p * q));
      return solve((s) => ellipsoidShape({ cx, cy, cz, a: s, b: s * p, c: s * q }), 0, 3 * k, target, coarse / 2);
    }
    case 'intraventricular': {
      // Dependent layering in a supine patient: blood settles posteriorly (y > level) in the atrium,
      // dilated when the blood would not fit in a normal one.
      const atrium = r.anatomy.ventricles.atria[r.sign > 0 ? 0 : 1];
      const base = (4 / 3) * Math.PI * atrium.a * atrium.b * atrium.c;
      const f = Math.max(1, Math.cbrt(target / (0.7 * base)));
      const e: Ellipsoid = { ...atrium, a: atrium.a * f, b: atrium.b * f, c: atrium.c * f };
      return solve((t) => ellipsoidShape(e, e.cy + e.b - t), 0, 2 * e.b, target, Math.min(coarse, 0.4) / 2);
    }
    case 'subdural': {
      const g = Math.sqrt(Math.min(1, target / 60000));
      const hz = 8 + 34 * g, hy = 12 + 50 * g;
      const make = (d: number): Shape => ({
        y0: cy - hy, y1: cy + hy, z0: cz - hz, z1: cz + hz, thickness: d,
        intervals(y, z, out) {
          const h0 = intracranialChord(y, z);
          if (h0 <= 0) return 0;
          const u = (y - cy) / hy, w = (z - cz) / hz;
          const taper = (1 - u * u) * (1 - w * w);
          if (taper <= 0 || u * u >= 1 || w * w >= 1) return 0;
          const t = d * taper;
          if (r.sign > 0) { out[0] = Math.max(-h0, h0 - t); out[1] = h0; } else { out[0] = -h0; out[1] = Math.min(h0, -h0 + t); }
          return 1;
        },
      });
      return solve(make, 0, 40, target, coarse);
    }
    case 'epidural': {
      // A ball cutting into the cavity from outside the inner table: the part inside is a biconvex lens.
      const lambda = 1 / Math.sqrt((cx / innerA()) ** 2 + (cy / 86) ** 2 + (cz / (cz > 0 ? 70 : 85)) ** 2);
      const q = [cx * lambda, cy * lambda, cz * lambda];
      const n0 = [q[0]! / innerA() ** 2, q[1]! / 86 ** 2, q[2]! / (cz > 0 ? 70 : 85) ** 2];
      const nl = Math.hypot(n0[0]!, n0[1]!, n0[2]!);
      const n = n0.map((v) => v / nl);
      const R = 22 + 28 * Math.cbrt(Math.min(1, target / 60000));
      const make = (t: number): Shape => {
        const p = [q[0]! + n[0]! * (R - t), q[1]! + n[1]! * (R - t), q[2]! + n[2]! * (R - t)];
        const ball: Ellipsoid = { cx: p[0]!, cy: p[1]!, cz: p[2]!, a: R, b: R, c: R };
        const s = ellipsoidShape(ball);
        return { ...s, thickness: t };
      };
      return solve(make, 0, R, target, coarse);
    }
    case 'subarachnoid': {
      const a = r.anatomy;
      // Diffuse bleeds (over 20 mL) fill the basal cisterns too.
      const basal = Math.hypot(cx, cy - 14, cz + 18) < 20 || target > 20000;
      const make = (R: number): Shape => ({
        y0: cy - R, y1: cy + R, z0: cz - R, z1: cz + R,
        intervals(y, z, out) {
          const hb = R * R - (y - cy) ** 2 - (z - cz) ** 2;
          const hc = intracranialChord(y, z);
          if (hb <= 0 || hc <= 0) return 0;
          const w = Math.sqrt(hb);
          const inner = a.csfInnerLimit(y, z, basal);
          let n = 1;
          out[0] = -hc; out[1] = hc;
          if (inner > 0) { out[1] = -inner; out[2] = inner; out[3] = hc; n = 2; }
          return clipTo(out, n, cx - w, cx + w);
        },
        pointMask: (x, y, z) => a.inCsfSpace(x, y, z, basal),
      });
      return solve(make, 0, basal ? 130 : 80, target, Math.max(0.6, coarse), 16);
    }
  }
}

function innerA(): number {
  return INNER.a;
}

export { floorZ, innerChord };
