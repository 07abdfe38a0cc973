import { mkdir, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { el, tag, writePart10, type DataElement } from '../dicom/dataset-writer.js';
import { generateUid, TS } from '../dicom/uids.js';
import type { Volume } from '../imaging/volume.js';
import type { PhantomTruth } from './types.js';

/** CT Image Storage (PS3.4 B.5). */
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

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

export interface WrittenSeries {
  dir: string;
  files: string[];
  studyInstanceUid: string;
  seriesInstanceUid: string;
  truthPath: string;
}

/**
 * Writes a rendered phantom as a CT Image Storage series, one Part 10 file per slice (every Type 1
 * and 2 attribute of the CT Image IOD, PS3.3 A.3), plus truth.json beside the files. Slices are
 * written in the volume's order (inferior to superior), named CT000001.dcm onwards.
 */
export async function writePhantomSeries(volume: Volume, truth: PhantomTruth, o: WriteSeriesOptions): Promise<WrittenSeries> {
  if (endianness() !== 'LE') throw new Error('writePhantomSeries writes pixels in host order and needs a little-endian host');
  const intercept = o.intercept ?? -1024;
  const studyUid = o.studyInstanceUid ?? generateUid();
  const seriesUid = generateUid();
  const forUid = generateUid();
  const [da, tm] = dicomDateTime(o.date ?? new Date());
  const [cols, rows, slices] = volume.dims;
  const desc = o.seriesDescription ?? `PHANTOM HEAD ${volume.sliceThickness} MM`;
  const common = commonElements({ studyUid, seriesUid, forUid, da, tm, rows, cols, volume, intercept, desc, o });
  await mkdir(o.dir, { recursive: true });
  const pixels = Buffer.alloc(rows * cols * 2);
  const files: string[] = [];
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
    const path = join(o.dir, `CT${String(k + 1).padStart(6, '0')}.dcm`);
    await writeFile(path, writePart10({ mediaStorageSopClassUid: CT_IMAGE_STORAGE, mediaStorageSopInstanceUid: sop, transferSyntaxUid: TS.ExplicitVRLittleEndian }, elements));
    files.push(path);
  }
  const truthPath = join(o.dir, 'truth.json');
  const doc = { studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, seed: truth.params.seed, intercept, ...truth };
  await writeFile(truthPath, `${JSON.stringify(doc, null, 2)}\n`);
  return { dir: o.dir, files, studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, truthPath };
}

interface CommonInput {
  studyUid: string; seriesUid: string; forUid: string; da: string; tm: string;
  rows: number; cols: number; volume: Volume; intercept: number; desc: string; o: WriteSeriesOptions;
}

