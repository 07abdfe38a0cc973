import type { FrameInfo, InstanceInfo } from './slice-header.js';
import type { Volume } from './volume.js';

/** One frame that may become a slice. */
export interface Candidate {
  info: InstanceInfo;
  part10: Buffer;
  frame: FrameInfo;
}

/** Direction cosines closer than this (each component) are one orientation. */
const ORIENTATION_TOLERANCE = 1e-3;
/** Pixel spacings within this fraction of each other are one spacing. */
const SPACING_TOLERANCE = 1e-3;

/**
 * Chooses the frames that form the stack: image objects of the main series (the one with the most
 * frames), not localizers, whose orientation, Rows/Columns and Pixel Spacing agree with the
 * majority of frames. Everything else is returned in `excluded` with the reason (one entry per
 * instance and reason; a multi-frame instance names its frames).
 */
export function selectStack(parsed: readonly { info: InstanceInfo; part10: Buffer }[]): { candidates: Candidate[]; excluded: Volume['excluded'] } {
  const excluded: Volume['excluded'] = [];
  const leave = (info: InstanceInfo, reason: string) => excluded.push({ sopInstanceUid: info.sopInstanceUid, reason });

  const images = parsed.filter(({ info }) => {
    if (!info.hasPixelData || info.rows === 0 || info.columns === 0) return leave(info, 'non-image object (no Pixel Data)'), false;
    return true;
  });
  const series = majority(images.map(({ info }) => ({ key: info.seriesInstanceUid, weight: info.frames.length })));
  const frames: Candidate[] = [];
  for (const { info, part10 } of images) {
    if (info.seriesInstanceUid !== series) leave(info, `belongs to another series (${info.seriesInstanceUid || 'none'})`);
    else if (info.imageType.includes('LOCALIZER')) leave(info, `localizer (Image Type ${info.imageType.join('\\')})`);
    else if (info.samplesPerPixel !== 1) leave(info, `not grayscale (${info.samplesPerPixel} samples per pixel, ${info.photometric ?? 'no photometric interpretation'})`);
    else {
      const missing = info.frames.filter((f) => !f.position || !f.orientation || !f.pixelSpacing);
      if (missing.length > 0) leave(info, `no Image Position/Orientation (Patient) or Pixel Spacing${framesLabel(info, missing)}`);
      for (const frame of info.frames) if (frame.position && frame.orientation && frame.pixelSpacing) frames.push({ info, part10, frame });
    }
  }
  if (frames.length === 0) return { candidates: [], excluded };

  // The majority of frames fixes orientation, size and spacing. Orientations and spacings are
  // clustered with a tolerance (not rounded to a grid), so that DS rounding differences between
  // slices never split the stack.
  const orientations = new Clusters(ORIENTATION_TOLERANCE, false);
  const spacings = new Clusters(SPACING_TOLERANCE, true);
  const orientationKey = (c: Candidate) => orientations.key(c.frame.orientation!);
  const sizeKey = (c: Candidate) => `${c.info.columns}x${c.info.rows}`;
  const spacingKey = (c: Candidate) => spacings.key(c.frame.pixelSpacing!);
  const best = {
    orientation: majority(frames.map((c) => ({ key: orientationKey(c), weight: 1 }))),
    size: majority(frames.map((c) => ({ key: sizeKey(c), weight: 1 }))),
    spacing: majority(frames.map((c) => ({ key: spacingKey(c), weight: 1 }))),
  };
  const candidates: Candidate[] = [];
  const rejected = new Map<string, { info: InstanceInfo; reason: string; frames: FrameInfo[] }>();
  for (const c of frames) {
    const derived = c.info.imageType.includes('DERIVED') || c.info.imageType.includes('SECONDARY');
    let reason: string | null = null;
    if (orientationKey(c) !== best.orientation) {
      reason = derived
        ? `summary or derived image (Image Type ${c.info.imageType.join('\\')}) in another orientation than the stack`
        : 'orientation differs from the majority of the series (scout, localizer or reformat)';
    } else if (sizeKey(c) !== best.size) {
      reason = `${derived ? 'summary or derived image: ' : ''}Rows/Columns ${c.info.rows}x${c.info.columns} differ from the majority (${best.size.split('x').reverse().join('x')})`;
    } else if (spacingKey(c) !== best.spacing) {
      reason = `${derived ? 'summary or derived image: ' : ''}Pixel Spacing ${c.frame.pixelSpacing!.join('\\')} differs from the majority of the series`;
    }
    if (reason === null) {
      candidates.push(c);
      continue;
    }
    const key = `${c.info.sopInstanceUid}|${reason}`;
    const entry = rejected.get(key) ?? { info: c.info, reason, frames: [] };
    entry.frames.push(c.frame);
    rejected.set(key, entry);
  }
  for (const r of rejected.values()) leave(r.info, `${r.reason}${framesLabel(r.info, r.frames)}`);
  return { candidates, excluded };
}

/**
 * Groups number vectors that agree within a tolerance (absolute, or relative when `relative`) with
 * the first vector of a group. Keys are the group representatives, so equal input gives equal keys
 * whatever the order, as long as the groups are further apart than the tolerance (they are: a
 * scout is 90 degrees off, another reconstruction a different pixel size).
 */
class Clusters {
  private readonly reps: number[][] = [];
  constructor(
    private readonly tolerance: number,
    private readonly relative: boolean,
  ) {}

  key(values: readonly number[]): string {
    let rep = this.reps.find((r) => r.every((x, i) => Math.abs(x - values[i]!) <= this.tolerance * (this.relative ? Math.abs(x) : 1)));
    if (!rep) this.reps.push((rep = [...values]));
    return rep.map((x) => x.toFixed(4)).join('\\');
  }
}

/** The key with the largest total weight; ties go to the smaller key, so input order does not matter. */
function majority(items: readonly { key: string; weight: number }[]): string {
  const totals = new Map<string, number>();
  for (const { key, weight } of items) totals.set(key, (totals.get(key) ?? 0) + weight);
  let best = '';
  let bestWeight = -1;
  for (const [key, w] of totals) if (w > bestWeight || (w === bestWeight && key < best)) (best = key), (bestWeight = w);
  return best;
}

function framesLabel(info: InstanceInfo, frames: readonly FrameInfo[]): string {
  if (info.frames.length <= 1) return '';
  if (frames.length === info.frames.length) return ` (all ${frames.length} frames)`;
  return ` (frames ${frames.map((f) => f.index + 1).join(', ')})`;
}
