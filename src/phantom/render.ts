import type { Vec3, Volume } from '../imaging/volume.js';
import { createAnatomy, HU } from './anatomy.js';
import { buildShape, ellipsoidShape, measure, type Shape } from './bleeds.js';
import { createLine, gaussianTable, paint, paintBleed, type LineBuffer } from './line.js';
import { mulberry32 } from '../util/seeded-random.js';
import type { BleedSpec, BleedTruth, Confounders, LocationName, PhantomLabels, PhantomParams, PhantomTruth, Side } from './types.js';

/** Typical places (anatomical frame, left hemisphere), mm. */
const PLACES: Record<LocationName, Vec3> = {
  frontal: [30, -50, 25],
  parietal: [35, 15, 40],
  temporal: [45, -10, -22],
  occipital: [25, 55, 10],
  convexity: [45, 0, 30],
  'basal-ganglia': [22, -4, 2],
  thalamus: [10, 10, 4],
  cerebellum: [20, 42, -48],
  ventricle: [17, 28, 8],
  sylvian: [45, -8, -8],
  'basal-cisterns': [0, 14, -18],
};
const DEFAULT_PLACE: Record<BleedSpec['subtype'], LocationName> = {
  intraparenchymal: 'basal-ganglia',
  intraventricular: 'ventricle',
  subdural: 'convexity',
  epidural: 'temporal',
  subarachnoid: 'sylvian',
};
/** Lowest anatomical z covered (below the posterior fossa floor at -62: skull base and sinuses). */
const COVERAGE_START = -72;

export type ResolvedParams = PhantomTruth['params'];

export function resolveParams(p: PhantomParams): ResolvedParams {
  const thickness = p.sliceThickness ?? 5;
  const c: Confounders = p.confounders ?? {};
  return {
    seed: p.seed ?? 1,
    rows: p.rows ?? 512,
    columns: p.columns ?? 512,
    pixelSpacing: p.pixelSpacing ?? 0.45,
    sliceThickness: thickness,
    coverageMm: p.coverageMm ?? 150,
    tiltDegrees: p.tiltDegrees ?? 0,
    noiseHu: p.noiseHu ?? 4,
    lowFrequencyHu: p.lowFrequencyHu ?? 0,
    headScale: p.headScale ?? 1,
    shapeVariation: p.shapeVariation ?? 0,
    bleeds: p.bleeds ?? [],
    confounders: { pinealCalcification: !!c.pinealCalcification, choroidPlexusCalcification: !!c.choroidPlexusCalcification, beamHardening: !!c.beamHardening, falxCalcification: !!c.falxCalcification },
    midlineShiftMm: p.midlineShiftMm ?? -1,
    subRows: p.subRows ?? 1,
    subPlanes: p.subPlanes ?? Math.max(2, Math.min(5, Math.round(thickness))),
    labels: p.labels ?? false,
  };
}

/**
 * Renders a non-contrast head CT with ground truth, straight into a Volume (HU, x fastest).
 * Geometry: head centre at the patient origin, slices stacked along +z from the skull base, spacing
 * along the normal = slice thickness (so the table step along z is thickness / cos(tilt)). Each
 * voxel averages subRows x subPlanes sub-lines, each exactly anti-aliased along x.
 */
