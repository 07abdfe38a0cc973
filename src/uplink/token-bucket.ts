/**
 * A bandwidth cap (issue 5, "under a bandwidth cap"): a token bucket of `bytesPerSecond` that
 * holds at most `burstSeconds` worth of tokens. A send may start whenever the bucket is not in
 * debt and is then charged in full, so one batch larger than the bucket goes through and the
 * next waits until it is paid for: over any stretch longer than the burst, the average rate
 * stays at or under the cap, while each batch leaves at the link's own speed.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;
  private readonly capacity: number;

  constructor(readonly bytesPerSecond: number, now: number, burstSeconds = 1) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`a bandwidth cap must be > 0 bytes/s, got ${bytesPerSecond}`);
    this.capacity = bytesPerSecond * burstSeconds;
    this.tokens = this.capacity;
    this.at = now;
  }

  private refill(now: number): void {
    if (now > this.at) this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 1000) * this.bytesPerSecond);
    this.at = Math.max(this.at, now);
  }

  /** ms to wait before the next send may start (0: now). */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.bytesPerSecond) * 1000);
  }

  /** Charges the bytes of a send. */
  take(bytes: number, now: number): void {
    this.refill(now);
    this.tokens -= bytes;
  }

  /** The largest batch worth sending at once: one second of the cap. */
  get batchBytes(): number {
    return this.capacity;
  }
}
