import { buildVolume } from '../imaging/build-volume.js';
import type { VolumeBuilder } from './offline.js';

/**
 * The offline analysis' volume builder: src/imaging/build-volume.ts, with the time it spends
 * decoding pixels reported apart (its `onTimings`), so that `medge analyze` can show `decode` and
 * `volume` separately. Native pixel data is used in place (a typed-array view), so for
 * uncompressed series decoding is almost nothing and `decode` is mostly reading the files.
 */
export function createTimedVolumeBuilder(): VolumeBuilder {
  return async (instances) => {
    let decodeMs = 0;
    const volume = await buildVolume(instances, { onTimings: (t) => (decodeMs = t.decodeMs) });
    return { volume, decodeMs };
  };
}
