import { MedgeError } from '../errors.js';
import type { AlertSender, PreparedAlert, PreparedInstance, SentUids, UplinkSender } from './uplink-sender.js';

/**
 * The in-memory twin of a destination (house style 1) for unit tests: keeps what it received,
 * can be down (every request fails with a given error), refuse a SOP class, or lose the answer
 * of a request it did store (the outcome-unknown case).
 */
export class MemoryDestination implements UplinkSender, AlertSender {
  readonly type = 'memory' as const;
  readonly target = 'memory';
  maxBatch = 8;
  /** Every instance stored, in arrival order, by the SOP Instance UID it was sent under. */
  readonly stored = new Map<string, PreparedInstance>();
  /** How many times each SOP Instance UID reached it (a resend shows as 2). */
  readonly received = new Map<string, number>();
  readonly order: string[] = [];
  readonly alerts: PreparedAlert[] = [];
  requests = 0;
  existsCalls = 0;
  /** When set, every request fails with it. */
  down: MedgeError | null = null;
  /** SOP classes refused per instance, with the reason. */
  readonly refuse = new Map<string, string>();
  /** The next n requests store but their answer is lost (a network error after the fact). */
  loseAnswers = 0;
  /** Resolves the next request only when released (to hold a send in flight). */
  gate: Promise<void> | null = null;

  async store(batch: PreparedInstance[]) {
    this.requests++;
    if (this.gate) await this.gate;
    if (this.down) throw this.down;
    const outcomes = batch.map((b) => {
      const refused = this.refuse.get(b.payload.sopClass);
      if (refused) return { id: b.item.id, status: 'failed' as const, retryable: false, reason: refused };
      this.received.set(b.sent.sop, (this.received.get(b.sent.sop) ?? 0) + 1);
      if (!this.stored.has(b.sent.sop)) this.order.push(b.sent.sop);
      this.stored.set(b.sent.sop, b);
      return { id: b.item.id, status: 'stored' as const };
    });
    if (this.loseAnswers > 0) {
      this.loseAnswers--;
      throw new MedgeError('MEDGE_ERR_UPLINK_NETWORK', 'memory: connection reset before the answer', { retryable: true });
    }
    return { outcomes, bytesSent: batch.reduce((n, b) => n + b.bytes, 0) };
  }

  async exists(uids: SentUids): Promise<boolean> {
    this.existsCalls++;
    if (this.down) throw this.down;
    return this.stored.has(uids.sop);
  }

  async send(alert: PreparedAlert): Promise<void> {
    this.requests++;
    if (this.down) throw this.down;
    this.alerts.push(alert);
  }

  close(): void {}
}
