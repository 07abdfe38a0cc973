import type { Grid } from './grid.js';

/** One group of candidate voxels on the working grid, by its label. */
export interface Group {
  id: number;
  voxels: Int32Array;
}

/**
 * Joins groups that lie against the inner table in adjacent working slabs and touch diagonally
 * (3x3 in the next slab, tilt shift applied). The 3D grouping links slices only at the same place,
 * but a thin layer under a curving skull steps inwards by a pixel or two from one slab to the next,
 * so a 1.2 mL subdural 2.7 mm thick at 2.5 mm split into six groups of 0.04-0.11 mL, each too small.
 * Only voxels within `nearD` (0.1 mm) of the table on both sides count, so deep groups stay as they
 * are. The merged voxels take the label of the first group, which measure() relies on.
 */
export function linkTableLayers(g: Grid, dist: Uint16Array, label: Int32Array, groups: Group[], offs: [number, number][], nearD: number): Group[] {
  const { nx, ny, nz } = g;
  const n = nx * ny;
  const index = new Map<number, number>();
  groups.forEach((gr, t) => index.set(gr.id, t));
  const parent = Int32Array.from(groups, (_, t) => t);
  const find = (t: number): number => {
    while (parent[t] !== t) { parent[t] = parent[parent[t]!]!; t = parent[t]!; }
    return t;
  };
  let joined = false;
  for (let t = 0; t < groups.length; t++) {
    const { id, voxels } = groups[t]!;
    for (let v = 0; v < voxels.length; v++) {
      const p = voxels[v]!;
      if (dist[p]! > nearD) continue;
      const k = (p / n) | 0;
      if (k + 1 >= nz) continue;
      const r = p - k * n;
      const j = (r / nx) | 0;
      const i = r - j * nx;
      const [dx, dy] = offs[k]!;
      for (let dj = -1; dj <= 1; dj++) {
        const jj = j - dy + dj;
        if (jj < 0 || jj >= ny) continue;
        for (let di = -1; di <= 1; di++) {
          const ii = i - dx + di;
          if (ii < 0 || ii >= nx) continue;
          const q = (k + 1) * n + jj * nx + ii;
          const l = label[q]!;
          if (l <= 0 || l === id || dist[q]! > nearD) continue;
          const u = index.get(l);
          if (u === undefined) continue;
          const a = find(t), b = find(u);
          if (a !== b) { parent[Math.max(a, b)] = Math.min(a, b); joined = true; }
        }
      }
    }
  }
  if (!joined) return groups;
  const members = new Map<number, number[]>();
  for (let t = 0; t < groups.length; t++) {
    const root = find(t);
    const list = members.get(root);
    if (list) list.push(t);
    else members.set(root, [t]);
  }
  const out: Group[] = [];
  for (const [root, list] of members) {
    if (list.length === 1) { out.push(groups[root]!); continue; }
    const id = groups[root]!.id;
    let size = 0;
    for (const t of list) size += groups[t]!.voxels.length;
    const voxels = new Int32Array(size);
    let at = 0;
    for (const t of list) {
      const vs = groups[t]!.voxels;
      voxels.set(vs, at);
      at += vs.length;
      if (t !== root) for (let v = 0; v < vs.length; v++) label[vs[v]!] = id;
    }
    out.push({ id, voxels });
  }
  return out;
}
