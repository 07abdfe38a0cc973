import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateUid } from '../dicom/uids.js';
import type { Vec3 } from '../imaging/volume.js';
import { mulberry32 } from '../util/seeded-random.js';
import type { Side } from './types.js';

/**
 * Inserts synthetic intraparenchymal bleeds into a real CT series and writes a new series (same
 * study, new Series and SOP Instance UIDs, SeriesDescription + " + synthetic bleed", everything else
 * copied) with its truth.json. Truth is measured from the voxels actually changed: the sum of each
 * voxel's blend fraction times its volume (pixel area x the slice's span along the normal).
 * Uncompressed Little Endian input only (dcmjs re-encodes the dataset).
 */
interface DcmjsElement { vr: string; Value: unknown[] }
interface DcmjsDict { meta: Record<string, DcmjsElement>; dict: Record<string, DcmjsElement>; write(o?: Record<string, unknown>): ArrayBuffer }
interface Dcmjs { data: { DicomMessage: { readFile(b: ArrayBuffer, o?: Record<string, unknown>): DcmjsDict } } }

export interface InsertBleed {
  /** Only 'intraparenchymal' is inserted into real series. */
  subtype: 'intraparenchymal';
  volumeMl: number;
  side?: Side;
  /** Centre in patient coordinates, mm; default: the brain's centre moved 25 mm toward `side`. */
  centreMm?: Vec3;
  hu?: number;
}

export interface InsertResult {
  dir: string;
  files: string[];
  studyInstanceUid: string;
  seriesInstanceUid: string;
  truthPath: string;
  truth: { bleeds: { subtype: string; volumeMl: number; requestedVolumeMl: number; centroidMm: Vec3; side: Side; hu: number; changedVoxels: number }[] };
}

interface Slice { path: string; ds: DcmjsDict; ipp: Vec3; pos: number; hu: Float32Array }

const num = (ds: DcmjsDict, t: string, i = 0): number => Number((ds.dict[t]?.Value ?? [])[i]);