/** Attributes every slice shares, module by module (PS3.3 A.3.3, Table A.3-1). */
function commonElements(c: CommonInput): DataElement[] {
  const v = c.volume;
  const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
  const signed = c.intercept === 0;
  return [
    // SOP Common (C.12.1)
    el(tag(0x0008, 0x0016), 'UI', CT_IMAGE_STORAGE),
    el(tag(0x0008, 0x0005), 'CS', 'ISO_IR 100'),
    // Patient (C.7.1.1): synthetic, never a real person
    el(tag(0x0010, 0x0010), 'PN', c.o.patientName ?? 'PHANTOM^ICH'),
    el(tag(0x0010, 0x0020), 'LO', c.o.patientId ?? `PHANTOM-${v.dims[2]}-${Math.abs(c.intercept)}`),
    el(tag(0x0010, 0x0030), 'DA', ''),
    el(tag(0x0010, 0x0040), 'CS', 'O'),
    // General Study (C.7.2.1)
    el(tag(0x0020, 0x000d), 'UI', c.studyUid),
    el(tag(0x0008, 0x0020), 'DA', c.da),
    el(tag(0x0008, 0x0030), 'TM', c.tm),
    el(tag(0x0008, 0x0090), 'PN', ''),
    el(tag(0x0020, 0x0010), 'SH', '1'),
    el(tag(0x0008, 0x0050), 'SH', ''),
    el(tag(0x0008, 0x1030), 'LO', 'CT HEAD WO CONTRAST'),
    // General Series (C.7.3.1); Patient Position is 2C, required for CT (C.7.3.1.1.2)
    el(tag(0x0008, 0x0060), 'CS', 'CT'),
    el(tag(0x0020, 0x000e), 'UI', c.seriesUid),
    el(tag(0x0020, 0x0011), 'IS', 2),
    el(tag(0x0008, 0x0021), 'DA', c.da),
    el(tag(0x0008, 0x0031), 'TM', c.tm),
    el(tag(0x0008, 0x103e), 'LO', c.desc),
    el(tag(0x0018, 0x0015), 'CS', 'HEAD'),
    el(tag(0x0018, 0x5100), 'CS', 'HFS'),
    // Frame of Reference (C.7.4.1)
    el(tag(0x0020, 0x0052), 'UI', c.forUid),
    el(tag(0x0020, 0x1040), 'LO', ''),
    // General Equipment (C.7.5.1)
    el(tag(0x0008, 0x0070), 'LO', 'MEDGE PHANTOM'),
    el(tag(0x0008, 0x1090), 'LO', 'medge phantom'),
    // General Image (C.7.6.1)
    el(tag(0x0008, 0x0023), 'DA', c.da),
    el(tag(0x0008, 0x0033), 'TM', c.tm),
    el(tag(0x0020, 0x0012), 'IS', 1),
    // Image Plane (C.7.6.2): (0028,0030) is row spacing \ column spacing
    el(tag(0x0028, 0x0030), 'DS', [v.pixelSpacing[1], v.pixelSpacing[0]]),
    el(tag(0x0020, 0x0037), 'DS', [...v.rowDirection, ...v.columnDirection].map(r6)),
    el(tag(0x0018, 0x0050), 'DS', v.sliceThickness ?? v.sliceSpan[0]!),
    // Image Pixel (C.7.6.3) and CT Image (C.8.2.1)
    el(tag(0x0028, 0x0002), 'US', 1),
    el(tag(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    el(tag(0x0028, 0x0010), 'US', c.rows),
    el(tag(0x0028, 0x0011), 'US', c.cols),
    el(tag(0x0028, 0x0100), 'US', 16),
    el(tag(0x0028, 0x0101), 'US', 16),
    el(tag(0x0028, 0x0102), 'US', 15),
    el(tag(0x0028, 0x0103), 'US', signed ? 1 : 0),
    el(tag(0x0008, 0x0008), 'CS', ['ORIGINAL', 'PRIMARY', 'AXIAL']),
    el(tag(0x0028, 0x1052), 'DS', c.intercept),
    el(tag(0x0028, 0x1053), 'DS', 1),
    el(tag(0x0028, 0x1054), 'LO', 'HU'),
    el(tag(0x0018, 0x0060), 'DS', 120),
    el(tag(0x0018, 0x0022), 'CS', 'AXIAL'),
    el(tag(0x0018, 0x0090), 'DS', c.cols * v.pixelSpacing[0]),
    el(tag(0x0018, 0x1100), 'DS', c.cols * v.pixelSpacing[0]),
    el(tag(0x0018, 0x1120), 'DS', v.tiltDegrees),
    el(tag(0x0018, 0x1210), 'SH', 'STANDARD'),
    // VOI LUT (C.11.2): brain window
    el(tag(0x0028, 0x1050), 'DS', 40),
    el(tag(0x0028, 0x1051), 'DS', 80),
  ];
}

/** DA (YYYYMMDD) and TM (HHMMSS) in local time, PS3.5 6.2. */
function dicomDateTime(d: Date): [string, string] {
  const p = (n: number) => String(n).padStart(2, '0');
  return [`${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`, `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`];
}
