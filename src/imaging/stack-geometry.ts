import type { Vec3 } from './volume.js';

/** Two slices closer than this along the normal are at the same location (mm). */
export const DUPLICATE_TOLERANCE_MM = 0.01;
/** A spacing larger than this many times the local median spacing is a gap (missing slices). */
export const GAP_FACTOR = 1.5;
/** Spacings on each side of a pair that make up its local median (see findGaps). */
const GAP_WINDOW = 3;

export function dot(a: Readonly<Vec3>, b: Readonly<Vec3>): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export interface OrderedStack<T> {
  ordered: T[];
  /** dot(position, normal) of each ordered entry, mm, ascending. */
  locations: number[];
  /** Entries dropped because an earlier-ranked one sits at the same location. */
  duplicates: { entry: T; keptInstead: T; location: number }[];
}

/**
 * Orders slices by their position along the normal (PS3.3 C.7.6.2.1.1: Image Position is the
 * centre of the first voxel; its projection on the normal is the slice location), never by
 * Instance Number. Slices within DUPLICATE_TOLERANCE_MM of one another are one location: the one
 * first by `rank` is kept and the later ones reported, so that any input order gives the same stack.
 */
export function orderStack<T>(entries: readonly T[], position: (e: T) => Vec3, normal: Vec3, rank: (a: T, b: T) => number): OrderedStack<T> {
  const located = entries.map((entry) => ({ entry, location: dot(position(entry), normal) }));
  located.sort((a, b) => a.location - b.location || rank(a.entry, b.entry));
  const ordered: T[] = [];
  const locations: number[] = [];
  const duplicates: OrderedStack<T>['duplicates'] = [];
  for (let i = 0; i < located.length; ) {
    // A cluster of equal locations: keep the best-ranked one.
    let j = i + 1;
    while (j < located.length && located[j]!.location - located[i]!.location < DUPLICATE_TOLERANCE_MM) j++;
    const cluster = located.slice(i, j).sort((a, b) => rank(a.entry, b.entry));
    const kept = cluster[0]!;
    ordered.push(kept.entry);
    locations.push(kept.location);
    for (const d of cluster.slice(1)) duplicates.push({ entry: d.entry, keptInstead: kept.entry, location: d.location });
    i = j;
  }
  return { ordered, locations, duplicates };
}

/**
 * Gantry tilt as the geometry shows it: the angle in degrees (0 to 90) between the stacking
 * direction, first slice position to last, and the image normal. One slice: 0 (no stack).
 * Measured first to last, not pair by pair, so that the rounding of short steps (DS values) does
 * not dominate.
 */
export function stackTiltDegrees(positions: readonly Vec3[], normal: Vec3): number {
  if (positions.length < 2) return 0;
  const a = positions[0]!;
  const b = positions[positions.length - 1]!;
  const d: Vec3 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const len = Math.hypot(d[0], d[1], d[2]);
  if (len === 0) return 0;
  const c = Math.min(1, Math.abs(dot(d, normal)) / len);
  return (Math.acos(c) * 180) / Math.PI;
}

export interface Gap {
  afterSlice: number;
  distanceMm: number;
  expectedMm: number;
}

/**
 * Gaps in a stack: the distance from slice i to i+1 along the normal exceeds GAP_FACTOR x the
 * median of the neighbouring spacings (up to GAP_WINDOW on each side, not counting itself).
 * A local median, not the series median: a series acquired in two parts with different spacing
 * (the GE head CT: 4 mm then 7 mm) has no gap, but a missing slice in either part is one.
 */
export function findGaps(locations: readonly number[]): Gap[] {
  const d = spacings(locations);
  const gaps: Gap[] = [];
  for (let i = 0; i < d.length; i++) {
    const around = [...d.slice(Math.max(0, i - GAP_WINDOW), i), ...d.slice(i + 1, i + 1 + GAP_WINDOW)];
    if (around.length === 0) continue;
    const expected = median(around);
    if (d[i]! > GAP_FACTOR * expected) gaps.push({ afterSlice: i, distanceMm: d[i]!, expectedMm: expected });
  }
  return gaps;
}

/**
 * Thickness of tissue each slice stands for along the normal, mm: half the distance to each
 * neighbour. The end slices count their one neighbour distance twice (a half on each side). Across
 * a gap, a slice claims only half the local expected spacing, not half the gap, so the missing
 * tissue is not attributed to its neighbours. A single slice: `fallback` (its Slice Thickness).
 */
export function sliceSpans(locations: readonly number[], gaps: readonly Gap[], fallback: number): number[] {
  const n = locations.length;
  if (n === 1) return [fallback];
  const d = spacings(locations);
  for (const g of gaps) d[g.afterSlice] = g.expectedMm;
  const spans: number[] = [];
  for (let k = 0; k < n; k++) {
    const below = k > 0 ? d[k - 1]! : d[0]!;
    const above = k < n - 1 ? d[k]! : d[n - 2]!;
    spans.push((below + above) / 2);
  }
  return spans;
}

export function spacings(locations: readonly number[]): number[] {
  const d: number[] = [];
  for (let i = 1; i < locations.length; i++) d.push(locations[i]! - locations[i - 1]!);
  return d;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
