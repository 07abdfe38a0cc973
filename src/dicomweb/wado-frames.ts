import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MedgeError, isMedgeError } from '../errors.js';
import { PIXEL_TS, type DecoderPool } from '../dicom/codecs/index.js';
import { openPixelSource, type PixelSource } from '../dicom/codecs/instance.js';
import { encapsulatedFrameBytes, nativeFrameBytes } from '../dicom/codecs/frames.js';
import { compressedMediaType, negotiateFrames, parseFrameList, UNCOMPRESSED_LE, type FrameRendition } from './frame-accept.js';
import { findInstances, type WadoDeps } from './wado-routes.js';
import { closeDelimiter, newBoundary, PART_END, partHead } from './multipart-writer.js';

type Params = { study: string; series: string; instance: string; frames: string };

export interface FrameDeps extends WadoDeps {
  /** The decoder pool for compressed frames asked for uncompressed (made on first use). */
  decoders: () => DecoderPool;
}

/** One part of the answer: the frame's bytes and their media type. */
interface FramePart {
  type: string;
  bytes: Uint8Array;
}

/**
 * WADO-RS frames (PS3.18 10.4.1.1.4, the Retrieve transaction's frames resource): the listed frames
 * of an image as multipart/related parts, uncompressed little endian by default (compressed frames
 * decoded by the node's codecs), or as stored (negotiated in frame-accept.ts). Viewers read pixel
 * data this way (a frame at a time) instead of fetching whole instances.
 */
export function registerFrameRoutes(app: FastifyInstance, deps: FrameDeps): void {
  app.get('/studies/:study/series/:series/instances/:instance/frames/:frames', (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) =>
    retrieveFrames(request, reply, deps),
  );
}

async function retrieveFrames(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply, deps: FrameDeps): Promise<unknown> {
  const instance = findInstances(deps.index, request.params)[0]!;
  const rendition = negotiateFrames(request.headers.accept, instance.transferSyntaxUid);
  const part10 = await deps.store.read(instance.blobKey);
  let source: PixelSource;
  try {
    source = openPixelSource(part10);
  } catch (err) {
    if (isMedgeError(err)) {
      throw new MedgeError('MEDGE_ERR_HTTP_BAD_REQUEST', `instance ${instance.sopInstanceUid} has no frames to retrieve: ${err.message}`, { sop: instance.sopInstanceUid }, err);
    }
    throw err;
  }
  const numbers = parseFrameList(request.params.frames, source.info.numberOfFrames);
  const parts: FramePart[] = [];
  for (const n of numbers) parts.push(await framePart(source, part10, n - 1, rendition, deps));

  const boundary = newBoundary();
  const chunks: Uint8Array[] = [];
  for (const p of parts) chunks.push(partHead(boundary, p.type, p.bytes.length), p.bytes, PART_END);
  chunks.push(closeDelimiter(boundary));
  const essence = parts[0]!.type.split(';')[0]!;
  return reply
    .status(200)
    .header('content-type', `multipart/related; type="${essence}"; boundary=${boundary}`)
    .send(Buffer.concat(chunks));
}

/** Frame `index` (0-based) in the negotiated rendition. */
async function framePart(source: PixelSource, part10: Buffer, index: number, rendition: FrameRendition, deps: FrameDeps): Promise<FramePart> {
  const ts = source.info.transferSyntaxUid;
  if (!source.encapsulated) return { type: `application/octet-stream; transfer-syntax=${UNCOMPRESSED_LE}`, bytes: nativeLittleEndian(source, index) };
  if (rendition === 'as-stored') {
    return { type: `${compressedMediaType(ts) ?? 'application/octet-stream'}; transfer-syntax=${ts}`, bytes: encapsulatedFrameBytes(source, index) };
  }
  let pixels;
  try {
    pixels = (await deps.decoders().decodeFrame(part10, index)).pixels;
  } catch (err) {
    if (isMedgeError(err, 'MEDGE_ERR_CODEC_UNSUPPORTED')) {
      throw new MedgeError('MEDGE_ERR_DICOMWEB_NOT_ACCEPTABLE', `${err.message}; ask for the frames as stored (transfer-syntax=*)`, { transferSyntaxUid: ts }, err);
    }
    throw err;
  }
  return { type: `application/octet-stream; transfer-syntax=${UNCOMPRESSED_LE}`, bytes: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength) };
}

/** A native frame's bytes in little endian (PS3.18 8.7.3.3.2): as stored, or byte-swapped from Explicit VR Big Endian. */
function nativeLittleEndian(source: PixelSource, index: number): Uint8Array {
  const { bytes, bitOffset } = nativeFrameBytes(source, index);
  if (bitOffset !== 0) {
    throw new MedgeError('MEDGE_ERR_DICOMWEB_NOT_ACCEPTABLE', `frame ${index + 1} of this 1-bit image does not begin on a byte boundary (PS3.5 8.1.1); retrieve the instance instead`, { frame: index + 1 });
  }
  const width = source.info.bitsAllocated / 8;
  if (source.info.transferSyntaxUid !== PIXEL_TS.ExplicitVRBigEndian || width < 2) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + width <= bytes.length; i += width) for (let b = 0; b < width; b++) out[i + b] = bytes[i + width - 1 - b]!;
  return out;
}
