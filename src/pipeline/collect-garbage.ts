import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection of the calling thread's heap, now; a no-op where V8 refuses.
 *
 * The analysis worker calls it after each job. A job reads the series' files (about 105 MB for
 * 200 CT slices) and builds masks and result objects; all of it is garbage once the job is done,
 * but an idle worker allocates nothing, so V8 collected it only during the next job, which then
 * allocated its own on top: resident memory of the node after each of six 200-slice series was
 * 402, 499, 566, 543, 584, 586 MB, against 283, 451, 368, 379, 384, 395 MB with this call (the
 * malloc arena keeps what was freed and reuses it for the next job, hence the plateau; the voxel
 * arena, volume-arena.ts, is 157 MB of it). The collection takes 10 to 30 ms after the job's
 * results are posted, off the way of an alert.
 *
 * `--expose-gc` set at run time applies to contexts created afterwards: the function is taken
 * from a new one (Node's documentation warns that flags changed after start-up may behave
 * unpredictably; this flag only installs that function).
 */
export function fullCollector(): () => void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // not offered by this runtime
  }
  return () => undefined;
}
