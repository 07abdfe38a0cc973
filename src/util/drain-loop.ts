import type { Clock } from '../pipeline/clock.js';

export interface DrainLoopOptions {
  /**
   * Works through what is due now, then returns (it may set the next wake-up with `wakeAt`). A
   * drain that loops may call `consumeWake` to take in wakes that arrived meanwhile instead of
   * ending and being run once more. It is called synchronously from `wake`, so it must not call
   * `wake` before its first await (that would start a second drain).
   */
  drain: () => Promise<void>;
  /** Time and timers for `wakeAt` (house style 7: a manual clock in tests). */
  clock: Clock;
  /**
   * A drain that rejected; the loop carries on as if it had returned. Without it the rejection is
   * left on the running promise (`idle` and `stop` rethrow it, and it is unhandled otherwise).
   */
  onError?: (err: unknown) => void;
  /**
   * When a drain ends with no wake pending and no timer set (nothing was due, or it failed), wake
   * again after this many ms, so that a failed drain is retried. Absent: sleep until `wake`.
   */
  retryMs?: number;
}

/**
 * The single-flight loop of an outbox worker (the uplink forwarder, an alert channel's sender):
 * `wake()` says "new work may be due" and may be called any number of times from anywhere, while
 * the work itself (claim, send, record) must run in one drain at a time, or two drains would
 * claim and send side by side and the worker's own state (in flight, breaker) would interleave.
 *
 * Guarantees:
 * - one drain at a time: a wake while a drain runs starts nothing; it is remembered instead;
 * - a wake during a drain is not lost: when the drain ends without having taken it in
 *   (`consumeWake`), exactly one more drain runs, however many wakes arrived meanwhile;
 * - after `stop()` no drain starts (wakes and timers are ignored) and `stop` resolves once the
 *   drain in flight has ended, or after `graceMs` when given;
 * - `idle()` resolves when no drain is running (including the re-runs that wakes caused).
 */
export class DrainLoop {
  private running: Promise<void> | null = null;
  private again = false;
  private halted = true;
  private cancelTimer: (() => void) | null = null;

  constructor(private readonly o: DrainLoopOptions) {}

  /** True before `start` and after `stop`; a drain checks it between steps to end early. */
  get stopped(): boolean {
    return this.halted;
  }

  /** True while a `wakeAt` timer is pending. */
  get timerSet(): boolean {
    return this.cancelTimer !== null;
  }

  /** Lets drains run and runs one now. */
  start(): void {
    this.halted = false;
    this.wake();
  }

  /** New work may be due: drains now, or once more after the running drain. */
  wake(): void {
    if (this.halted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.again = false;
    const drained = this.o.onError ? this.o.drain().catch(this.o.onError) : this.o.drain();
    this.running = drained.finally(() => {
      this.running = null;
      if (this.again && !this.halted) this.wake();
      else if (this.o.retryMs !== undefined && !this.halted && !this.cancelTimer) this.wakeAt(this.o.clock.now() + this.o.retryMs);
    });
  }

  /** For a drain that loops: true when `wake` was called since the drain began or since the last call; clears it. */
  consumeWake(): boolean {
    const woken = this.again;
    this.again = false;
    return woken;
  }

  /** Replaces any pending timer with one that wakes at `at` (ms since the epoch, clock time; past means now). */
  wakeAt(at: number): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (this.halted) return;
    const handle = this.o.clock.setTimer(Math.max(0, at - this.o.clock.now()), () => {
      this.cancelTimer = null;
      this.wake();
    });
    this.cancelTimer = () => this.o.clock.clearTimer(handle);
  }

  /** Drops the pending timer, if any. */
  clearTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  /**
   * No drain starts from now on (synchronously, before the first await: a caller may abort the
   * work in flight right after calling it). Resolves when the running drain has ended, or after
   * `graceMs` (real time, so that a stuck peer cannot hold a shutdown) when that comes first.
   */
  async stop(graceMs?: number): Promise<void> {
    this.halted = true;
    this.clearTimer();
    if (!this.running) return;
    if (graceMs === undefined) return this.running;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref();
    });
    try {
      await Promise.race([this.running, grace]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves when no drain is running (it may still sleep on a timer). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }
}
