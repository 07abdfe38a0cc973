/**
 * When a lone writer may wait for the disk on the event loop (fs-blob-writer.ts). A slow disk (a
 * spinning one, a degraded array, an overloaded host) must not stall the event loop, and with it
 * the API and alert deliveries, once per instance: when the average inline wait passes `slowMs`,
 * waits go to the thread pool for `backoffMs`. An average, so that one hiccup does not count.
 */
export interface InlinePolicy {
  allowed(): boolean;
  /** How long an inline wait for the disk took, ms. */
  waited(ms: number): void;
}

export function createInlinePolicy(options: { slowMs: number; backoffMs: number; now?: () => number }): InlinePolicy {
  const now = options.now ?? (() => performance.now());
  let average = 0;
  let offUntil = -Infinity;
  return {
    allowed: () => now() >= offUntil,
    waited(ms) {
      average = average * (1 - WEIGHT) + ms * WEIGHT;
      if (average > options.slowMs) {
        offUntil = now() + options.backoffMs;
        average = 0;
      }
    },
  };
}

/** Weight of the newest wait in the moving average: a 5x slower disk shows within 3 to 4 waits. */
const WEIGHT = 0.3;