export function renderHeadPhantom(params: PhantomParams = {}): { volume: Volume; truth: PhantomTruth; labels?: PhantomLabels } {
  const P = resolveParams(params);
  const rand = mulberry32(P.seed * 2654435761);
  const vary = () => P.headScale * (1 + P.shapeVariation * (2 * rand() - 1));
  const k: Vec3 = [vary(), vary(), vary()];
  const toAnat = (p: Vec3): Vec3 => [p[0] / k[0], p[1] / k[1], p[2] / k[2]];
  const toPatient = (p: Vec3): Vec3 => [p[0] * k[0], p[1] * k[1], p[2] * k[2]];
  const scale3 = k[0] * k[1] * k[2];

  // Bleed placement and midline shift (away from the side of supratentorial mass).
  const placed = P.bleeds.map((b) => {
    let centre: Vec3;
    let side: Side;
    let location: string;
    if (Array.isArray(b.location)) {
      centre = toAnat(b.location as Vec3);
      side = b.side ?? (Math.abs(centre[0]) < 3 ? 'midline' : centre[0] > 0 ? 'left' : 'right');
      location = 'custom';
    } else {
      location = (b.location as LocationName | undefined) ?? DEFAULT_PLACE[b.subtype];
      const base = PLACES[location as LocationName];
      if (!base) throw new Error(`phantom: unknown location '${location}'`);
      side = b.side ?? (location === 'basal-cisterns' ? 'midline' : 'left');
      centre = [side === 'right' ? -base[0] : side === 'midline' ? 0 : base[0], base[1], base[2]];
    }
    return { spec: b, centre, side, location, hu: b.hu ?? Math.round(60 + 15 * rand()), aspect: [0.8 + 0.3 * rand(), 0.8 + 0.3 * rand()] as [number, number], phase: 6.28 * rand() };
  });
  let signedShift = 0;
  if (P.midlineShiftMm >= 0) {
    const first = placed.find((b) => b.side !== 'midline');
    signedShift = P.midlineShiftMm * (first?.side === 'right' ? 1 : -1);
  } else {
    let mass = 0;
    for (const b of placed) if (b.side !== 'midline' && b.centre[2] > -35) mass += b.spec.volumeMl * (b.side === 'left' ? 1 : -1);
    const m = Math.abs(mass);
    signedShift = m < 10 ? 0 : -Math.sign(mass) * Math.min(15, 2 + 0.15 * (m - 10));
  }
  const conf = P.confounders;
  const anatomy = createAnatomy({
    shiftX: signedShift / k[0],
    pineal: conf.pinealCalcification ? { radius: 1.5 + 2.5 * rand(), hu: Math.round(100 + 300 * rand()) } : null,
    choroid: conf.choroidPlexusCalcification ? { radius: 2 + 1.5 * rand(), hu: Math.round(120 + 200 * rand()) } : null,
    falxCalcification: !!conf.falxCalcification,
    beamHardening: conf.beamHardening ? 10 + 20 * rand() : 0,
    rand,
  });

  const shapes: Shape[] = [];
  const rims: (Shape | null)[] = [];
  const truths: BleedTruth[] = placed.map((b) => {
    const shape = buildShape({ subtype: b.spec.subtype, volumeMm3: (b.spec.volumeMl * 1000) / scale3, centre: b.centre, sign: b.side === 'right' ? -1 : 1, anatomy, aspect: b.aspect, truthStep: 0.25 });
    shapes.push(shape);
    const e = shape.ellipsoid;
    rims.push(b.spec.subtype === 'intraparenchymal' && e && b.spec.volumeMl > 1 ? ellipsoidShape({ ...e, a: e.a + 1.5, b: e.b + 1.5, c: e.c + 1.5 }) : null);
    const step = shape.pointMask ? (b.spec.volumeMl > 10 ? 0.5 : 0.3) : Math.max(0.1, Math.min(0.25, Math.cbrt(b.spec.volumeMl * 1000) / 40));
    const m = measure(shape, step);
    const t: BleedTruth = {
      subtype: b.spec.subtype, volumeMl: round((m.volume * scale3) / 1000, 4), requestedVolumeMl: b.spec.volumeMl,
      centroidMm: toPatient(m.centroid).map((v) => round(v, 2)) as Vec3, side: b.side, location: b.location, hu: b.hu,
    };
    if (shape.thickness !== undefined) t.maxThicknessMm = round(shape.thickness * k[0], 2);
    return t;
  });

  // Geometry (PS3.3 C.7.6.2): rows along x, columns along (0, cos t, sin t), stacked along z.
  const { rows, columns, pixelSpacing: sp, sliceThickness: th } = P;
  const t = (P.tiltDegrees * Math.PI) / 180;
  const ct = Math.cos(t), st = Math.sin(t);
  const dz = th / ct;
  const slices = Math.max(1, Math.round(P.coverageMm / th));
  const z0 = COVERAGE_START * k[2];
  const x0 = (-(columns - 1) / 2) * sp;
  const slicePositions: Vec3[] = [];
  for (let s = 0; s < slices; s++) {
    const zc = z0 + (s + 0.5) * dz;
    slicePositions.push([x0, (-(rows - 1) / 2) * sp * ct, zc - ((rows - 1) / 2) * sp * st]);
  }
  const normal: Vec3 = [0, -st, ct];
  const data = new Int16Array(columns * rows * slices);
  const labelOut = P.labels ? { label: new Uint8Array(data.length), coverage: new Float32Array(data.length) } : undefined;

  const line = createLine(columns, P.labels);
  line.x0 = x0 / k[0];
  line.dx = sp / k[0];
  anatomy.prepare(line.x0, line.dx, columns);
  const acc = new Float32Array(columns);
  const cov = P.labels ? new Float32Array(columns) : null;
  const ids = P.labels ? new Uint8Array(columns) : null;
  const noise = gaussianTable(rand);
  const lfCol = Float32Array.from({ length: columns }, (_, i) => Math.sin(0.018 * (x0 + i * sp) + 6.28 * rand()));
  const lfPhase = 6.28 * rand();
  const intervals = new Float64Array(4);
  const S = P.subRows * P.subPlanes;
  const subs: Array<[number, number]> = [];
  for (let a = 0; a < P.subPlanes; a++) {
    for (let b = 0; b < P.subRows; b++) {
      const u = th * ((a + 0.5) / P.subPlanes - 0.5);
      const v = sp * ((b + 0.5) / P.subRows - 0.5);
      subs.push([-u * st + v * ct, u * ct + v * st]);
    }
  }
  let noiseAt = Math.floor(rand() * (noise.length - columns));
  for (let s = 0; s < slices; s++) {
    const ipp = slicePositions[s]!;
    for (let j = 0; j < rows; j++) {
      const Y = ipp[1] + j * sp * ct;
      const Z = ipp[2] + j * sp * st;
      // acc holds the sum over sub-lines minus S x air: only the head's pixels need adding.
      acc.fill(0);
      if (cov) { cov.fill(0); ids!.fill(0); }
      for (let q = 0; q < subs.length; q++) {
        const y = (Y + subs[q]![0]) / k[1];
        const z = (Z + subs[q]![1]) / k[2];
        const hh = anatomy.headChord(y, z);
        if (hh <= 0) continue;
        if (line.bleed) { line.bleed.fill(0); line.bleedId!.fill(0); }
        anatomy.renderLine(line, y, z);
        for (let b = 0; b < shapes.length; b++) paintShape(line, shapes[b]!, rims[b]!, y, z, placed[b]!.hu, b + 1, placed[b]!.phase, intervals);
        anatomy.beamHardening(line, y, z);
        const hu = line.hu;
        const i0 = Math.max(0, Math.floor((-hh - line.x0) / line.dx) - 1);
        const i1 = Math.min(columns - 1, Math.ceil((hh - line.x0) / line.dx) + 1);
        for (let i = i0; i <= i1; i++) acc[i] += hu[i]! - HU.air;
        if (cov) for (let i = i0; i <= i1; i++) if (line.bleed![i]! > 0) { cov[i] += line.bleed![i]!; ids![i] = line.bleedId![i]!; }
      }
      const base = (s * rows + j) * columns;
      // Noise: a run of the Gaussian table from a pseudo-random start per row (no per-voxel branches).
      noiseAt = (Math.imul(noiseAt ^ (j + s * rows), 2654435761) >>> 0) % (noise.length - columns);
      const lfRow = P.lowFrequencyHu * Math.sin(0.015 * Y + 0.02 * Z + lfPhase);
      const sigma = P.noiseHu;
      const inv = 1 / S;
      const offset = HU.air + 0.5;
      for (let i = 0; i < columns; i++) {
        const v = Math.floor(acc[i]! * inv + offset + sigma * noise[noiseAt + i]! + lfRow * lfCol[i]!);
        data[base + i] = v < -1024 ? -1024 : v > 3071 ? 3071 : v;
      }
      if (labelOut && cov) {
        for (let i = 0; i < columns; i++) {
          const c = cov[i]! / S;
          if (c > 0) { labelOut.coverage[base + i] = c; if (c >= 0.5) labelOut.label[base + i] = ids![i]!; }
        }
      }
    }
  }

  const sliceLocations = slicePositions.map((p) => p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2]);
  const volume: Volume = {
    data, outside: new Uint8Array(data.length), dims: [columns, rows, slices], pixelSpacing: [sp, sp],
    rowDirection: [1, 0, 0], columnDirection: [0, ct, st], normal, slicePositions, sliceLocations,
    sliceSpan: sliceLocations.map(() => th), sliceThickness: th, tiltDegrees: P.tiltDegrees, gaps: [],
    sources: slicePositions.map((_, i) => ({ sopInstanceUid: '', frame: i + 1 })), excluded: [], hounsfield: true,
    meta: { studyInstanceUid: '', seriesInstanceUid: '', modality: 'CT', bodyPart: 'HEAD', seriesDescription: 'PHANTOM HEAD', contrast: false, convolutionKernel: 'STANDARD' },
  };
  const truth: PhantomTruth = { bleeds: truths, params: { ...P, midlineShiftMm: Math.abs(signedShift) } };
  if (signedShift !== 0) truth.midlineShiftMm = round(Math.abs(signedShift), 2);
  return labelOut ? { volume, truth, labels: labelOut } : { volume, truth };
}

