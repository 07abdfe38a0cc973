import { mkdir, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { el, tag, writePart10, type DataElement } from '../dicom/dataset-writer.js';
import { CT_IMAGE_STORAGE, ctImageCommonElements, dicomDateTime } from '../dicom/synthetic/ct-image-modules.js';
import { generateUid, TS } from '../dicom/uids.js';
import type { Volume } from '../imaging/volume.js';
import type { PhantomTruth } from './types.js';

/** CT Image Storage (PS3.4 B.5). */

export interface WriteSeriesOptions {
  dir: string;
  /** Rescale Intercept (0028,1052): -1024 stores HU + 1024 unsigned; 0 stores HU signed. Default -1024. */
  intercept?: -1024 | 0;
  studyInstanceUid?: string;
  patientName?: string;
  patientId?: string;
  seriesDescription?: string;
  date?: Date;
}

/** A rendered phantom encoded as Part 10 slices, in memory. */
export interface EncodedSeries {
  /** One Part 10 file per slice, in the volume's order. */
  slices: Buffer[];
  studyInstanceUid: string;
  seriesInstanceUid: string;
  /** What truth.json holds. */
  truth: Record<string, unknown>;
}

export interface WrittenSeries {
  dir: string;
  files: string[];
  studyInstanceUid: string;
  seriesInstanceUid: string;
  truthPath: string;
}

/**
 * Writes a rendered phantom as a CT Image Storage series (encodePhantomSeries), one file per slice
 * named CT000001.dcm onwards, plus truth.json beside the files.
 */
export async function writePhantomSeries(volume: Volume, truth: PhantomTruth, o: WriteSeriesOptions): Promise<WrittenSeries> {
  const encoded = encodePhantomSeries(volume, truth, o);
  await mkdir(o.dir, { recursive: true });
  const files: string[] = [];
  for (const [k, bytes] of encoded.slices.entries()) {
    const path = join(o.dir, `CT${String(k + 1).padStart(6, '0')}.dcm`);
    await writeFile(path, bytes);
    files.push(path);
  }
  const truthPath = join(o.dir, 'truth.json');
  await writeFile(truthPath, `${JSON.stringify(encoded.truth, null, 2)}\n`);
  return { dir: o.dir, files, studyInstanceUid: encoded.studyInstanceUid, seriesInstanceUid: encoded.seriesInstanceUid, truthPath };
}

/**
 * A rendered phantom as a CT Image Storage series, one Part 10 file per slice (every Type 1 and 2
 * attribute of the CT Image IOD, PS3.3 A.3), in the volume's order (inferior to superior).
 */
export function encodePhantomSeries(volume: Volume, truth: PhantomTruth, o: Omit<WriteSeriesOptions, 'dir'>): EncodedSeries {
  if (endianness() !== 'LE') throw new Error('writePhantomSeries writes pixels in host order and needs a little-endian host');
  const intercept = o.intercept ?? -1024;
  const studyUid = o.studyInstanceUid ?? generateUid();
  const seriesUid = generateUid();
  const forUid = generateUid();
  const [da, tm] = dicomDateTime(o.date ?? new Date());
  const [cols, rows, slices] = volume.dims;
  const desc = o.seriesDescription ?? `PHANTOM HEAD ${volume.sliceThickness} MM`;
  const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
  const common = ctImageCommonElements({
    studyUid, seriesUid, frameOfReferenceUid: forUid, date: da, time: tm,
    patientName: o.patientName ?? 'PHANTOM^ICH', patientId: o.patientId ?? `PHANTOM-${slices}-${Math.abs(intercept)}`,
    studyDescription: 'CT HEAD WO CONTRAST', seriesNumber: 2, seriesDescription: desc, manufacturer: 'MEDGE PHANTOM', model: 'medge phantom',
    rows, columns: cols, pixelSpacing: [volume.pixelSpacing[1], volume.pixelSpacing[0]],
    orientation: [...volume.rowDirection, ...volume.columnDirection].map(r6), sliceThickness: volume.sliceThickness ?? volume.sliceSpan[0]!,
    intercept, signedPixels: intercept === 0, scanOptions: 'AXIAL', gantryTiltDegrees: volume.tiltDegrees,
  });
  const pixels = Buffer.alloc(rows * cols * 2);
  const encoded: Buffer[] = [];
  for (let k = 0; k < slices; k++) {
    const src = volume.data.subarray(k * rows * cols, (k + 1) * rows * cols);
    if (intercept === 0) {
      new Int16Array(pixels.buffer, pixels.byteOffset, rows * cols).set(src);
    } else {
      const u = new Uint16Array(pixels.buffer, pixels.byteOffset, rows * cols);
      for (let i = 0; i < src.length; i++) u[i] = Math.max(0, src[i]! + 1024);
    }
    const sop = generateUid();
    const ipp = volume.slicePositions[k]!;
    const elements: DataElement[] = [
      ...common,
      el(tag(0x0008, 0x0018), 'UI', sop),
      el(tag(0x0020, 0x0013), 'IS', k + 1),
      el(tag(0x0020, 0x0032), 'DS', [ipp[0], ipp[1], ipp[2]].map((v) => Math.round(v * 1e4) / 1e4)),
      el(tag(0x0020, 0x1041), 'DS', Math.round(volume.sliceLocations[k]! * 1e4) / 1e4),
      el(tag(0x7fe0, 0x0010), 'OW', pixels),
    ];
    encoded.push(writePart10({ mediaStorageSopClassUid: CT_IMAGE_STORAGE, mediaStorageSopInstanceUid: sop, transferSyntaxUid: TS.ExplicitVRLittleEndian }, elements));
  }
  const doc = { studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, seed: truth.params.seed, intercept, ...truth };
  return { slices: encoded, studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, truth: doc };
}

