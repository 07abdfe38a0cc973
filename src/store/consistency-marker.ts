import type { Logger } from '../observability/log.js';
import type { StoreMarks } from './store-marks.js';

/** How often a running node moves its consistency mark forward, ms. */
export const MARK_INTERVAL_MS = 30_000;

export interface ConsistencyMarkerDeps {
  marks: StoreMarks;
  /** Ingest.publishingSince: the mark may not pass an instance between rename and index commit. */
  publishingSince: () => number | undefined;
  log: Logger;
  intervalMs?: number;
  /** Wall clock, ms since the epoch (the clock that stamps the store's directories). */
  now?: () => number;
  /** Monotonic clock, ms (performance.now). */
  monotonic?: () => number;
}

/**
 * Moves the store's consistency mark (store-marks.ts) forward while the node runs, so that after a
 * crash the next start checks only the directories changed in the last minute or so, and writes
 * the clean-stop mark when the node stops with nothing on its way into the store.
 *
 * A mark never passes the previous one read in the current wall clock (the time of the previous
 * mark plus the monotonic time since): if the time service stepped the clock back meanwhile,
 * files stamped just before the step stay inside the next check.
 */
export class ConsistencyMarker {
  private readonly now: () => number;
  private readonly monotonic: () => number;
  private last: { wall: number; mono: number };
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ConsistencyMarkerDeps) {
    this.now = deps.now ?? Date.now;
    this.monotonic = deps.monotonic ?? (() => performance.now());
    this.last = { wall: this.now(), mono: this.monotonic() };
  }

  start(): void {
    this.timer ??= setInterval(() => this.mark(), this.deps.intervalMs ?? MARK_INTERVAL_MS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Writes the mark now; a failure is logged and the older mark stays (which only widens the next check). */
  mark(): void {
    const wall = this.now();
    const mono = this.monotonic();
    const previous = wall - (mono - this.last.mono);
    const consistentBefore = Math.min(this.deps.publishingSince() ?? wall, previous);
    this.write({ cleanStop: false, consistentBefore }, wall, mono);
  }

  /**
   * At a stop, once nothing stores any more: the clean-stop mark, or false (and no mark) when an
   * instance is still between rename and index commit, so that the next start checks.
   */
  markClean(): boolean {
    if (this.deps.publishingSince() !== undefined) {
      this.deps.log.warn({ event: 'store-not-marked-clean' }, 'an instance was still being stored at the stop; the next start checks what changed');
      return false;
    }
    return this.write({ cleanStop: true, consistentBefore: this.now() }, this.now(), this.monotonic());
  }

  private write(mark: { cleanStop: boolean; consistentBefore: number }, wall: number, mono: number): boolean {
    try {
      this.deps.marks.write(mark, wall);
      this.last = { wall, mono };
      return true;
    } catch (err) {
      this.deps.log.error({ event: 'store-mark-failed', err: (err as Error).message }, 'cannot write the store consistency mark; the next start after a crash checks more');
      return false;
    }
  }
}
