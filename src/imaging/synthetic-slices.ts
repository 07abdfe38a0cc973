import { el, tag, writePart10, type DataElement, type TransferSyntax } from '../dicom/dataset-writer.js';
import { generateUid, TS } from '../dicom/uids.js';
import type { Vec3 } from './volume.js';

/** CT Image Storage and Enhanced CT Image Storage (PS3.4 B.5). */
const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';
const ENHANCED_CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2.1';

export interface SliceSpec {
  studyUid: string;
  seriesUid: string;
  sopInstanceUid?: string;
  instanceNumber?: number;
  position: Vec3;
  /** Default axial [1,0,0, 0,1,0]. */
  orientation?: number[];
  rows: number;
  columns: number;
  /** Pixel Spacing (0028,0030) as written: [row spacing, column spacing]. Default [0.5, 0.5]. */
  pixelSpacing?: [number, number];
  sliceThickness?: number;
  imageType?: string[];
  /** Stored values of each frame (rows x columns each); one for a single-frame instance. */
  frames: (Int16Array | Uint16Array)[];
  /** Per-frame positions (Plane Position Sequence) for multi-frame; omitted: the functional groups carry none. */
  framePositions?: Vec3[];
  /** Per-frame rescale (Pixel Value Transformation Sequence) for multi-frame. */
  frameRescale?: { slope: number; intercept: number }[];
  spacingBetweenSlices?: number;
  slope?: number;
  intercept?: number;
  paddingValue?: number;
  paddingRangeLimit?: number;
  contrastAgent?: string;
  kernel?: string;
  bodyPart?: string;
  modality?: string;
  transferSyntaxUid?: TransferSyntax;
  /** Bits Stored (0028,0101); default 16 (High Bit = Bits Stored - 1). */
  bitsStored?: number;
}

/**
 * An in-memory Part 10 CT instance for tests (house style 2: written strictly with the project's
 * writer): a CT Image, or an Enhanced CT-like multi-frame with functional groups when several
 * frames are given. Only the attributes the volume builder reads, plus the UIDs.
 */
