import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { el, tag, encodePart10, type DataElement } from '../dataset-writer.js';
import { generateUid, TS } from '../uids.js';
import { dicomDateTime } from './ct-series.js';
import { headPhantomSlice } from './head-phantom.js';

/** Multi-frame Grayscale Word Secondary Capture Image Storage (PS3.4 B.5). */
export const MULTI_FRAME_GRAYSCALE_WORD_SC = '1.2.840.10008.5.1.4.1.1.7.3';

export interface SyntheticMultiFrameOptions {
  file: string;
  /** Default 1000 frames of 512x512x16 bit: 524 MB. */
  frames?: number;
  rows?: number;
  columns?: number;
  seed?: number;
}

export interface SyntheticMultiFrame {
  file: string;
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
  bytes: number;
}

/**
 * Writes one large multi-frame instance (PS3.3 A.8.5, Multi-frame Grayscale Word SC Image) whose
 * frames are the head phantom's slices: for benchmarks of instances larger than memory budgets.
 * The pixel data is assembled in one buffer (frames x rows x columns x 2 bytes) and written in
 * chunks without a further copy.
 */
export async function writeSyntheticMultiFrame(options: SyntheticMultiFrameOptions): Promise<SyntheticMultiFrame> {
  if (endianness() !== 'LE') throw new Error('writeSyntheticMultiFrame needs a little-endian host');
  const frames = options.frames ?? 1000;
  const rows = options.rows ?? 512;
  const columns = options.columns ?? 512;
  const frameLength = rows * columns;
  const pixels = Buffer.allocUnsafe(frames * frameLength * 2);
  const view = new Int16Array(pixels.buffer, pixels.byteOffset, frames * frameLength);
  const geometry = { rows, columns, spacing: 250 / columns, slices: frames, thickness: 0.5, noiseHu: 5, seed: options.seed ?? 1 };
  for (let f = 0; f < frames; f++) headPhantomSlice(geometry, f, view.subarray(f * frameLength, (f + 1) * frameLength));
  const studyUid = generateUid();
  const seriesUid = generateUid();
  const sopInstanceUid = generateUid();
  const [da, tm] = dicomDateTime(new Date());
  const elements: DataElement[] = [
    el(tag(0x0008, 0x0005), 'CS', 'ISO_IR 100'),
    el(tag(0x0008, 0x0008), 'CS', ['DERIVED', 'SECONDARY']),
    el(tag(0x0008, 0x0016), 'UI', MULTI_FRAME_GRAYSCALE_WORD_SC),
    el(tag(0x0008, 0x0018), 'UI', sopInstanceUid),
    el(tag(0x0008, 0x0020), 'DA', da),
    el(tag(0x0008, 0x0030), 'TM', tm),
    el(tag(0x0008, 0x0050), 'SH', ''),
    el(tag(0x0008, 0x0060), 'CS', 'OT'),
    el(tag(0x0008, 0x0064), 'CS', 'SYN'),
    el(tag(0x0008, 0x0090), 'PN', ''),
    el(tag(0x0008, 0x103e), 'LO', 'SYNTHETIC MULTI-FRAME'),
    el(tag(0x0010, 0x0010), 'PN', 'SYNTHETIC^LARGE'),
    el(tag(0x0010, 0x0020), 'LO', 'SYNTH-0002'),
    el(tag(0x0010, 0x0030), 'DA', ''),
    el(tag(0x0010, 0x0040), 'CS', 'O'),
    el(tag(0x0020, 0x000d), 'UI', studyUid),
    el(tag(0x0020, 0x000e), 'UI', seriesUid),
    el(tag(0x0020, 0x0010), 'SH', '1'),
    el(tag(0x0020, 0x0011), 'IS', 1),
    el(tag(0x0020, 0x0013), 'IS', 1),
    el(tag(0x0020, 0x0020), 'CS', ''),
    el(tag(0x0028, 0x0002), 'US', 1),
    el(tag(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    el(tag(0x0028, 0x0008), 'IS', frames),
    // Frame Increment Pointer (PS3.3 C.7.6.6): frames are simply numbered.
    el(tag(0x0028, 0x0009), 'AT', tag(0x0018, 0x2002)),
    el(tag(0x0018, 0x2002), 'SH', Array.from({ length: frames }, (_, i) => String(i + 1))),
    el(tag(0x0020, 0x0060), 'CS', ''),
    el(tag(0x0028, 0x0301), 'CS', 'NO'),
    el(tag(0x2050, 0x0020), 'CS', 'IDENTITY'),
    el(tag(0x0028, 0x0010), 'US', rows),
    el(tag(0x0028, 0x0011), 'US', columns),
    el(tag(0x0028, 0x0100), 'US', 16),
    el(tag(0x0028, 0x0101), 'US', 16),
    el(tag(0x0028, 0x0102), 'US', 15),
    // PS3.3 C.8.6.3: unsigned only; the phantom's stored values (HU + 1024) are never negative.
    el(tag(0x0028, 0x0103), 'US', 0),
    el(tag(0x0028, 0x1052), 'DS', -1024),
    el(tag(0x0028, 0x1053), 'DS', 1),
    el(tag(0x0028, 0x1054), 'LO', 'US'),
    el(tag(0x7fe0, 0x0010), 'OW', pixels),
  ];
  const chunks = encodePart10({ mediaStorageSopClassUid: MULTI_FRAME_GRAYSCALE_WORD_SC, mediaStorageSopInstanceUid: sopInstanceUid, transferSyntaxUid: TS.ExplicitVRLittleEndian }, elements);
  const handle = await open(options.file, 'w');
  let bytes = 0;
  try {
    for (const chunk of chunks) {
      await handle.write(chunk);
      bytes += chunk.length;
    }
  } finally {
    await handle.close();
  }
  return { file: options.file, studyUid, seriesUid, sopInstanceUid, bytes };
}
