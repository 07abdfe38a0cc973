import { buildVolume } from '../imaging/build-volume.js';
import { decodeFrame } from '../imaging/frame-decoder.js';
import type { DecodedFrame, FrameDecoder } from '../imaging/native-pixels.js';
import { readInstance, type InstanceInfo } from '../imaging/slice-header.js';
import type { VolumeBuilder } from './offline.js';

/**
 * The offline analysis' volume builder: src/imaging/build-volume.ts with its pixel decoding timed
 * apart, so that `medge analyze` can report `decode` and `volume` separately.
 *
 * buildVolume decodes through an optional injected FrameDecoder. The one injected here does what the
 * default does (native pixel data in place, encapsulated through src/dicom/codecs) and adds up the
 * time spent in it. It parses each instance's header once more to know its transfer syntax and pixel
 * layout (dicom-parser, about 0.06 ms a slice): that parse counts as decoding.
 */
export function createTimedVolumeBuilder(now: () => number = () => performance.now()): VolumeBuilder {
  return async (instances) => {
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
