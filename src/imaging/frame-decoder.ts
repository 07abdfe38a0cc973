import { decodeFrameSync } from '../dicom/codecs/index.js';
import { decodeNativeFrame, isNativeTransferSyntax, type DecodedFrame, type FrameDecoder } from './native-pixels.js';
import type { InstanceInfo } from './slice-header.js';

/**
 * Decodes frame `frame` (0-based) of an instance: the injected decoder when given; otherwise
 * native pixel data directly from the dataset buildVolume has already parsed (views, no copy,
 * where aligned: no second parse), and everything else (encapsulated: RLE, JPEG, JPEG-LS, JPEG
 * 2000, HTJ2K) through the codecs of src/dicom/codecs, which throw MEDGE_ERR_CODEC_UNSUPPORTED or
 * MEDGE_ERR_CODEC_DECODE with the reason.
 */
export async function decodeFrame(instance: InstanceInfo, part10: Buffer, frame: number, injected?: FrameDecoder): Promise<DecodedFrame> {
  if (injected) return injected(part10, frame);
  if (isNativeTransferSyntax(instance.transferSyntaxUid) && !instance.dataSet.elements['x7fe00010']?.encapsulatedPixelData) {
    return decodeNativeFrame(instance.dataSet, instance, frame);
  }
  return decodeFrameSync(part10, frame);
}
