/**
 * Geometric completeness of a series as it arrives: the slices of its main orientation, located
 * along that orientation's normal (PS3.3 C.7.6.2.1.1: Image Position is the centre of the first
 * voxel, Image Orientation the row and column direction cosines), form a contiguous, evenly spaced
 * run. Scanners send axial slices in order, so an even run holds at almost every moment of a
 * transfer: it says "nothing is missing so far", and the tracker adds a short settle time without
 * a new slice (geometrySettleMs) instead of the long quiet timer.
 */

/** Fewer slices than this prove nothing about spacing. */
export const MIN_RUN_SLICES = 3;
/** A gap may differ from the median spacing by this fraction (rounding of DS values, tilt) ... */
const SPACING_TOLERANCE = 0.1;
/** ... or by this many mm, whichever is larger. */
const SPACING_TOLERANCE_MM = 0.02;

type Vec3 = [number, number, number];

export class SliceRun {
  /** Locations along the normal (mm), sorted ascending, per orientation (rounded cosines as key). */
  private readonly stacks = new Map<string, { normal: Vec3; locations: number[] }>();
  /** Where each instance went, so that a replaced instance moves instead of counting twice. */
  private readonly placed = new Map<string, { key: string; location: number }>();

  /** Adds one instance; instances without a usable position or orientation (non-images) are ignored. */
  add(sopInstanceUid: string, imagePosition: string | null, imageOrientation: string | null): void {
    const before = this.placed.get(sopInstanceUid);
    if (before) {
      const list = this.stacks.get(before.key)!.locations;
      list.splice(list.indexOf(before.location), 1);
      this.placed.delete(sopInstanceUid);
    }
    const position = parseDs(imagePosition, 3);
    const cosines = parseDs(imageOrientation, 6);
    if (!position || !cosines) return;
    const key = cosines.map((c) => c.toFixed(3)).join(',');
    let stack = this.stacks.get(key);
    if (!stack) {
      const normal = cross([cosines[0]!, cosines[1]!, cosines[2]!], [cosines[3]!, cosines[4]!, cosines[5]!]);
      if (Math.hypot(...normal) < 0.5) return;
      this.stacks.set(key, (stack = { normal, locations: [] }));
    }
    const d = position[0]! * stack.normal[0] + position[1]! * stack.normal[1] + position[2]! * stack.normal[2];
    insertSorted(stack.locations, d);
    this.placed.set(sopInstanceUid, { key, location: d });
  }

  /** Slices of the main orientation (the one with most slices). */
  get slices(): number {
    return this.main()?.locations.length ?? 0;
  }

  /** Whether the main orientation's slices form an even run of at least MIN_RUN_SLICES without holes or repeats. */
  contiguous(): boolean {
    const locations = this.main()?.locations;
    if (!locations || locations.length < MIN_RUN_SLICES) return false;
    const gaps: number[] = [];
    for (let i = 1; i < locations.length; i++) gaps.push(locations[i]! - locations[i - 1]!);
    const median = [...gaps].sort((a, b) => a - b)[gaps.length >> 1]!;
    if (!(median > 0)) return false;
    const tolerance = Math.max(SPACING_TOLERANCE_MM, SPACING_TOLERANCE * median);
    return gaps.every((g) => Math.abs(g - median) <= tolerance);
  }

  private main(): { locations: number[] } | undefined {
    let best: { locations: number[] } | undefined;
    for (const s of this.stacks.values()) if (!best || s.locations.length > best.locations.length) best = s;
    return best;
  }
}

/** A multi-valued DS (PS3.5 6.2) with exactly `n` finite numbers, or undefined. */
function parseDs(value: string | null, n: number): number[] | undefined {
  if (!value) return undefined;
  const parts = value.split('\\').map((p) => Number(p.trim()));
  return parts.length === n && parts.every(Number.isFinite) ? parts : undefined;
}

function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function insertSorted(list: number[], value: number): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, value);
}
