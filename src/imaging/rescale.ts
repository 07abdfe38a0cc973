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
 * (PS3.3 C.11.1.1.2: output = stored x slope + intercept, rounded, clamped to Int16). One pass;
 * a plain copy when slope 1 and intercept 0 with Int16 input, an integer add when the slope is 1.
 */
export function rescaleInto(src: PixelArray, out: Int16Array, offset: number, slope: number, intercept: number): void {
  const n = src.length;
  if (slope === 1 && intercept === 0 && src instanceof Int16Array) {
    out.set(src, offset);
    return;
  }
  if (slope === 1 && Number.isInteger(intercept)) {
    const b = intercept;
    for (let i = 0; i < n; i++) {
      const v = src[i]! + b;
      out[offset + i] = v < INT16_MIN ? INT16_MIN : v > INT16_MAX ? INT16_MAX : v;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const v = Math.round(src[i]! * slope + intercept);
    out[offset + i] = v < INT16_MIN ? INT16_MIN : v > INT16_MAX ? INT16_MAX : v;
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
 * Marks the voxels of one slice that are padding or outside the reconstructed field of view
 * (`outside` = 1) and sets them to OUTSIDE_HU (CT) or OUTSIDE_OTHER. Returns how many.
 *
 * Padding: stored values equal to Pixel Padding Value, or within [value, range limit] when the
 * limit is given, compared after rescale (slope > 0 keeps the order; < 0 swaps the bounds).
 * Out-of-field (CT): the region outside the reconstruction circle always contains the image
 * corners. When at least two corners hold the same value, below air (< -1024 HU), every voxel at
 * or below that value is outside. Air inside the field has noise, so two corners never share one
 * value below -1024 by chance in practice; a scanner's out-of-field constant always does.
 */
export function markOutside(data: Int16Array, outside: Uint8Array, offset: number, columns: number, rows: number, rule: OutsideRule): number {
  let lo = 1;
  let hi = 0; // empty range
  if (rule.paddingValue !== null) {
    const a = Math.round(rule.paddingValue * rule.slope + rule.intercept);
    const b = rule.paddingRangeLimit === null ? a : Math.round(rule.paddingRangeLimit * rule.slope + rule.intercept);
    lo = Math.min(a, b);
    hi = Math.max(a, b);
  }
  let below = INT16_MIN - 1; // nothing is at or below it
  if (rule.hounsfield) {
    const last = rows * columns - 1;
    const corners = [data[offset]!, data[offset + columns - 1]!, data[offset + last - columns + 1]!, data[offset + last]!];
    const c = Math.min(...corners);
    if (c <= OUT_OF_FIELD_BELOW_HU && corners.filter((v) => v === c).length >= 2) below = c;
  }
  if (hi < lo && below < INT16_MIN) return 0;
  const fill = rule.hounsfield ? OUTSIDE_HU : OUTSIDE_OTHER;
  const end = offset + rows * columns;
  let count = 0;
  for (let i = offset; i < end; i++) {
    const v = data[i]!;
    if (v <= below || (v >= lo && v <= hi)) {
      data[i] = fill;
      outside[i] = 1;
      count++;
    }
  }
  return count;
}