export function syntheticSlice(s: SliceSpec): Buffer {
  const signed = s.frames[0] instanceof Int16Array;
  const multi = s.frames.length > 1 || s.framePositions !== undefined;
  const sopInstanceUid = s.sopInstanceUid ?? generateUid();
  const sopClass = multi ? ENHANCED_CT_IMAGE : CT_IMAGE;
  const us = signed ? 'SS' : 'US';
  const pixels = Buffer.concat(s.frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength)));
  const plane = (p: Vec3): DataElement => el(tag(0x0020, 0x9113), 'SQ', [[el(tag(0x0020, 0x0032), 'DS', p)]]);
  const elements: DataElement[] = [
    el(tag(0x0008, 0x0008), 'CS', s.imageType ?? ['ORIGINAL', 'PRIMARY', 'AXIAL']),
    el(tag(0x0008, 0x0016), 'UI', sopClass),
    el(tag(0x0008, 0x0018), 'UI', sopInstanceUid),
    el(tag(0x0008, 0x0060), 'CS', s.modality ?? 'CT'),
    el(tag(0x0008, 0x103e), 'LO', 'SYNTHETIC'),
    el(tag(0x0018, 0x0015), 'CS', s.bodyPart ?? 'HEAD'),
    el(tag(0x0018, 0x1210), 'SH', s.kernel ?? 'STANDARD'),
    el(tag(0x0020, 0x000d), 'UI', s.studyUid),
    el(tag(0x0020, 0x000e), 'UI', s.seriesUid),
    el(tag(0x0020, 0x0013), 'IS', s.instanceNumber ?? 1),
    el(tag(0x0020, 0x0032), 'DS', s.position),
    el(tag(0x0020, 0x0037), 'DS', s.orientation ?? [1, 0, 0, 0, 1, 0]),
    el(tag(0x0028, 0x0002), 'US', 1),
    el(tag(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    el(tag(0x0028, 0x0010), 'US', s.rows),
    el(tag(0x0028, 0x0011), 'US', s.columns),
    el(tag(0x0028, 0x0030), 'DS', s.pixelSpacing ?? [0.5, 0.5]),
    el(tag(0x0028, 0x0100), 'US', 16),
    el(tag(0x0028, 0x0101), 'US', s.bitsStored ?? 16),
    el(tag(0x0028, 0x0102), 'US', (s.bitsStored ?? 16) - 1),
    el(tag(0x0028, 0x0103), 'US', signed ? 1 : 0),
    el(tag(0x0028, 0x1052), 'DS', s.intercept ?? 0),
    el(tag(0x0028, 0x1053), 'DS', s.slope ?? 1),
    el(tag(0x7fe0, 0x0010), 'OW', pixels),
  ];
  if (s.sliceThickness !== undefined) elements.push(el(tag(0x0018, 0x0050), 'DS', s.sliceThickness));
  if (s.spacingBetweenSlices !== undefined) elements.push(el(tag(0x0018, 0x0088), 'DS', s.spacingBetweenSlices));
  if (s.contrastAgent !== undefined) elements.push(el(tag(0x0018, 0x0010), 'LO', s.contrastAgent));
  if (s.paddingValue !== undefined) elements.push(el(tag(0x0028, 0x0120), us, s.paddingValue));
  if (s.paddingRangeLimit !== undefined) elements.push(el(tag(0x0028, 0x0121), us, s.paddingRangeLimit));
  if (multi) {
    elements.push(el(tag(0x0028, 0x0008), 'IS', s.frames.length));
    if (s.framePositions) {
      elements.push(
        el(
          tag(0x5200, 0x9230),
          'SQ',
          s.framePositions.map((p, f) => {
            const item = [plane(p)];
            const r = s.frameRescale?.[f];
            if (r) item.push(el(tag(0x0028, 0x9145), 'SQ', [[el(tag(0x0028, 0x1052), 'DS', r.intercept), el(tag(0x0028, 0x1053), 'DS', r.slope)]]));
            return item;
          }),
        ),
      );
    }
  }
  return writePart10({ mediaStorageSopClassUid: sopClass, mediaStorageSopInstanceUid: sopInstanceUid, transferSyntaxUid: s.transferSyntaxUid ?? TS.ExplicitVRLittleEndian }, elements);
}

export interface SeriesSpec {
  slices: number;
  rows?: number;
  columns?: number;
  /** Spacing along z, mm; default 5. */
  spacing?: number;
  /** Indices of slices not written (missing slices). */
  skip?: number[];
  /** Stored value of every pixel of slice k; default k. */
  value?: (k: number, i: number) => number;
  intercept?: number;
  transferSyntaxUid?: TransferSyntax;
}

/** An axial series of small single-frame slices at z = k x spacing, stored values from `value`. */
export function syntheticSeries(spec: SeriesSpec): { studyUid: string; seriesUid: string; instances: { sopInstanceUid: string; part10: Buffer }[] } {
  const studyUid = generateUid();
  const seriesUid = generateUid();
  const rows = spec.rows ?? 8;
  const columns = spec.columns ?? 8;
  const spacing = spec.spacing ?? 5;
  const instances: { sopInstanceUid: string; part10: Buffer }[] = [];
  for (let k = 0; k < spec.slices; k++) {
    if (spec.skip?.includes(k)) continue;
    const px = new Int16Array(rows * columns);
    for (let i = 0; i < px.length; i++) px[i] = spec.value ? spec.value(k, i) : k;
    const sopInstanceUid = generateUid();
    const part10 = syntheticSlice({
      studyUid,
      seriesUid,
      sopInstanceUid,
      instanceNumber: k + 1,
      position: [-10, -10, k * spacing],
      rows,
      columns,
      sliceThickness: spacing,
      intercept: spec.intercept,
      frames: [px],
      transferSyntaxUid: spec.transferSyntaxUid,
    });
    instances.push({ sopInstanceUid, part10 });
  }
  return { studyUid, seriesUid, instances };
}
