/**
 * Wall-clock time and timers as one dependency (house style 7), so that the series tracker's quiet
 * and settle timers run on a manual clock in unit tests instead of sleeping.
 */
export interface Clock {
  /** ms since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`; the returned handle cancels it. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export type TimerHandle = { readonly id: number } | NodeJS.Timeout;

/** The real clock: Date.now and setTimeout (unref'd: a pending quiet timer never keeps the process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The in-memory twin of the system clock: time moves only when `advance` is called. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in time order (each sees `now()` at its due time). */
  advance(ms: number): void;
  /** Timers not yet fired. */
  pending(): number;
}

export function createManualClock(start = 1_700_000_000_000): ManualClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { due: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer(ms, fn) {
      const id = ++seq;
      timers.set(id, { due: now + Math.max(0, ms), fn });
      return { id };
    },
    clearTimer(h) {
      timers.delete((h as { id: number }).id);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        let next: [number, { due: number; fn: () => void }] | undefined;
        for (const entry of timers) {
          if (entry[1].due <= end && (!next || entry[1].due < next[1].due || (entry[1].due === next[1].due && entry[0] < next[0]))) next = entry;
        }
        if (!next) break;
        timers.delete(next[0]);
        now = Math.max(now, next[1].due);
        next[1].fn();
      }
      now = end;
    },
    pending: () => timers.size,
  };
}
