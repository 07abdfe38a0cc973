/**
 * Time as a dependency (house style 7): the alert dispatcher's retries, delivery timeouts and
 * escalation read `now` and set timers through this, so tests drive them with ManualClock
 * instead of sleeping.
 */
export interface Clock {
  /** ms since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` (>= 0); the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** The wall clock; timers are unref'd so that a pending retry never keeps the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return () => clearTimeout(t);
  },
};

/** The in-memory twin (house style 1): time moves only when `advance` is called. */
export class ManualClock implements Clock {
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  constructor(private t = 1_700_000_000_000) {}

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  /** Moves time forward by `ms`, firing due timers in time order (each at its own instant). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }

  /** Timers not yet fired. */
  pending(): number {
    return this.timers.length;
  }
}
