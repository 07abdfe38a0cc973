import { buildVolume } from '../imaging/build-volume.js';
import { readFileMeta } from '../dicom/part10.js';
import { decodeFrame } from '../imaging/frame-decoder.js';
import { isNativeTransferSyntax, type DecodedFrame, type FrameDecoder } from '../imaging/native-pixels.js';
import { readInstance, type InstanceInfo } from '../imaging/slice-header.js';
import type { VolumeBuilder } from './offline.js';

/**
 * The offline analysis' volume builder: src/imaging/build-volume.ts with its pixel decoding timed
 * apart, so that `medge analyze` can report `decode` and `volume` separately.
 *
 * buildVolume decodes through an optional injected FrameDecoder. The one injected here does what the
 * default does (native pixel data in place, encapsulated through src/dicom/codecs) and adds up the
 * time spent in it. It parses each instance's header once more to know its transfer syntax and pixel
 * layout (dicom-parser, about 0.2 ms a slice): that parse counts as decoding.
 *
 * When every instance is uncompressed (native transfer syntax, PS3.5 8.1.1) nothing is injected:
 * native pixel data is read in place as a typed-array view (measured: 0.6 ms for 250 slices of
 * 512x512), so decoding is reading the files, and the extra header parse (about 45 ms for 250
 * slices) would cost more than it measures. Then `decodeMs` is 0 and `decode` in the report is the
 * file reading alone.
 */
export function createTimedVolumeBuilder(now: () => number = () => performance.now()): VolumeBuilder {
  return async (instances) => {
    if (instances.every((i) => isNativeFile(i.part10))) return { volume: await buildVolume(instances), decodeMs: 0 };
    let decodeMs = 0;
    const infos = new WeakMap<Buffer, InstanceInfo>();
    const decode: FrameDecoder = async (part10, frame): Promise<DecodedFrame> => {
      const t = now();
      try {
        let info = infos.get(part10);
        if (!info) {
          const parsed = readInstance(part10);
          if (!parsed) throw new Error('not a readable DICOM Part 10 file');
          infos.set(part10, (info = parsed));
        }
        return await decodeFrame(info, part10, frame);
      } finally {
        decodeMs += now() - t;
      }
    };
    const volume = await buildVolume(instances, { decode });
    return { volume, decodeMs };
  };
}

/** Whether a Part 10 file's transfer syntax is native (uncompressed); only its File Meta is read. */
function isNativeFile(part10: Buffer): boolean {
  const meta = readFileMeta(part10);
  return !!meta && isNativeTransferSyntax(meta.transferSyntaxUid);
}
