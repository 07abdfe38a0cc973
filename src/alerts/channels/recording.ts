import { MedgeError } from '../../errors.js';
import type { AlertChannel, AlertMessage, DeliveryReceipt } from '../types.js';

/**
 * The in-memory twin of every alert channel (house style 1): records what it is given, and can be
 * told to fail, so that the dispatcher's retries, parking and escalation are testable without a peer.
 */
export class RecordingChannel implements AlertChannel {
  readonly type = 'recording' as const;
  readonly messages: AlertMessage[] = [];
  /** Attempts, successful or not. */
  attempts = 0;
  private failures: { count: number; permanent: boolean; reason: string } = { count: 0, permanent: false, reason: '' };
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(readonly id: string, readonly tier = 0, private readonly now: () => number = Date.now) {}

  /** The next `count` deliveries fail (retryable unless `permanent`) with `reason`. */
  failNext(count: number, options: { permanent?: boolean; reason?: string } = {}): void {
    this.failures = { count, permanent: options.permanent ?? false, reason: options.reason ?? 'the recording channel was told to fail' };
  }

  async deliver(message: AlertMessage, signal: AbortSignal): Promise<DeliveryReceipt> {
    this.attempts++;
    if (signal.aborted) throw new MedgeError('MEDGE_ERR_ALERT_DELIVERY', `channel ${this.id}: attempt aborted`, { channel: this.id });
    if (this.failures.count > 0) {
      this.failures.count--;
      throw new MedgeError('MEDGE_ERR_ALERT_DELIVERY', `channel ${this.id}: ${this.failures.reason}`, { channel: this.id, permanent: this.failures.permanent });
    }
    this.messages.push(message);
    for (const w of this.waiters.filter((w) => this.messages.length >= w.n)) w.resolve();
    this.waiters = this.waiters.filter((w) => this.messages.length < w.n);
    return { deliveredAt: this.now(), detail: 'recorded' };
  }

  /** Resolves once `n` messages were delivered in all (tests await this instead of sleeping). */
  delivered(n: number): Promise<void> {
    if (this.messages.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}