function paintShape(line: LineBuffer, shape: Shape, rim: Shape | null, y: number, z: number, hu: number, id: number, phase: number, out: Float64Array): void {
  if (y < shape.y0 - 2 || y > shape.y1 + 2 || z < shape.z0 - 2 || z > shape.z1 + 2) return;
  if (rim) {
    // Slightly hypodense oedema around an intraparenchymal clot; not part of the bleed's truth.
    const n = rim.intervals(y, z, out);
    for (let k = 0; k < n; k++) paint(line, out[2 * k]!, out[2 * k + 1]!, 22);
  }
  const n = shape.intervals(y, z, out);
  const texPhase = phase + 0.55 * y + 0.4 * z;
  for (let k = 0; k < n; k++) {
    const a = out[2 * k]!, b = out[2 * k + 1]!;
    if (!shape.pointMask) { paintBleed(line, a, b, hu, id, 4, 0.5, texPhase); continue; }
    const half = line.dx / 2;
    const s = Math.max(0, Math.ceil((a - line.x0) / line.dx));
    const e = Math.min(line.hu.length - 1, Math.floor((b - line.x0) / line.dx));
    for (let i = s; i <= e; i++) {
      const x = line.x0 + i * line.dx;
      if (shape.pointMask(x, y, z)) paintBleed(line, x - half, x + half, hu, id, 4, 0.5, texPhase);
    }
  }
}

function round(v: number, d: number): number {
  const f = 10 ** d;
  return Math.round(v * f) / f;
}
