import { MedgeError } from '../errors.js';
import { PIXEL_TS } from '../dicom/codecs/index.js';
import { parseAccept } from './media-type.js';

/** Explicit VR Little Endian: what uncompressed frames are labelled with (PS3.18 8.7.3.3.2). */
export const UNCOMPRESSED_LE = PIXEL_TS.ExplicitVRLittleEndian;

/**
 * The media type of a frame's bytes in a stored transfer syntax (PS3.18 Table 8.7.3-2), or undefined
 * for the native (uncompressed) syntaxes, whose frames are application/octet-stream.
 */
export function compressedMediaType(transferSyntaxUid: string): string | undefined {
  switch (transferSyntaxUid) {
    case PIXEL_TS.JpegBaseline:
    case PIXEL_TS.JpegExtended:
    case PIXEL_TS.JpegLossless:
    case PIXEL_TS.JpegLosslessSV1:
      return 'image/jpeg';
    case PIXEL_TS.JpegLsLossless:
    case PIXEL_TS.JpegLsNearLossless:
      return 'image/jls';
    case PIXEL_TS.Jpeg2000Lossless:
    case PIXEL_TS.Jpeg2000:
      return 'image/jp2';
    case '1.2.840.10008.1.2.4.92':
    case '1.2.840.10008.1.2.4.93':
      return 'image/jpx';
    case PIXEL_TS.Htj2kLossless:
    case PIXEL_TS.Htj2kLosslessRpcl:
    case PIXEL_TS.Htj2k:
      return 'image/jphc';
    case PIXEL_TS.RleLossless:
      return 'image/dicom-rle';
    default:
      return undefined;
  }
}

/** The names older editions of PS3.18 (and Orthanc's DICOMweb plugin) gave some of those types. */
const ALIASES: Record<string, string> = { 'image/x-jls': 'image/jls', 'image/x-dicom-rle': 'image/dicom-rle', 'image/dicom+jpeg': 'image/jpeg', 'image/dicom+rle': 'image/dicom-rle', 'image/dicom+jpeg-ls': 'image/jls', 'image/dicom+jp2': 'image/jp2', 'image/dicom+jpx': 'image/jpx' };

/** How to answer a frames request: each frame decoded to little-endian bytes, or as it is stored. */
export type FrameRendition = 'uncompressed' | 'as-stored';

/**
 * Accept negotiation of the frames resource (PS3.18 8.7.3 and 8.7.5), for an instance stored in
 * `storedTs`. Uncompressed little-endian frames (application/octet-stream) are the default: no
 * Accept, `*\/*`, `multipart/related` with type application/octet-stream and no transfer-syntax (or
 * Explicit VR Little Endian), decoding compressed frames. `transfer-syntax=*` takes the frames as
 * stored, and so does the stored syntax's own media type (PS3.18 Table 8.7.3-2, or its older
 * `image/x-...` names). The node does not re-encode into another compressed syntax: 406 otherwise.
 */
export function negotiateFrames(accept: string | undefined, storedTs: string): FrameRendition {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return 'uncompressed';
  const stored = compressedMediaType(storedTs);
  for (const r of ranges) {
    if (r.essence === '*/*' || r.essence === 'multipart/*') return 'uncompressed';
    if (r.essence !== 'multipart/related') continue;
    const rawType = (r.params.type ?? 'application/octet-stream').toLowerCase();
    const type = ALIASES[rawType] ?? rawType;
    const ts = r.params['transfer-syntax'];
    if (ts === '*') return 'as-stored';
    if (type === 'application/octet-stream') {
      if (ts === undefined || ts === UNCOMPRESSED_LE) return 'uncompressed';
      continue;
    }
    if (stored !== undefined && type === stored && (ts === undefined || ts === storedTs)) return 'as-stored';
  }
  const offer = stored
    ? `multipart/related; type="application/octet-stream" (decoded), or type="${stored}"; transfer-syntax=${storedTs} as stored`
    : 'multipart/related; type="application/octet-stream"';
  throw new MedgeError('MEDGE_ERR_DICOMWEB_NOT_ACCEPTABLE', `cannot answer ${accept}; for this instance the node offers ${offer} (or transfer-syntax=*)`, { accept, offer });
}

/**
 * The frame numbers of a `{frames}` path segment (PS3.18 10.4.1.1.4: a comma-separated list of one
 * or more frame numbers, not repeated, 1-based), checked against the instance's Number of Frames.
 * Throws MEDGE_ERR_HTTP_BAD_REQUEST.
 */
export function parseFrameList(list: string, numberOfFrames: number): number[] {
  const items = list.split(/,|%2c/i).map((s) => s.trim());
  const numbers: number[] = [];
  for (const item of items) {
    if (!/^\d+$/.test(item) || Number(item) < 1) {
      throw new MedgeError('MEDGE_ERR_HTTP_BAD_REQUEST', `the frame list must be frame numbers from 1, separated by commas: '${list}'`, { frames: list });
    }
    const n = Number(item);
    if (n > numberOfFrames) {
      throw new MedgeError('MEDGE_ERR_HTTP_BAD_REQUEST', `frame ${n} does not exist: the instance has ${numberOfFrames} frame(s)`, { frames: list, numberOfFrames });
    }
    if (numbers.includes(n)) throw new MedgeError('MEDGE_ERR_HTTP_BAD_REQUEST', `frame ${n} is listed twice`, { frames: list });
    numbers.push(n);
  }
  return numbers;
}
