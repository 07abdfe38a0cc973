/**
 * The transmitter of one direction of a simulated WAN link: a token bucket (rate in bit/s, a burst
 * of `burstBytes` after the link was idle) shared by every connection that crosses the link, as a
 * real access line is. Chunks leave in the order they were offered (a FIFO queue, as in a router);
 * the caller adds the propagation delay to the time returned. Times are in milliseconds of any
 * monotonic clock (the caller passes `now`, so that tests need no sleeping, house style 7).
 */
export class LinkShaper {
  private bytesPerMs: number | undefined;
  /** When the transmitter is free again: the last scheduled chunk's last bit leaves then. */
  private nextFreeMs = Number.NEGATIVE_INFINITY;

  /** `rateBitsPerSecond` undefined or 0 = no cap. */
  constructor(
    rateBitsPerSecond: number | undefined,
    private readonly burstBytes = 16 * 1024,
  ) {
    this.bytesPerMs = toBytesPerMs(rateBitsPerSecond);
  }

  /** What is already scheduled keeps its times (it left at the old rate); new chunks follow it. */
  setRate(rateBitsPerSecond: number | undefined): void {
    this.bytesPerMs = toBytesPerMs(rateBitsPerSecond);
  }

  get rateBitsPerSecond(): number | undefined {
    return this.bytesPerMs === undefined ? undefined : this.bytesPerMs * 8000;
  }

  /**
   * Reserves the transmitter for `bytes` offered at `nowMs` and returns when their last bit has
   * left (>= nowMs). An idle link has saved up `burstBytes` of tokens, no more.
   */
  schedule(bytes: number, nowMs: number): number {
    if (this.bytesPerMs === undefined) return nowMs;
    const earliestStart = nowMs - this.burstBytes / this.bytesPerMs;
    const start = Math.max(this.nextFreeMs, earliestStart);
    this.nextFreeMs = start + bytes / this.bytesPerMs;
    return Math.max(this.nextFreeMs, nowMs);
  }
}

function toBytesPerMs(rateBitsPerSecond: number | undefined): number | undefined {
  if (rateBitsPerSecond === undefined || rateBitsPerSecond === 0) return undefined;
  if (!(rateBitsPerSecond > 0) || !Number.isFinite(rateBitsPerSecond)) throw new RangeError(`link rate must be a positive number of bit/s, got ${rateBitsPerSecond}`);
  return rateBitsPerSecond / 8000;
}
