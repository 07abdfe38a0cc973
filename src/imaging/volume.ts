/**
 * A CT/MR volume in patient space (PS3.3 C.7.6.2, Image Plane): what the analyzers consume.
 * Built from a series by src/imaging/build-volume.ts. Coordinates are DICOM patient coordinates
 * (LPS: x to the patient's left, y to posterior, z to head), in mm.
 */
export type Vec3 = [number, number, number];

export interface Volume {
  /** Voxel values: Hounsfield units for CT (rescaled), stored values otherwise. x fastest, then y, then slice. */
  data: Int16Array;
  /** 1 where a voxel is outside the scanned field of view or pixel padding (PS3.3 C.7.5.1.1.2), else 0. */
  outside: Uint8Array;
  /** [columns, rows, slices]. */
  dims: [number, number, number];
  /** Pixel Spacing as [between columns (x), between rows (y)], mm (PS3.3 10.7.1.3: row spacing first in the attribute). */
  pixelSpacing: [number, number];
  /** Direction cosines of a row (increasing column index) and of a column (increasing row index). */
  rowDirection: Vec3;
  columnDirection: Vec3;
  /** Unit normal of the image plane: rowDirection x columnDirection. */
  normal: Vec3;
  /** Image Position (Patient) of each slice (centre of its first voxel), slices ordered by position along `normal`. */
  slicePositions: Vec3[];
  /** Signed distance of each slice along `normal`, mm, ascending. */
  sliceLocations: number[];
  /**
   * Thickness of tissue each slice stands for along the normal, mm: half the distance to each
   * neighbour; an end slice counts its one neighbour distance (slice thickness when there is a single
   * slice); across a gap a slice claims half the expected spacing only (src/imaging/stack-geometry.ts).
   */
  sliceSpan: number[];
  /** Nominal Slice Thickness (0018,0050), mm, or null: the most common one when slices differ. */
  sliceThickness: number | null;
  /** Slice Thickness (0018,0050) of each slice, mm, or null (optional: series may mix thicknesses). */
  sliceThicknesses?: (number | null)[];
  /** Gantry/Detector Tilt (0018,1120) from the header, degrees, or null (for comparison with `tiltDegrees`). */
  headerTiltDegrees?: number | null;
  /** Angle between the stacking direction (slice to slice) and the normal, degrees: gantry tilt as the geometry shows it. */
  tiltDegrees: number;
  /** Gaps: after slice i the next one is further than 1.5 x the median spacing of its neighbours (up to 3 spacings each side). */
  gaps: { afterSlice: number; distanceMm: number; expectedMm: number }[];
  /** SOP Instance UID and frame number (1-based; 1 for single-frame) of each slice. */
  sources: { sopInstanceUid: string; frame: number }[];
  /** Instances of the series left out, with the reason (localizer, summary image, non-image, other orientation...). */
  excluded: { sopInstanceUid: string; reason: string }[];
  /** Whether `data` is in HU (CT with rescale applied). */
  hounsfield: boolean;
  meta: {
    studyInstanceUid: string;
    seriesInstanceUid: string;
    modality: string;
    bodyPart: string | null;
    seriesDescription: string | null;
    /** Contrast/Bolus Agent (0018,0010) present and not empty/"NONE". */
    contrast: boolean;
    convolutionKernel: string | null;
  };
}

/** Voxel volume in mL of a voxel of slice `k` (pixel area x the slice's span along the normal). */
export function voxelMl(v: Volume, k: number): number {
  return (v.pixelSpacing[0] * v.pixelSpacing[1] * v.sliceSpan[k]!) / 1000;
}

/** Patient coordinates (mm) of voxel (column i, row j) in slice k. */
export function voxelToPatient(v: Volume, i: number, j: number, k: number): Vec3 {
  const p = v.slicePositions[k]!;
  const [sx, sy] = v.pixelSpacing;
  return [
    p[0] + v.rowDirection[0] * sx * i + v.columnDirection[0] * sy * j,
    p[1] + v.rowDirection[1] * sx * i + v.columnDirection[1] * sy * j,
    p[2] + v.rowDirection[2] * sx * i + v.columnDirection[2] * sy * j,
  ];
}
