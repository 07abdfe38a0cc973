import type { DataSet } from 'dicom-parser';
import { parseDataSetHeader } from '../dicom/header.js';
import { readFileMeta } from '../dicom/part10.js';
import type { Vec3 } from './volume.js';

/** What the volume builder reads from one instance (PS3.3 C.7.6.2, C.7.6.3, C.8.2.1, C.7.6.16). */
export interface InstanceInfo {
  dataSet: DataSet;
  transferSyntaxUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  modality: string;
  bodyPart: string | null;
  seriesDescription: string | null;
  contrastAgent: string | null;
  convolutionKernel: string | null;
  imageType: string[];
  instanceNumber: number | null;
  hasPixelData: boolean;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  samplesPerPixel: number;
  photometric: string | null;
  /** Pixel Padding Value (0028,0120) and Pixel Padding Range Limit (0028,0121), stored values, or null. */
  paddingValue: number | null;
  paddingRangeLimit: number | null;
  sliceThickness: number | null;
  spacingBetweenSlices: number | null;
  gantryTilt: number | null;
  frames: FrameInfo[];
}

/** Geometry and rescale of one frame (the only one for a single-frame instance). */
export interface FrameInfo {
  /** 0-based frame index in the instance. */
  index: number;
  position: Vec3 | null;
  /** Row direction cosines then column direction cosines (0020,0037). */
  orientation: [number, number, number, number, number, number] | null;
  /** [row spacing, column spacing] as in (0028,0030): between rows (y) first. */
  pixelSpacing: [number, number] | null;
  slope: number;
  intercept: number;
}

const T = {
  sopInstanceUid: 'x00080018',
  seriesInstanceUid: 'x0020000e',
  studyInstanceUid: 'x0020000d',
  modality: 'x00080060',
  bodyPart: 'x00180015',
  seriesDescription: 'x0008103e',
  contrastAgent: 'x00180010',
  convolutionKernel: 'x00181210',
  imageType: 'x00080008',
  instanceNumber: 'x00200013',
  rows: 'x00280010',
  columns: 'x00280011',
  bitsAllocated: 'x00280100',
  bitsStored: 'x00280101',
  pixelRepresentation: 'x00280103',
  samplesPerPixel: 'x00280002',
  photometric: 'x00280004',
  paddingValue: 'x00280120',
  paddingRangeLimit: 'x00280121',
  sliceThickness: 'x00180050',
  spacingBetweenSlices: 'x00180088',
  gantryTilt: 'x00181120',
  numberOfFrames: 'x00280008',
  position: 'x00200032',
  orientation: 'x00200037',
  pixelSpacing: 'x00280030',
  slope: 'x00281053',
  intercept: 'x00281052',
  pixelData: 'x7fe00010',
  // Multi-frame Functional Groups (PS3.3 C.7.6.16)
  sharedGroups: 'x52009229',
  perFrameGroups: 'x52009230',
  planePosition: 'x00209113',
  planeOrientation: 'x00209116',
  pixelMeasures: 'x00289110',
  pixelValueTransformation: 'x00289145',
} as const;

/** Parses a Part 10 file's header; null when it is not Part 10 DICOM or cannot be parsed. */
export function readInstance(part10: Buffer, fallbackUid = ''): InstanceInfo | null {
  const meta = readFileMeta(part10);
  if (!meta) return null;
  let ds: DataSet;
  try {
    const parsed = parseDataSetHeader(part10, meta.transferSyntaxUid, part10.length);
    if (parsed.kind !== 'ok') return null;
    ds = parsed.dataSet;
  } catch {
    return null;
  }
  const signed = (us(ds, T.pixelRepresentation) ?? 0) === 1;
  const numberOfFrames = Math.max(1, Math.trunc(num(ds, T.numberOfFrames) ?? 1));
  const base: FrameInfo = {
    index: 0,
    position: vec(ds, T.position, 3) as Vec3 | null,
    orientation: vec(ds, T.orientation, 6) as FrameInfo['orientation'],
    pixelSpacing: vec(ds, T.pixelSpacing, 2) as [number, number] | null,
    slope: num(ds, T.slope) ?? 1,
    intercept: num(ds, T.intercept) ?? 0,
  };
  const info: InstanceInfo = {
    dataSet: ds,
    transferSyntaxUid: meta.transferSyntaxUid,
    sopInstanceUid: str(ds, T.sopInstanceUid) ?? (meta.mediaStorageSopInstanceUid || fallbackUid),
    seriesInstanceUid: str(ds, T.seriesInstanceUid) ?? '',
    studyInstanceUid: str(ds, T.studyInstanceUid) ?? '',
    modality: str(ds, T.modality) ?? '',
    bodyPart: str(ds, T.bodyPart),
    seriesDescription: str(ds, T.seriesDescription),
    contrastAgent: str(ds, T.contrastAgent),
    convolutionKernel: str(ds, T.convolutionKernel),
    imageType: (str(ds, T.imageType) ?? '').split('\\').map((s) => s.trim().toUpperCase()).filter(Boolean),
    instanceNumber: num(ds, T.instanceNumber),
    hasPixelData: ds.elements[T.pixelData] !== undefined,
    rows: us(ds, T.rows) ?? 0,
    columns: us(ds, T.columns) ?? 0,
    bitsAllocated: us(ds, T.bitsAllocated) ?? 16,
    bitsStored: us(ds, T.bitsStored) ?? 0,
    pixelRepresentation: signed ? 1 : 0,
    samplesPerPixel: us(ds, T.samplesPerPixel) ?? 1,
    photometric: str(ds, T.photometric),
    paddingValue: padding(ds, T.paddingValue, signed),
    paddingRangeLimit: padding(ds, T.paddingRangeLimit, signed),
    sliceThickness: num(ds, T.sliceThickness),
    spacingBetweenSlices: num(ds, T.spacingBetweenSlices),
    gantryTilt: num(ds, T.gantryTilt),
    frames: [],
  };
  info.frames = numberOfFrames === 1 && !ds.elements[T.perFrameGroups] ? [applyGroups(base, sharedGroup(ds))] : multiFrame(ds, base, numberOfFrames, info);
  return info;
}

