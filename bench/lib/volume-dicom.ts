import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { el, tag, writePart10, type DataElement } from '../../src/dicom/dataset-writer.js';
import { generateUid, TS } from '../../src/dicom/uids.js';
import type { Volume } from '../../src/imaging/volume.js';

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

export interface VolumeDicomOptions {
  dir: string;
  /** Rescale Intercept (0028,1052): -1024 (signed stored = HU + 1024) or 0 (stored = HU, signed). */
  intercept: -1024 | 0;
  seriesInstanceUid?: string;
  /** Gantry/Detector Tilt (0018,1120) to write, degrees. */
  gantryTiltDegrees?: number;
}

/**
 * Writes a rendered volume (HU) as a CT series, one Explicit VR Little Endian Part 10 file per slice,
 * with the volume's own geometry (per-slice Image Position, so a tilted stack stays tilted).
 *
 * The benchmark's stand-in for the phantom series writer of src/phantom (being written alongside):
 * switch to it once it is in the tree, so that the benchmark exercises the same files `medge phantom`
 * writes. Synthetic data only: the patient module says so.
 */
export async function writeVolumeAsDicom(v: Volume, o: VolumeDicomOptions): Promise<{ seriesInstanceUid: string; files: number }> {
  await mkdir(o.dir, { recursive: true });
  const [columns, rows, slices] = v.dims;
  const studyUid = generateUid();
  const seriesUid = o.seriesInstanceUid ?? generateUid();
  const forUid = generateUid();
  const common: DataElement[] = [
    el(tag(0x0008, 0x0016), 'UI', CT_IMAGE_STORAGE),
    el(tag(0x0008, 0x0008), 'CS', ['ORIGINAL', 'PRIMARY', 'AXIAL']),
    el(tag(0x0008, 0x0060), 'CS', 'CT'),
    el(tag(0x0008, 0x0070), 'LO', 'MEDGE SYNTHETIC'),
    el(tag(0x0008, 0x103e), 'LO', 'SYNTHETIC HEAD NON-CONTRAST'),
    el(tag(0x0010, 0x0010), 'PN', 'SYNTHETIC^BENCH'),
    el(tag(0x0010, 0x0020), 'LO', 'SYNTH-BENCH'),
    el(tag(0x0018, 0x0015), 'CS', 'HEAD'),
    el(tag(0x0018, 0x0050), 'DS', v.sliceThickness ?? 5),
    el(tag(0x0018, 0x1120), 'DS', o.gantryTiltDegrees ?? 0),
    el(tag(0x0018, 0x5100), 'CS', 'HFS'),
    el(tag(0x0020, 0x000d), 'UI', studyUid),
    el(tag(0x0020, 0x000e), 'UI', seriesUid),
    el(tag(0x0020, 0x0011), 'IS', 1),
    el(tag(0x0020, 0x0052), 'UI', forUid),
    el(tag(0x0020, 0x0037), 'DS', [...v.rowDirection, ...v.columnDirection]),
    el(tag(0x0028, 0x0002), 'US', 1),
    el(tag(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    el(tag(0x0028, 0x0010), 'US', rows),
    el(tag(0x0028, 0x0011), 'US', columns),
    // (0028,0030): row spacing (y) first, then column spacing (x).
    el(tag(0x0028, 0x0030), 'DS', [v.pixelSpacing[1], v.pixelSpacing[0]]),
    el(tag(0x0028, 0x0100), 'US', 16),
    el(tag(0x0028, 0x0101), 'US', 16),
    el(tag(0x0028, 0x0102), 'US', 15),
    el(tag(0x0028, 0x0103), 'US', 1),
    el(tag(0x0028, 0x1052), 'DS', o.intercept),
    el(tag(0x0028, 0x1053), 'DS', 1),
  ];
  const perSlice = columns * rows;
  const pixels = Buffer.alloc(perSlice * 2);
  const view = new Int16Array(pixels.buffer, pixels.byteOffset, perSlice);
  for (let k = 0; k < slices; k++) {
    const src = v.data.subarray(k * perSlice, (k + 1) * perSlice);
    if (o.intercept === 0) view.set(src);
    else for (let i = 0; i < perSlice; i++) view[i] = src[i]! - o.intercept;
    const sop = generateUid();
    const elements: DataElement[] = [
      ...common,
      el(tag(0x0008, 0x0018), 'UI', sop),
      el(tag(0x0020, 0x0013), 'IS', k + 1),
      el(tag(0x0020, 0x0032), 'DS', v.slicePositions[k]!.map((x) => Math.round(x * 1e4) / 1e4)),
      el(tag(0x7fe0, 0x0010), 'OW', pixels),
    ];
    const file = writePart10({ mediaStorageSopClassUid: CT_IMAGE_STORAGE, mediaStorageSopInstanceUid: sop, transferSyntaxUid: TS.ExplicitVRLittleEndian }, elements);
    await writeFile(join(o.dir, `CT${String(k + 1).padStart(4, '0')}.dcm`), file);
  }
  return { seriesInstanceUid: seriesUid, files: slices };
}
