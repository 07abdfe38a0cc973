/**
 * A circuit breaker per destination (issue 5): after `failures` consecutive failed attempts it
 * opens (link state down) and no item is tried, so a dead link costs neither attempts nor
 * backoff state of the items; after `coolDownMs` one probe goes through (half-open); a success
 * closes it, a failure opens it again. A failure a person must fix (credentials, TLS) opens it at
 * once. Times are ms since the epoch.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private consecutive = 0;
  private openedAt: number | null = null;
  private probing = false;
  private coolDown: number;

  constructor(private readonly failures: number, private readonly coolDownMs: number) {
    this.coolDown = coolDownMs;
  }

  state(now: number): BreakerState {
    if (this.openedAt === null) return 'closed';
    return now >= this.openedAt + this.coolDown || this.probing ? 'half-open' : 'open';
  }

  /** When the open breaker lets the next probe through (null when closed). */
  retryAt(): number | null {
    return this.openedAt === null ? null : this.openedAt + this.coolDown;
  }

  /** Whether an attempt may start now; in half-open, only one (the probe) until it ends. */
  allow(now: number): boolean {
    const s = this.state(now);
    if (s === 'closed') return true;
    if (s === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  /** Whether the next attempt is the half-open probe (send one item, not a batch). */
  isProbe(now: number): boolean {
    return this.state(now) !== 'closed';
  }

  success(): void {
    this.consecutive = 0;
    this.openedAt = null;
    this.probing = false;
    this.coolDown = this.coolDownMs;
  }

  /** A failed attempt; `now` opens the breaker when the count is reached or `fatal`. */
  failure(now: number, fatal = false): void {
    this.consecutive++;
    const wasProbe = this.probing;
    this.probing = false;
    if (fatal || wasProbe || this.consecutive >= this.failures) {
      // A failed probe doubles the cool-down (up to 10x): a long outage is probed less often.
      if (wasProbe) this.coolDown = Math.min(this.coolDownMs * 10, this.coolDown * 2);
      this.openedAt = now;
    }
  }

  get consecutiveFailures(): number {
    return this.consecutive;
  }

  /** Closed again by a person (`medge uplink retry`). */
  reset(): void {
    this.success();
  }
}