function sharedGroup(ds: DataSet): DataSet | undefined {
  return ds.elements[T.sharedGroups]?.items?.[0]?.dataSet;
}

/**
 * Per-frame geometry of a multi-frame instance (PS3.3 C.7.6.16): Per-frame Functional Groups first,
 * then Shared Functional Groups, then the top-level attributes; a frame without any position is
 * placed along the normal from Image Position (Patient) every Spacing Between Slices (else Slice
 * Thickness), as a legacy multi-frame stack.
 */
function multiFrame(ds: DataSet, base: FrameInfo, count: number, info: InstanceInfo): FrameInfo[] {
  const shared = sharedGroup(ds);
  const perFrame = ds.elements[T.perFrameGroups]?.items;
  const common = applyGroups(base, shared);
  if (shared) {
    const measures = shared.elements[T.pixelMeasures]?.items?.[0]?.dataSet;
    if (measures) {
      info.sliceThickness = num(measures, T.sliceThickness) ?? info.sliceThickness;
      info.spacingBetweenSlices = num(measures, T.spacingBetweenSlices) ?? info.spacingBetweenSlices;
    }
  }
  const frames: FrameInfo[] = [];
  for (let f = 0; f < count; f++) {
    const own = perFrame?.[f]?.dataSet;
    const frame = applyGroups({ ...common, index: f }, own);
    if (!own?.elements[T.planePosition] && !shared?.elements[T.planePosition] && frame.position && frame.orientation && f > 0) {
      const step = info.spacingBetweenSlices ?? info.sliceThickness ?? 1;
      const n = normalOf(frame.orientation);
      const p = frame.position;
      frame.position = [p[0] + n[0] * step * f, p[1] + n[1] * step * f, p[2] + n[2] * step * f];
    }
    frames.push(frame);
  }
  return frames;
}

/** Overrides a frame's geometry and rescale with those of one functional group item. */
function applyGroups(frame: FrameInfo, group: DataSet | undefined): FrameInfo {
  if (!group) return frame;
  const out = { ...frame };
  const position = group.elements[T.planePosition]?.items?.[0]?.dataSet;
  const orientation = group.elements[T.planeOrientation]?.items?.[0]?.dataSet;
  const measures = group.elements[T.pixelMeasures]?.items?.[0]?.dataSet;
  const transform = group.elements[T.pixelValueTransformation]?.items?.[0]?.dataSet;
  if (position) out.position = (vec(position, T.position, 3) as Vec3 | null) ?? out.position;
  if (orientation) out.orientation = (vec(orientation, T.orientation, 6) as FrameInfo['orientation']) ?? out.orientation;
  if (measures) out.pixelSpacing = (vec(measures, T.pixelSpacing, 2) as [number, number] | null) ?? out.pixelSpacing;
  if (transform) {
    out.slope = num(transform, T.slope) ?? out.slope;
    out.intercept = num(transform, T.intercept) ?? out.intercept;
  }
  return out;
}

/** Unit normal rowDirection x columnDirection of an Image Orientation (Patient). */
export function normalOf(o: readonly number[]): Vec3 {
  const n: Vec3 = [o[1]! * o[5]! - o[2]! * o[4]!, o[2]! * o[3]! - o[0]! * o[5]!, o[0]! * o[4]! - o[1]! * o[3]!];
  const len = Math.hypot(n[0], n[1], n[2]) || 1;
  return [n[0] / len, n[1] / len, n[2] / len];
}

function str(ds: DataSet, tag: string): string | null {
  try {
    const v = ds.string(tag);
    return v === undefined || v.trim() === '' ? null : v.trim();
  } catch {
    return null;
  }
}

function num(ds: DataSet, tag: string): number | null {
  const s = str(ds, tag);
  if (s === null) return null;
  const v = Number(s.split('\\')[0]);
  return Number.isFinite(v) ? v : null;
}

function vec(ds: DataSet, tag: string, n: number): number[] | null {
  const s = str(ds, tag);
  if (s === null) return null;
  const parts = s.split('\\').map((p) => Number(p.trim()));
  return parts.length >= n && parts.slice(0, n).every(Number.isFinite) ? parts.slice(0, n) : null;
}

function us(ds: DataSet, tag: string): number | null {
  const e = ds.elements[tag];
  if (!e || e.length < 2) return null;
  try {
    return ds.uint16(tag) ?? null;
  } catch {
    return null;
  }
}

/** Pixel Padding Value / Range Limit are US or SS per Pixel Representation (PS3.3 C.7.5.1.1.2). */
function padding(ds: DataSet, tag: string, signed: boolean): number | null {
  const e = ds.elements[tag];
  if (!e || e.length < 2) return null;
  try {
    return (signed ? ds.int16(tag) : ds.uint16(tag)) ?? null;
  } catch {
    return null;
  }
}

