import type { Clock } from '../pipeline/clock.js';

/**
 * The node's one clock (src/pipeline/clock.ts: time and timers as a dependency, house style 7),
 * re-exported for the alerts, with timers as cancel functions.
 */
export { systemClock, createManualClock, type Clock, type ManualClock } from '../pipeline/clock.js';

/** Calls `fn` once after `ms` on `clock`; the returned function cancels it. */
export function after(clock: Clock, ms: number, fn: () => void): () => void {
  const handle = clock.setTimer(Math.max(0, ms), fn);
  return () => clock.clearTimer(handle);
}
