import { MedgeError } from '../errors.js';
import { decodeFrame } from './frame-decoder.js';
import type { FrameDecoder, PixelArray } from './native-pixels.js';
import { copySlice } from './rescale.js';
import { readInstance, normalOf, type FrameInfo, type InstanceInfo } from './slice-header.js';
import { selectStack, type Candidate } from './select-stack.js';
import { findGaps, orderStack, sliceSpans, stackTiltDegrees } from './stack-geometry.js';
import type { Vec3, Volume } from './volume.js';

export type { DecodedFrame, FrameDecoder, PixelArray } from './native-pixels.js';

export interface SeriesInstance {
  sopInstanceUid?: string;
  part10: Buffer;
}

export interface BuildVolumeOptions {
  /**
   * Decodes frame `frame` (0-based) of a Part 10 file into stored values. Default: native pixel
   * data read in place, encapsulated through src/dicom/codecs when present.
   */
  decode?: FrameDecoder;
  /** Called once with where the time went, ms: header parsing and selection, decoding, copy with rescale and masking. */
  onTimings?: (timings: BuildTimings) => void;
  /** Monotonic clock in ms for the timings; default performance.now. */
  now?: () => number;
  /**
   * Where the voxel arrays come from (see volume-arena.ts): `outside` must be all zero; `data` is
   * fully written. Default: fresh arrays.
   */
  allocate?: (voxels: number) => { data: Int16Array; outside: Uint8Array };
}

export interface BuildTimings {
  parseMs: number;
  decodeMs: number;
  copyMs: number;
  totalMs: number;
}

/**
 * Builds a volume in patient space from the instances of one series (PS3.3 C.7.6.2 Image Plane,
 * C.7.6.3 Image Pixel, C.8.2.1 CT Image, C.7.6.16 functional groups). Input order does not matter.
 *
 * - Left out, with a reason in `excluded`: unreadable files, non-image objects, other series,
 *   localizers, frames whose orientation, size or pixel spacing differs from the majority (scouts,
 *   summary and secondary images), undecodable frames, and duplicate locations (a DERIVED image
 *   before an ORIGINAL one, else the later by Instance Number, then UID, then frame).
 * - Slices are ordered by dot(Image Position, normal); each keeps its own position, so that a
 *   tilted gantry (stacking direction off the normal) maps exactly through `voxelToPatient`.
 * - `data` holds stored x slope + intercept (HU for CT), Int16, one copy per slice; padding and
 *   out-of-field voxels are marked in `outside` and set to -1024 HU (0 for non-CT), see rescale.ts.
 * Throws MEDGE_ERR_IMAGING_NO_SLICES when no slice is left (the excluded list is in its fields).
 */
