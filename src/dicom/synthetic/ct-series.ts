import { mkdir, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { el, tag, writePart10, type DataElement } from '../dataset-writer.js';
import { CT_IMAGE_STORAGE, ctImageCommonElements, dicomDateTime } from './ct-image-modules.js';

export { CT_IMAGE_STORAGE, dicomDateTime };
import { generateUid, TS } from '../uids.js';
import { headPhantomSlice, type HeadPhantomGeometry } from './head-phantom.js';

/** CT Image Storage (PS3.4 B.5). */

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

  const common = ctImageCommonElements({
    studyUid, seriesUid, frameOfReferenceUid, date: da, time: tm,
    patientName: options.patientName ?? 'SYNTHETIC^CT', patientId: options.patientId ?? 'SYNTH-0001',
    studyDescription: 'SYNTHETIC HEAD CT', seriesNumber: 1, seriesDescription: options.seriesDescription ?? 'SYNTHETIC AXIAL',
    manufacturer: 'MEDGE SYNTHETIC', model: 'ct-series generator', rows, columns, pixelSpacing: [spacing, spacing],
    orientation: [1, 0, 0, 0, 1, 0], sliceThickness: thickness, intercept: -1024, signedPixels: true, scanOptions: 'HELICAL_CT',
  });
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

