import type { PixelArray } from './native-pixels.js';

/** Air in HU: the value given to CT voxels outside the field of view or padding. */
export const OUTSIDE_HU = -1024;
/** Value given to padding voxels of modalities without Hounsfield units (MR, ...). */
export const OUTSIDE_OTHER = 0;
/**
 * Out-of-field detection (CT only): the corner value must be below air by this much (HU), so that
 * a scanner that clips air at -1024 (or stores it as 0 with intercept -1024) is not mistaken for
 * padding; the values outside the reconstruction circle are typically -2000, -3024, -1500 or -2048.
 */
const OUT_OF_FIELD_BELOW_HU = OUTSIDE_HU - 1;

const INT16_MIN = -32768;
const INT16_MAX = 32767;

/**
 * Copies one frame of stored values into `out` at `offset`, applying Rescale Slope and Intercept
 * (PS3.3 C.11.1.1.2: output = stored x slope + intercept, rounded, clamped to Int16).
 */
export function rescaleInto(src: PixelArray, out: Int16Array, offset: number, slope: number, intercept: number): void {
  rescaleRange(src, out, offset, 0, src.length, slope, intercept);
}

/**
 * src[from..to) rescaled into out[offset + from..offset + to), in one tight loop: a plain memory
 * copy when slope 1 and intercept 0 with Int16 input, an integer add when the slope is 1.
 */
function rescaleRange(src: PixelArray, out: Int16Array, offset: number, from: number, to: number, slope: number, intercept: number): void {
  if (slope === 1 && intercept === 0 && src instanceof Int16Array) {
    out.set(src.subarray(from, to), offset + from);
    return;
  }
  if (slope === 1 && Number.isInteger(intercept)) {
    for (let i = from, o = offset + from; i < to; i++, o++) {
      const v = src[i]! + intercept;
      out[o] = v < INT16_MIN ? INT16_MIN : v > INT16_MAX ? INT16_MAX : v;
    }
    return;
  }
  for (let i = from, o = offset + from; i < to; i++, o++) {
    const v = Math.round(src[i]! * slope + intercept);
    out[o] = v < INT16_MIN ? INT16_MIN : v > INT16_MAX ? INT16_MAX : v;
  }
}

export interface OutsideRule {
  /** Pixel Padding Value (0028,0120) and Range Limit (0028,0121), stored values (PS3.3 C.7.5.1.1.2), or null. */
  paddingValue: number | null;
  paddingRangeLimit: number | null;
  slope: number;
  intercept: number;
  /** CT in HU: also detect the out-of-field region without a padding attribute, and fill with OUTSIDE_HU. */
  hounsfield: boolean;
}

/**
 * Copies one frame into `out` at `offset` with the rescale applied (as rescaleInto) and marks the
 * voxels that are padding or outside the reconstructed field of view (`outside` = 1), setting them
 * to OUTSIDE_HU (CT) or OUTSIDE_OTHER. Returns how many were marked.
 *
 * Which values: stored values equal to Pixel Padding Value, or within [value, range limit] when
 * the limit is given (PS3.3 C.7.5.1.1.2), compared after rescale (a negative slope swaps the
 * bounds); and, for CT without or beside padding attributes, the out-of-field constant: when at
 * least two image corners hold the same value below air (< -1024 HU), every voxel at or below it.
 * Air inside the field has noise, so two corners never share one value below -1024 by chance in
 * practice; a scanner's out-of-field constant (-2000, -3024, -1500, -2048...) always does.
 *
 * Where: the region outside the reconstruction circle touches the image border, so each row is
 * walked in from both ends while the values are outside; the part in between is copied in one
 * tight loop (a memory copy for Int16 with slope 1 and intercept 0). Such values inside the
 * field of view, not connected to the row's ends, are kept: they are not padding but data (a
 * scanner that pads with a value real air can take, such as -1024 HU, must not punch holes in
 * the head).
 */
export function copySlice(src: PixelArray, out: Int16Array, outside: Uint8Array, offset: number, columns: number, rows: number, rule: OutsideRule): number {
  const { slope, intercept } = rule;
  const rescale = (v: number) => clamp(Math.round(v * slope + intercept));
  let lo = 1;
  let hi = 0; // empty range
  if (rule.paddingValue !== null) {
    const a = rescale(rule.paddingValue);
    const b = rule.paddingRangeLimit === null ? a : rescale(rule.paddingRangeLimit);
    lo = Math.min(a, b);
    hi = Math.max(a, b);
  }
  let below = INT16_MIN - 1; // nothing is at or below it
  if (rule.hounsfield) {
    const last = rows * columns - 1;
    const corners = [src[0]!, src[columns - 1]!, src[last - columns + 1]!, src[last]!].map(rescale);
    const c = Math.min(...corners);
    if (c <= OUT_OF_FIELD_BELOW_HU && corners.filter((v) => v === c).length >= 2) below = c;
  }
  if (hi < lo && below < INT16_MIN) {
    rescaleRange(src, out, offset, 0, src.length, slope, intercept);
    return 0;
  }
  const isOutside = (stored: number) => {
    const v = rescale(stored);
    return v <= below || (v >= lo && v <= hi);
  };
  const fill = rule.hounsfield ? OUTSIDE_HU : OUTSIDE_OTHER;
  let count = 0;
  for (let y = 0; y < rows; y++) {
    const start = y * columns;
    const end = start + columns;
    let l = start;
    while (l < end && isOutside(src[l]!)) l++;
    let r = end;
    while (r > l && isOutside(src[r - 1]!)) r--;
    if (l > start) {
      out.fill(fill, offset + start, offset + l);
      outside.fill(1, offset + start, offset + l);
    }
    if (r < end) {
      out.fill(fill, offset + r, offset + end);
      outside.fill(1, offset + r, offset + end);
    }
    count += l - start + (end - r);
    if (r > l) rescaleRange(src, out, offset, l, r, slope, intercept);
  }
  return count;
}

function clamp(v: number): number {
  return v < INT16_MIN ? INT16_MIN : v > INT16_MAX ? INT16_MAX : v;
}