export async function insertBleeds(o: { inputDir: string; outDir: string; bleeds: InsertBleed[]; seed?: number }): Promise<InsertResult> {
  const name = 'dcmjs';
  const mod = (await import(name)) as { default?: Dcmjs } & Dcmjs;
  const dcmjs = mod.default ?? mod;
  const rand = mulberry32((o.seed ?? 1) * 2246822519);
  const slices: Slice[] = [];
  for (const f of (await readdir(o.inputDir)).sort()) {
    const bytes = await readFile(join(o.inputDir, f)).catch(() => null);
    if (!bytes || bytes.length < 132 || bytes.toString('latin1', 128, 132) !== 'DICM') continue;
    const ds = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer, { ignoreErrors: true });
    if (!ds.dict['7FE00010'] || !ds.dict['00200032'] || !ds.dict['00200037']) continue;
    slices.push({ path: f, ds, ipp: [0, 1, 2].map((i) => num(ds, '00200032', i)) as Vec3, pos: 0, hu: new Float32Array(0) });
  }
  if (!slices.length) throw new Error(`insert: no CT image slices in ${o.inputDir}`);
  const ref = slices[0]!.ds;
  const row: Vec3 = [0, 1, 2].map((i) => num(ref, '00200037', i)) as Vec3;
  const col: Vec3 = [3, 4, 5].map((i) => num(ref, '00200037', i)) as Vec3;
  const normal: Vec3 = [row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0]];
  const rows = num(ref, '00280010'), cols = num(ref, '00280011');
  const rowSp = num(ref, '00280030', 0), colSp = num(ref, '00280030', 1);
  for (const s of slices) {
    s.pos = s.ipp[0] * normal[0] + s.ipp[1] * normal[1] + s.ipp[2] * normal[2];
    const slope = num(s.ds, '00281053') || 1, icpt = num(s.ds, '00281052') || 0;
    const buf = s.ds.dict['7FE00010']!.Value[0] as ArrayBuffer;
    const raw = num(s.ds, '00280103') === 1 ? new Int16Array(buf, 0, rows * cols) : new Uint16Array(buf, 0, rows * cols);
    s.hu = Float32Array.from(raw, (v) => v * slope + icpt);
  }
  slices.sort((a, b) => a.pos - b.pos);
  const thickness = num(ref, '00180050') || 5;
  const span = slices.map((s, k) => {
    const prev = k > 0 ? s.pos - slices[k - 1]!.pos : NaN, next = k < slices.length - 1 ? slices[k + 1]!.pos - s.pos : NaN;
    return Number.isNaN(prev) ? (Number.isNaN(next) ? thickness : next) : Number.isNaN(next) ? prev : (prev + next) / 2;
  });
  const at = (s: Slice, i: number, j: number): Vec3 => [0, 1, 2].map((a) => s.ipp[a]! + row[a]! * colSp * i + col[a]! * rowSp * j) as Vec3;

  // The brain: 0-80 HU voxels inside the skull's (> 300 HU) bounding box in each slice; its centre.
  let n = 0; const c: Vec3 = [0, 0, 0];
  for (const s of slices) {
    let i0 = cols, i1 = -1, j0 = rows, j1 = -1;
    for (let j = 0; j < rows; j++) for (let i = 0; i < cols; i++) if (s.hu[j * cols + i]! > 300) { i0 = Math.min(i0, i); i1 = Math.max(i1, i); j0 = Math.min(j0, j); j1 = Math.max(j1, j); }
    for (let j = j0 + 8; j < j1 - 8; j += 2) for (let i = i0 + 8; i < i1 - 8; i += 2) {
      const v = s.hu[j * cols + i]!;
      if (v > 15 && v < 45) { const p = at(s, i, j); c[0] += p[0]; c[1] += p[1]; c[2] += p[2]; n++; }
    }
  }
  if (!n) throw new Error('insert: no brain found (no 15-45 HU voxels inside a skull)');
  const brain: Vec3 = [c[0] / n, c[1] / n, c[2] / n];

  const truths: InsertResult['truth']['bleeds'] = [];
  o.bleeds.forEach((b, bi) => {
    const side: Side = b.side ?? 'left';
    const centre = b.centreMm ?? [brain[0] + (side === 'left' ? 25 : side === 'right' ? -25 : 0), brain[1], brain[2]];
    const hu = b.hu ?? Math.round(60 + 15 * rand());
    const axes: Vec3 = [1, 0.8 + 0.3 * rand(), 0.8 + 0.3 * rand()];
    const orig = slices.map((s) => s.hu.slice());
    let r = Math.cbrt((b.volumeMl * 1000) / ((4 / 3) * Math.PI * axes[1] * axes[2]));
    let result = { ml: 0, voxels: 0, cen: [0, 0, 0] as Vec3 };
    for (let iter = 0; iter < 6; iter++) {
      result = applyEllipsoid(false);
      if (Math.abs(result.ml - b.volumeMl) / b.volumeMl < 0.005 || result.ml === 0) break;
      r *= Math.cbrt(b.volumeMl / result.ml);
    }
    result = applyEllipsoid(true);
    truths.push({ subtype: b.subtype, volumeMl: round(result.ml, 4), requestedVolumeMl: b.volumeMl, centroidMm: result.cen.map((v) => round(v, 2)) as Vec3, side, hu, changedVoxels: result.voxels });

    /** Blends blood into brain voxels (0-80 HU before insertion) by a linear edge one voxel wide. */
    function applyEllipsoid(write: boolean): { ml: number; voxels: number; cen: Vec3 } {
      let ml = 0, voxels = 0; const cen: Vec3 = [0, 0, 0];
      const edge = Math.min(rowSp, span[0]!) / r;
      slices.forEach((s, k) => {
        const vml = (rowSp * colSp * span[k]!) / 1000;
        for (let j = 0; j < rows; j++) for (let i = 0; i < cols; i++) {
          const p = at(s, i, j);
          const dx = (p[0] - centre[0]) / (r * axes[0]), dy = (p[1] - centre[1]) / (r * axes[1]), dz = (p[2] - centre[2]) / (r * axes[2]);
          const q = dx * dx + dy * dy + dz * dz;
          if (q > 1.5) continue;
          const f = Math.min(1, Math.max(0, (1 - Math.sqrt(q)) / edge + 0.5));
          const v0 = orig[k]![j * cols + i]!;
          if (f <= 0 || v0 < 0 || v0 > 80) continue;
          ml += f * vml; voxels++;
          cen[0] += f * vml * p[0]; cen[1] += f * vml * p[1]; cen[2] += f * vml * p[2];
          if (write) s.hu[j * cols + i] = v0 + (hu + 4 * Math.sin(0.5 * p[0] + 0.3 * p[1] + bi) - v0) * f;
        }
      });
      return { ml, voxels, cen: ml ? [cen[0] / ml, cen[1] / ml, cen[2] / ml] : cen };
    }
  });

  await mkdir(o.outDir, { recursive: true });
  const seriesUid = generateUid();
  const files: string[] = [];
  for (const s of slices) {
    const slope = num(s.ds, '00281053') || 1, icpt = num(s.ds, '00281052') || 0;
    const signed = num(s.ds, '00280103') === 1;
    const out = signed ? new Int16Array(rows * cols) : new Uint16Array(rows * cols);
    const lo = signed ? -32768 : 0, hi = signed ? 32767 : 65535;
    for (let i = 0; i < out.length; i++) out[i] = Math.min(hi, Math.max(lo, Math.round((s.hu[i]! - icpt) / slope)));
    const sop = generateUid();
    s.ds.dict['7FE00010']!.Value = [out.buffer];
    s.ds.dict['0020000E'] = { vr: 'UI', Value: [seriesUid] };
    s.ds.dict['00080018'] = { vr: 'UI', Value: [sop] };
    s.ds.meta['00020003'] = { vr: 'UI', Value: [sop] };
    const desc = String(s.ds.dict['0008103E']?.Value?.[0] ?? '');
    s.ds.dict['0008103E'] = { vr: 'LO', Value: [`${desc} + synthetic bleed`.slice(-64).trim()] };
    const path = join(o.outDir, s.path.endsWith('.dcm') ? s.path : `${s.path}.dcm`);
    await writeFile(path, Buffer.from(s.ds.write({ allowInvalidVRLength: true })));
    files.push(path);
  }
  const studyUid = String(ref.dict['0020000D']?.Value?.[0] ?? '');
  const truthPath = join(o.outDir, 'truth.json');
  const truth = { bleeds: truths };
  await writeFile(truthPath, `${JSON.stringify({ source: o.inputDir, studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, seed: o.seed ?? 1, ...truth }, null, 2)}\n`);
  return { dir: o.outDir, files, studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, truthPath, truth };
}

function round(v: number, d: number): number {
  const f = 10 ** d;
  return Math.round(v * f) / f;
}
