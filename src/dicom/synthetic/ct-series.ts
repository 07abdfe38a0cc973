import { mkdir, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { el, tag, writePart10, type DataElement } from '../dataset-writer.js';
import { generateUid, TS } from '../uids.js';
import { headPhantomSlice, type HeadPhantomGeometry } from './head-phantom.js';

/** CT Image Storage (PS3.4 B.5). */
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

export interface SyntheticCtOptions {
  /** Directory to write into (created if missing). */
  dir: string;
  /** Number of axial slices; default 200. */
  slices?: number;
  rows?: number;
  columns?: number;
  /** Slice thickness and spacing along z, in mm; default 1.25. */
  sliceThickness?: number;
  /** Field of view in x and y, in mm; default 250 (pixel spacing = fov / columns). */
  fieldOfView?: number;
  /** Seed of the noise; the same seed gives the same pixels. */
  seed?: number;
  /** Standard deviation of the noise in HU; default 5. */
  noiseHu?: number;
  transferSyntaxUid?: typeof TS.ExplicitVRLittleEndian | typeof TS.ImplicitVRLittleEndian;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  /** Synthetic, never a real person's: default SYNTHETIC^CT. */
  patientName?: string;
  patientId?: string;
  seriesDescription?: string;
  /** Study date-time; default now. */
  date?: Date;
}

export interface SyntheticCtSeries {
  files: string[];
  studyUid: string;
  seriesUid: string;
  sopInstanceUids: string[];
  /** Total bytes written. */
  bytes: number;
}

/**
 * Writes a CT Image Storage series (PS3.3 A.3, every Type 1 and 2 attribute of its modules) of a
 * head-like phantom: an ellipsoid skull (1000 HU) around brain (40 HU) in air, with Gaussian
 * noise, 16-bit signed, stored = HU + 1024 (Rescale Intercept -1024). One Part 10 file per slice,
 * named CT000001.dcm onwards. About 525 KB a slice at 512x512; 200 slices in a couple of seconds.
 */
export async function writeSyntheticCtSeries(options: SyntheticCtOptions): Promise<SyntheticCtSeries> {
  if (endianness() !== 'LE') throw new Error('writeSyntheticCtSeries writes pixels in host order and needs a little-endian host');
  const slices = options.slices ?? 200;
  const rows = options.rows ?? 512;
  const columns = options.columns ?? 512;
  const thickness = options.sliceThickness ?? 1.25;
  const fov = options.fieldOfView ?? 250;
  const spacing = fov / columns;
  const ts = options.transferSyntaxUid ?? TS.ExplicitVRLittleEndian;
  const studyUid = options.studyInstanceUid ?? generateUid();
  const seriesUid = options.seriesInstanceUid ?? generateUid();
  const frameOfReferenceUid = generateUid();
  const date = options.date ?? new Date();
  const [da, tm] = dicomDateTime(date);
  await mkdir(options.dir, { recursive: true });

  const geometry: HeadPhantomGeometry = { rows, columns, spacing, slices, thickness, noiseHu: options.noiseHu ?? 5, seed: options.seed ?? 1 };
  const pixels = Buffer.alloc(rows * columns * 2);
  const pixelView = new Int16Array(pixels.buffer, pixels.byteOffset, rows * columns);
  const z0 = -((slices - 1) * thickness) / 2;
  const x0 = -fov / 2 + spacing / 2;
  const y0 = -(rows * spacing) / 2 + spacing / 2;

  const common = commonElements({ studyUid, seriesUid, frameOfReferenceUid, da, tm, rows, columns, spacing, thickness, options });
  const files: string[] = [];
  const sopInstanceUids: string[] = [];
  let bytes = 0;
  for (let i = 0; i < slices; i++) {
    headPhantomSlice(geometry, i, pixelView);
    const sopInstanceUid = generateUid();
    const z = z0 + i * thickness;
    const elements: DataElement[] = [
      ...common,
      el(tag(0x0008, 0x0018), 'UI', sopInstanceUid),
      el(tag(0x0020, 0x0013), 'IS', i + 1),
      el(tag(0x0020, 0x0032), 'DS', [x0, y0, z]),
      el(tag(0x0020, 0x1041), 'DS', z),
      el(tag(0x7fe0, 0x0010), 'OW', pixels),
    ];
    const file = writePart10({ mediaStorageSopClassUid: CT_IMAGE_STORAGE, mediaStorageSopInstanceUid: sopInstanceUid, transferSyntaxUid: ts }, elements);
    const path = join(options.dir, `CT${String(i + 1).padStart(6, '0')}.dcm`);
    await writeFile(path, file);
    files.push(path);
    sopInstanceUids.push(sopInstanceUid);
    bytes += file.length;
  }
  return { files, studyUid, seriesUid, sopInstanceUids, bytes };
}

interface CommonInput {
  studyUid: string;
  seriesUid: string;
  frameOfReferenceUid: string;
  da: string;
  tm: string;
  rows: number;
  columns: number;
  spacing: number;
  thickness: number;
  options: SyntheticCtOptions;
}

/** The attributes every slice shares, module by module (PS3.3 A.3.3, Table A.3-1). */
function commonElements(c: CommonInput): DataElement[] {
  return [
    // SOP Common (C.12.1)
    el(tag(0x0008, 0x0016), 'UI', CT_IMAGE_STORAGE),
    el(tag(0x0008, 0x0005), 'CS', 'ISO_IR 100'),
    // Patient (C.7.1.1): synthetic only
    el(tag(0x0010, 0x0010), 'PN', c.options.patientName ?? 'SYNTHETIC^CT'),
    el(tag(0x0010, 0x0020), 'LO', c.options.patientId ?? 'SYNTH-0001'),
    el(tag(0x0010, 0x0030), 'DA', ''),
    el(tag(0x0010, 0x0040), 'CS', 'O'),
    // General Study (C.7.2.1)
    el(tag(0x0020, 0x000d), 'UI', c.studyUid),
    el(tag(0x0008, 0x0020), 'DA', c.da),
    el(tag(0x0008, 0x0030), 'TM', c.tm),
    el(tag(0x0008, 0x0090), 'PN', ''),
    el(tag(0x0020, 0x0010), 'SH', '1'),
    el(tag(0x0008, 0x0050), 'SH', ''),
    el(tag(0x0008, 0x1030), 'LO', 'SYNTHETIC HEAD CT'),
    // General Series (C.7.3.1); Patient Position is Type 2C, required for CT (C.7.3.1.1.2)
    el(tag(0x0008, 0x0060), 'CS', 'CT'),
    el(tag(0x0020, 0x000e), 'UI', c.seriesUid),
    el(tag(0x0020, 0x0011), 'IS', 1),
    el(tag(0x0008, 0x0021), 'DA', c.da),
    el(tag(0x0008, 0x0031), 'TM', c.tm),
    el(tag(0x0008, 0x103e), 'LO', c.options.seriesDescription ?? 'SYNTHETIC AXIAL'),
    el(tag(0x0018, 0x0015), 'CS', 'HEAD'),
    el(tag(0x0018, 0x5100), 'CS', 'HFS'),
    // Frame of Reference (C.7.4.1)
    el(tag(0x0020, 0x0052), 'UI', c.frameOfReferenceUid),
    el(tag(0x0020, 0x1040), 'LO', ''),
    // General Equipment (C.7.5.1)
    el(tag(0x0008, 0x0070), 'LO', 'MEDGE SYNTHETIC'),
    el(tag(0x0008, 0x1090), 'LO', 'ct-series generator'),
    // General Image (C.7.6.1); Content Date/Time are 2C for temporally related series
    el(tag(0x0008, 0x0023), 'DA', c.da),
    el(tag(0x0008, 0x0033), 'TM', c.tm),
    el(tag(0x0020, 0x0012), 'IS', 1),
    // Image Plane (C.7.6.2)
    el(tag(0x0028, 0x0030), 'DS', [c.spacing, c.spacing]),
    el(tag(0x0020, 0x0037), 'DS', [1, 0, 0, 0, 1, 0]),
    el(tag(0x0018, 0x0050), 'DS', c.thickness),
    // Image Pixel (C.7.6.3) and CT Image (C.8.2.1)
    el(tag(0x0028, 0x0002), 'US', 1),
    el(tag(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    el(tag(0x0028, 0x0010), 'US', c.rows),
    el(tag(0x0028, 0x0011), 'US', c.columns),
    el(tag(0x0028, 0x0100), 'US', 16),
    el(tag(0x0028, 0x0101), 'US', 16),
    el(tag(0x0028, 0x0102), 'US', 15),
    el(tag(0x0028, 0x0103), 'US', 1),
    el(tag(0x0008, 0x0008), 'CS', ['ORIGINAL', 'PRIMARY', 'AXIAL']),
    el(tag(0x0028, 0x1052), 'DS', -1024),
    el(tag(0x0028, 0x1053), 'DS', 1),
    el(tag(0x0028, 0x1054), 'LO', 'HU'),
    el(tag(0x0018, 0x0060), 'DS', 120),
    el(tag(0x0018, 0x0022), 'CS', 'HELICAL_CT'),
    el(tag(0x0018, 0x0090), 'DS', c.columns * c.spacing),
    el(tag(0x0018, 0x1100), 'DS', c.columns * c.spacing),
    el(tag(0x0018, 0x1210), 'SH', 'STANDARD'),
    // VOI LUT (C.11.2): a brain window
    el(tag(0x0028, 0x1050), 'DS', 40),
    el(tag(0x0028, 0x1051), 'DS', 80),
  ];
}

/** DA (YYYYMMDD) and TM (HHMMSS) in local time, PS3.5 6.2. */
export function dicomDateTime(d: Date): [string, string] {
  const p = (n: number) => String(n).padStart(2, '0');
  return [`${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`, `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`];
}
