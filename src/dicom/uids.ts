import { randomUUID } from 'node:crypto';

/** medge's Implementation Class UID (PS3.7 D.3.3.2), a 2.25 UUID-derived UID (PS3.5 B.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.1478272251756747265279710323052123199';
/** Implementation Version Name: 16 characters at most (SH). */
export const IMPLEMENTATION_VERSION_NAME = 'MEDGE_0_1';

/** Transfer syntaxes (PS3.5 A and PS3.6 A). */
export const TS = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
} as const;

/**
 * Every transfer syntax the node accepts and stores as received (PS3.6 Annex A, Table A-1).
 * Compressed ones are stored byte-for-byte; decoding is the imaging layer's business.
 */
export const STORABLE_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set([
  TS.ImplicitVRLittleEndian,
  TS.ExplicitVRLittleEndian,
  TS.DeflatedExplicitVRLittleEndian,
  TS.ExplicitVRBigEndian,
  '1.2.840.10008.1.2.4.50', // JPEG Baseline (Process 1)
  '1.2.840.10008.1.2.4.51', // JPEG Extended (Process 2 & 4)
  // Retired JPEG processes (PS3.5 A.4.1 lists them as retired); old modalities and archives still hold such files.
  '1.2.840.10008.1.2.4.52', '1.2.840.10008.1.2.4.53', '1.2.840.10008.1.2.4.54', '1.2.840.10008.1.2.4.55',
  '1.2.840.10008.1.2.4.56', '1.2.840.10008.1.2.4.58', '1.2.840.10008.1.2.4.59', '1.2.840.10008.1.2.4.60',
  '1.2.840.10008.1.2.4.61', '1.2.840.10008.1.2.4.62', '1.2.840.10008.1.2.4.63', '1.2.840.10008.1.2.4.64',
  '1.2.840.10008.1.2.4.65', '1.2.840.10008.1.2.4.66',
  '1.2.840.10008.1.2.4.57', // JPEG Lossless, Non-Hierarchical (Process 14)
  '1.2.840.10008.1.2.4.70', // JPEG Lossless, First-Order Prediction (Process 14 SV1)
  '1.2.840.10008.1.2.4.80', // JPEG-LS Lossless
  '1.2.840.10008.1.2.4.81', // JPEG-LS Near-Lossless
  '1.2.840.10008.1.2.4.90', // JPEG 2000 Lossless Only
  '1.2.840.10008.1.2.4.91', // JPEG 2000
  '1.2.840.10008.1.2.4.92', // JPEG 2000 Part 2 Multi-component Lossless
  '1.2.840.10008.1.2.4.93', // JPEG 2000 Part 2 Multi-component
  '1.2.840.10008.1.2.4.201', // HTJ2K Lossless
  '1.2.840.10008.1.2.4.202', // HTJ2K Lossless RPCL
  '1.2.840.10008.1.2.4.203', // HTJ2K
  '1.2.840.10008.1.2.4.100', // MPEG2 MP@ML
  '1.2.840.10008.1.2.4.101', // MPEG2 MP@HL
  '1.2.840.10008.1.2.4.102', // MPEG-4 AVC/H.264 High Profile
  '1.2.840.10008.1.2.4.103', // MPEG-4 AVC/H.264 BD-compatible
  '1.2.840.10008.1.2.4.104', // MPEG-4 AVC/H.264 High Profile For 2D Video
  '1.2.840.10008.1.2.4.105', // MPEG-4 AVC/H.264 High Profile For 3D Video
  '1.2.840.10008.1.2.4.106', // MPEG-4 AVC/H.264 Stereo High Profile
  '1.2.840.10008.1.2.4.107', // HEVC/H.265 Main Profile
  '1.2.840.10008.1.2.4.108', // HEVC/H.265 Main 10 Profile
  '1.2.840.10008.1.2.5', // RLE Lossless
]);

/** A new UID under the 2.25 root from a random UUID (PS3.5 B.2): no registration needed. */
export function generateUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

/** PS3.5 9.1: UIDs are 1 to 64 characters of digits and dots, no leading zeros in components. */
export function isValidUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= 64 && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(uid);
}
