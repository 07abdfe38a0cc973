import { MedgeError } from '../../errors.js';
import { describe, extendedOffsets, type PixelSource } from './instance.js';

/**
 * The bytes of frame `frame` (0-based) of native Pixel Data: a view into the dataset's bytes, and the
 * bit offset of the frame's first pixel within its first byte (non-zero only for packed 1-bit data,
 * PS3.5 8.1.1, where frames are not byte-aligned).
 */
export function nativeFrameBytes(source: PixelSource, frame: number): { bytes: Uint8Array; bitOffset: number } {
  checkFrameIndex(source, frame);
  const { rows, columns, samplesPerPixel, bitsAllocated } = source.info;
  const frameBits = rows * columns * samplesPerPixel * bitsAllocated;
  const startBit = frame * frameBits;
  const start = Math.floor(startBit / 8);
  const length = Math.ceil((startBit + frameBits) / 8) - start;
  const { byteArray } = source.dataSet;
  const available = Math.min(source.pixelData.length, byteArray.length - source.pixelData.dataOffset);
  if (start + length > available) {
    throw new MedgeError(
      'MEDGE_ERR_CODEC_DECODE',
      `${describe(source, frame)}: Pixel Data holds ${available} bytes, the frame needs bytes ${start} to ${start + length} (truncated file or wrong Rows/Columns/Number of Frames)`,
      { sopInstanceUid: source.sopInstanceUid, transferSyntaxUid: source.info.transferSyntaxUid, frame },
    );
  }
  return { bytes: byteArray.subarray(source.pixelData.dataOffset + start, source.pixelData.dataOffset + start + length), bitOffset: startBit % 8 };
}

/**
 * The compressed bytes of one frame of encapsulated Pixel Data (PS3.5 A.4): a view when the frame is
 * one fragment, else the fragments concatenated. Which fragments belong to which frame comes from, in
 * order: a single frame (all fragments), the Extended Offset Table, the Basic Offset Table, one
 * fragment per frame, and finally the start-of-codestream markers (JPEG SOI FFD8, J2K SOC FF4F) that
 * begin each frame's first fragment.
 */
export function encapsulatedFrameBytes(source: PixelSource, frame: number): Uint8Array {
  checkFrameIndex(source, frame);
  source.frameRanges ??= frameRanges(source);
  const parts = source.frameRanges[frame];
  const { byteArray } = source.dataSet;
  if (!parts || parts.length === 0) throw decodeError(source, frame, 'the frame has no fragments');
  for (const p of parts) {
    if (p.position + p.length > byteArray.length) throw decodeError(source, frame, 'a fragment runs past the end of the file (truncated)');
  }
  if (parts.length === 1) return byteArray.subarray(parts[0]!.position, parts[0]!.position + parts[0]!.length);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(byteArray.subarray(p.position, p.position + p.length), at);
    at += p.length;
  }
  return out;
}

function frameRanges(source: PixelSource): Array<Array<{ position: number; length: number }>> {
  const fragments = source.pixelData.fragments ?? [];
  const n = source.info.numberOfFrames;
  if (fragments.length === 0) throw decodeError(source, 0, 'encapsulated Pixel Data has no fragments');
  if (n === 1) return [fragments];
  const byOffsets = (offsets: number[]): Array<Array<{ position: number; length: number }>> =>
    offsets.map((start, i) => {
      const end = i + 1 < offsets.length ? offsets[i + 1]! : Infinity;
      return fragments.filter((f) => f.offset >= start && f.offset < end);
    });
  const eot = extendedOffsets(source);
  if (eot && eot.offsets.length === n) return byOffsets(eot.offsets);
  const bot = source.pixelData.basicOffsetTable ?? [];
  if (bot.length === n) return byOffsets(bot);
  if (fragments.length === n) return fragments.map((f) => [f]);
  // No table and more fragments than frames: a frame starts at each fragment that opens a codestream.
  const bytes = source.dataSet.byteArray;
  const groups: Array<Array<{ position: number; length: number }>> = [];
  for (const f of fragments) {
    const b0 = bytes[f.position];
    const b1 = bytes[f.position + 1];
    const opens = b0 === 0xff && (b1 === 0xd8 || b1 === 0x4f);
    if (opens || groups.length === 0) groups.push([f]);
    else groups[groups.length - 1]!.push(f);
  }
  if (groups.length === n) return groups;
  throw decodeError(source, 0, `cannot tell which of the ${fragments.length} fragments belong to which of the ${n} frames (no offset table)`);
}

function checkFrameIndex(source: PixelSource, frame: number): void {
  if (!Number.isInteger(frame) || frame < 0 || frame >= source.info.numberOfFrames) {
    throw new MedgeError(
      'MEDGE_ERR_CODEC_DECODE',
      `${describe(source)}: frame ${frame} does not exist (Number of Frames is ${source.info.numberOfFrames}; frames are numbered from 0)`,
      { sopInstanceUid: source.sopInstanceUid, transferSyntaxUid: source.info.transferSyntaxUid, frame },
    );
  }
}

export function decodeError(source: PixelSource, frame: number, reason: string, cause?: unknown): MedgeError {
  return new MedgeError(
    'MEDGE_ERR_CODEC_DECODE',
    `${describe(source, frame)} cannot be decoded: ${reason}`,
    { sopInstanceUid: source.sopInstanceUid, transferSyntaxUid: source.info.transferSyntaxUid, frame },
    cause,
  );
}

export function unsupportedError(source: PixelSource, reason: string): MedgeError {
  return new MedgeError('MEDGE_ERR_CODEC_UNSUPPORTED', `${describe(source)}: ${reason}`, {
    sopInstanceUid: source.sopInstanceUid,
    transferSyntaxUid: source.info.transferSyntaxUid,
  });
}
