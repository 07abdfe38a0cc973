import { MedgeError } from '../errors.js';
import { decodeNativeFrame, isNativeTransferSyntax, type DecodedFrame, type FrameDecoder } from './native-pixels.js';
import type { InstanceInfo } from './slice-header.js';

/**
 * The codecs module (src/dicom/codecs/, another part of the project) exports
 * `decodeFrameSync(part10, frame)`. It is looked up at run time so that volumes build (native
 * pixel data) before and without it; once it is in the tree for good, import it statically.
 */
const CODECS_MODULE = '../dicom/codecs/index.js';
let codecs: Promise<FrameDecoder | null> | undefined;

function loadCodecs(): Promise<FrameDecoder | null> {
  codecs ??= import(CODECS_MODULE).then(
    (m: { decodeFrameSync?: FrameDecoder }) => (typeof m.decodeFrameSync === 'function' ? m.decodeFrameSync : null),
    () => null,
  );
  return codecs;
}

/**
 * Decodes frame `frame` (0-based) of an instance: the injected decoder when given; otherwise
 * native pixel data directly from the parsed dataset (views, no copy, where aligned) and
 * encapsulated pixel data through the codecs module when present.
 */
export async function decodeFrame(instance: InstanceInfo, part10: Buffer, frame: number, injected?: FrameDecoder): Promise<DecodedFrame> {
  if (injected) return injected(part10, frame);
  if (isNativeTransferSyntax(instance.transferSyntaxUid) && !instance.dataSet.elements['x7fe00010']?.encapsulatedPixelData) {
    return decodeNativeFrame(instance.dataSet, instance, frame);
  }
  const decoder = await loadCodecs();
  if (!decoder) {
    throw new MedgeError('MEDGE_ERR_CODEC_UNSUPPORTED', `no decoder for transfer syntax ${instance.transferSyntaxUid} (src/dicom/codecs not available)`, {
      transferSyntaxUid: instance.transferSyntaxUid,
    });
  }
  return decoder(part10, frame);
}
