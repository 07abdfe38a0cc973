import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';
import { MedgeError } from '../errors.js';
import { buildFileMeta, readFileMeta, type ParsedFileMeta } from './part10.js';
import { TS } from './uids.js';

/**
 * Deflated Explicit VR Little Endian (PS3.5 A.5, 1.2.840.10008.1.2.1.99): everything after the File
 * Meta Information is the Explicit VR Little Endian dataset compressed with raw deflate (RFC 1951,
 * no zlib header), the File Meta itself stays uncompressed. Lossless: inflating gives back the
 * dataset byte for byte.
 */

function parse(part10: Buffer, want: string): ParsedFileMeta {
  const meta = readFileMeta(part10);
  if (!meta) throw new MedgeError('MEDGE_ERR_INGEST_NOT_DICOM', 'not a DICOM Part 10 file (no DICM prefix or File Meta)', {});
  if (meta.transferSyntaxUid !== want) throw new MedgeError('MEDGE_ERR_CODEC_UNSUPPORTED', `expected transfer syntax ${want}, the file is in ${meta.transferSyntaxUid}`, { transferSyntaxUid: meta.transferSyntaxUid });
  return meta;
}

function withSyntax(meta: ParsedFileMeta, transferSyntaxUid: string): Buffer {
  return buildFileMeta({ mediaStorageSopClassUid: meta.mediaStorageSopClassUid, mediaStorageSopInstanceUid: meta.mediaStorageSopInstanceUid, sourceAeTitle: meta.sourceAeTitle, transferSyntaxUid });
}

/**
 * An Explicit VR Little Endian Part 10 file as Deflated Explicit VR Little Endian. The deflated
 * stream is padded to an even length with one NUL (PS3.5 7.1: values and datasets on the wire are
 * of even length; dcmtk refuses an odd one), which inflate ignores after the end of the stream.
 */
export function deflatePart10(part10: Buffer): Buffer {
  const meta = parse(part10, TS.ExplicitVRLittleEndian);
  const deflated = deflateRawSync(part10.subarray(meta.datasetOffset), { level: constants.Z_BEST_COMPRESSION });
  const parts = [withSyntax(meta, TS.DeflatedExplicitVRLittleEndian), deflated];
  if (deflated.length % 2) parts.push(Buffer.alloc(1));
  return Buffer.concat(parts);
}

/** The inverse: a Deflated Explicit VR Little Endian file back to Explicit VR Little Endian. */
export function inflatePart10(part10: Buffer): Buffer {
  const meta = parse(part10, TS.DeflatedExplicitVRLittleEndian);
  let dataset: Buffer;
  try {
    dataset = inflateRawSync(part10.subarray(meta.datasetOffset));
  } catch (err) {
    throw new MedgeError('MEDGE_ERR_CODEC_DECODE', `the deflated dataset cannot be inflated: ${(err as Error).message}`, { transferSyntaxUid: meta.transferSyntaxUid }, err);
  }
  return Buffer.concat([withSyntax(meta, TS.ExplicitVRLittleEndian), dataset]);
}