export async function buildVolume(instances: readonly SeriesInstance[], options: BuildVolumeOptions = {}): Promise<Volume> {
  const now = options.now ?? (() => performance.now());
  const t0 = now();
  const excluded: Volume['excluded'] = [];
  const parsed: { info: InstanceInfo; part10: Buffer }[] = [];
  instances.forEach((inst, n) => {
    const info = readInstance(inst.part10, inst.sopInstanceUid ?? `#${n + 1}`);
    if (!info) excluded.push({ sopInstanceUid: inst.sopInstanceUid ?? `#${n + 1}`, reason: 'not a readable DICOM Part 10 file' });
    else parsed.push({ info, part10: inst.part10 });
  });

  const selection = selectStack(parsed);
  excluded.push(...selection.excluded);
  let candidates = selection.candidates;
  if (candidates.length === 0) throw noSlices(excluded);
  // The reference for orientation, spacing and meta: the first by rank, whatever the input order.
  const first = candidates.reduce((a, b) => (rankCandidates(b, a) < 0 ? b : a));
  const orientation = first.frame.orientation!;
  const normal = normalOf(orientation);

  const stack = orderStack(candidates, (c) => c.frame.position!, normal, rankCandidates);
  for (const d of stack.duplicates) {
    excluded.push({
      sopInstanceUid: d.entry.info.sopInstanceUid,
      reason: `duplicate position: ${d.location.toFixed(2)} mm along the normal is already taken by ${d.keptInstead.info.sopInstanceUid}${frameLabel(d.keptInstead)}; dropped${frameLabel(d.entry)}`,
    });
  }

  const t1 = now();
  // Decode before laying out the geometry: an undecodable frame is left out, not a failed volume.
  const decoded: { c: Candidate; pixels: PixelArray }[] = [];
  for (const c of stack.ordered) {
    try {
      const frame = await decodeFrame(c.info, c.part10, c.frame.index, options.decode);
      if (frame.pixels.length !== c.info.rows * c.info.columns) throw new Error(`decoded ${frame.pixels.length} pixels, expected ${c.info.rows * c.info.columns}`);
      decoded.push({ c, pixels: frame.pixels });
    } catch (err) {
      excluded.push({ sopInstanceUid: c.info.sopInstanceUid, reason: `pixel data cannot be decoded${frameLabel(c)}: ${(err as Error).message}` });
    }
  }
  if (decoded.length === 0) throw noSlices(excluded);
  candidates = decoded.map((d) => d.c);
  const t2 = now();

  const slicePositions = candidates.map((c) => c.frame.position!);
  const sliceLocations = slicePositions.map((p) => p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2]);
  const gaps = findGaps(sliceLocations);
  const thicknesses = candidates.map((c) => c.info.sliceThickness);
  const nominal = mostCommon(thicknesses);
  const sliceSpan = sliceSpans(sliceLocations, gaps, nominal ?? first.info.spacingBetweenSlices ?? 1);

  const columns = first.info.columns;
  const rows = first.info.rows;
  const perSlice = columns * rows;
  const hounsfield = first.info.modality === 'CT';
  const { data, outside } = options.allocate?.(perSlice * decoded.length) ?? { data: new Int16Array(perSlice * decoded.length), outside: new Uint8Array(perSlice * decoded.length) };
  decoded.forEach(({ c, pixels }, k) => {
    const offset = k * perSlice;
    copySlice(pixels, data, outside, offset, columns, rows, {
      paddingValue: c.info.paddingValue,
      paddingRangeLimit: c.info.paddingRangeLimit,
      slope: c.frame.slope,
      intercept: c.frame.intercept,
      hounsfield,
    });
  });

  const t3 = now();
  options.onTimings?.({ parseMs: t1 - t0, decodeMs: t2 - t1, copyMs: t3 - t2, totalMs: t3 - t0 });
  const spacing = first.frame.pixelSpacing!;
  const contrast = first.info.contrastAgent !== null && first.info.contrastAgent.toUpperCase() !== 'NONE';
  return {
    data,
    outside,
    dims: [columns, rows, decoded.length],
    // (0028,0030) is row spacing (between rows, y) then column spacing (between columns, x).
    pixelSpacing: [spacing[1], spacing[0]],
    rowDirection: [orientation[0], orientation[1], orientation[2]],
    columnDirection: [orientation[3], orientation[4], orientation[5]],
    normal,
    slicePositions: slicePositions.map((p): Vec3 => [p[0], p[1], p[2]]),
    sliceLocations,
    sliceSpan,
    sliceThickness: nominal,
    sliceThicknesses: thicknesses,
    tiltDegrees: stackTiltDegrees(slicePositions, normal),
    headerTiltDegrees: first.info.gantryTilt,
    gaps,
    sources: candidates.map((c) => ({ sopInstanceUid: c.info.sopInstanceUid, frame: c.frame.index + 1 })),
    excluded,
    hounsfield,
    meta: {
      studyInstanceUid: first.info.studyInstanceUid,
      seriesInstanceUid: first.info.seriesInstanceUid,
      modality: first.info.modality,
      bodyPart: first.info.bodyPart,
      seriesDescription: first.info.seriesDescription,
      contrast,
      convolutionKernel: first.info.convolutionKernel,
    },
  };
}

/** Which of two slices at one location is kept: ORIGINAL before DERIVED, then lower Instance Number, then UID, then frame. */
function rankCandidates(a: Candidate, b: Candidate): number {
  const da = a.info.imageType[0] === 'DERIVED' ? 1 : 0;
  const db = b.info.imageType[0] === 'DERIVED' ? 1 : 0;
  if (da !== db) return da - db;
  const ia = a.info.instanceNumber ?? Number.POSITIVE_INFINITY;
  const ib = b.info.instanceNumber ?? Number.POSITIVE_INFINITY;
  if (ia !== ib) return ia < ib ? -1 : 1;
  if (a.info.sopInstanceUid !== b.info.sopInstanceUid) return a.info.sopInstanceUid < b.info.sopInstanceUid ? -1 : 1;
  return a.frame.index - b.frame.index;
}

function frameLabel(c: { info: InstanceInfo; frame: FrameInfo }): string {
  return c.info.frames.length > 1 ? ` (frame ${c.frame.index + 1})` : '';
}

/** The most frequent non-null value (ties: the smaller), or null. */
function mostCommon(values: readonly (number | null)[]): number | null {
  const counts = new Map<number, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: number | null = null;
  let bestCount = 0;
  for (const [v, n] of counts) if (n > bestCount || (n === bestCount && best !== null && v < best)) (best = v), (bestCount = n);
  return best;
}

function noSlices(excluded: Volume['excluded']): MedgeError {
  return new MedgeError('MEDGE_ERR_IMAGING_NO_SLICES', `no image slice of the series can be built into a volume (${excluded.length} left out)`, {
    excluded,
  });
}
