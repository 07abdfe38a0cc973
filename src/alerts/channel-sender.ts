import type { Db } from '../store/index-db.js';
import type { Logger } from '../observability/log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { NodeEvents } from '../events/node-events.js';
import { isMedgeError, MedgeError } from '../errors.js';
import { DrainLoop } from '../util/drain-loop.js';
import { after, type Clock } from './clock.js';
import type { Outbox, OutboxItem } from './outbox.js';
import type { AlertChannel, AlertMessage, DeliveryReceipt } from './types.js';
import { ALERT_DELIVERY_KIND, parseDeliveryRef } from './alert-writer.js';

/** At stop, how long an aborted attempt may still take to settle, ms. */
const STOP_GRACE_MS = 1000;

export interface ChannelSenderDeps {
  channel: AlertChannel;
  db: Db;
  outbox: Outbox;
  events: NodeEvents;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  /** Per attempt, ms: the attempt is aborted (and retried) after this. */
  timeoutMs: number;
}

export interface ChannelStatus {
  id: string;
  type: AlertChannel['type'];
  tier: number;
  pending: number;
  parked: number;
  inFlight: boolean;
  consecutiveFailures: number;
  lastError: string | null;
  lastDeliveredAt: string | null;
}

/**
 * One sender per channel: claims the channel's due outbox items one at a time (highest priority,
 * then oldest), delivers each with the channel's timeout, and records the outcome: delivered
 * (delivery row, outbox done, 'alert-changed'), retried later with backoff, or parked when the
 * peer said retrying cannot help (`fields.permanent`). Sleeps on a clock timer until the next
 * item is due or `wake` is called.
 */
export class ChannelSender {
  private readonly loop: DrainLoop;
  private inFlight: AbortController | null = null;
  private consecutiveFailures = 0;
  private lastError: string | null = null;
  private lastDeliveredAt: number | null = null;
  private readonly stmts;
  private readonly deliveredSeconds;
  private readonly outcomes;

  constructor(private readonly deps: ChannelSenderDeps) {
    const { db, metrics } = deps;
    // A failed pass (the index closed under it, a disk error) is logged and retried, never an
    // unhandled rejection that would end the node while alerts are waiting.
    this.loop = new DrainLoop({
      drain: () => this.drain(),
      clock: deps.clock,
      onError: (err) => deps.log.error({ event: 'alert-sender-failed', channel: this.id, err: (err as Error).message }, 'alert sender loop failed; retried'),
      retryMs: DRAIN_RETRY_MS,
    });
    this.stmts = {
      delivered: db.prepare(
        `UPDATE alert_deliveries SET delivered_at = coalesce(delivered_at, ?), detail = ?, attempts = attempts + 1, last_error = NULL
         WHERE alert_id = ? AND channel = ? AND revision = ? RETURNING dispatched_at AS dispatchedAt`,
      ),
      failed: db.prepare(`UPDATE alert_deliveries SET attempts = attempts + 1, last_error = ? WHERE alert_id = ? AND channel = ? AND revision = ?`),
    };
    this.deliveredSeconds = metrics.histogram('medge_alert_delivery_seconds', 'Alert dispatch to delivery confirmed by the channel, seconds');
    this.outcomes = metrics.counter('medge_alert_delivery_attempts_total', 'Alert delivery attempts by channel and outcome (delivered, retry, parked)');
  }

  get id(): string {
    return this.deps.channel.id;
  }

  /** Releases claims left by a previous run (nothing is in flight after a restart) and sends what is due. */
  start(): void {
    this.deps.outbox.releaseClaims(ALERT_DELIVERY_KIND, this.id);
    this.loop.start();
  }

  /** New items may be due: send them now. */
  wake(): void {
    this.loop.wake();
  }

  /** Stops sending; an attempt in flight is aborted and left claimed, to be sent again after a restart. */
  async stop(): Promise<void> {
    // Stopped first: the aborted attempt must see it and leave its item claimed.
    const stopped = this.loop.stop();
    this.inFlight?.abort(new MedgeError('MEDGE_ERR_ALERT_DELIVERY', `channel ${this.id}: the node is stopping`, { channel: this.id }));
    await stopped;
  }

  /** Resolves when the sender has nothing due left to work through (it may still sleep on a retry timer). */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  status(): ChannelStatus {
    const depth = this.deps.outbox.depth(this.deps.clock.now()).find((d) => d.kind === ALERT_DELIVERY_KIND && d.destination === this.id);
    return {
      id: this.id,
      type: this.deps.channel.type,
      tier: this.deps.channel.tier,
      pending: depth?.pending ?? 0,
      parked: depth?.parked ?? 0,
      inFlight: this.inFlight !== null,
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.lastError,
      lastDeliveredAt: this.lastDeliveredAt === null ? null : new Date(this.lastDeliveredAt).toISOString(),
    };
  }

  private async drain(): Promise<void> {
    const { outbox, clock } = this.deps;
    do {
      for (;;) {
        if (this.loop.stopped) return;
        // The claim outlives the timeout a little, so that a hung attempt is not claimed twice.
        const item = outbox.claim(ALERT_DELIVERY_KIND, this.id, clock.now(), this.deps.timeoutMs + 1000);
        if (!item) break;
        await this.attempt(item);
      }
    } while (this.loop.consumeWake());
    this.sleepUntilDue();
  }

  private sleepUntilDue(): void {
    // Stopped: the index may be closed, so it is not asked.
    const at = this.loop.stopped ? null : this.deps.outbox.nextDueAt(ALERT_DELIVERY_KIND, this.id);
    if (at === null) this.loop.clearTimer();
    else this.loop.wakeAt(at);
  }

  private async attempt(item: OutboxItem): Promise<void> {
    const { channel, clock } = this.deps;
    const message = JSON.parse(item.payload) as AlertMessage;
    const ac = new AbortController();
    this.inFlight = ac;
    const cancelTimeout = after(clock, this.deps.timeoutMs, () =>
      ac.abort(new MedgeError('MEDGE_ERR_ALERT_DELIVERY', `channel ${channel.id}: no confirmation within ${this.deps.timeoutMs} ms`, { channel: channel.id })),
    );
    const delivery = Promise.resolve().then(() => channel.deliver(message, ac.signal));
    try {
      let receipt: DeliveryReceipt | null;
      try {
        receipt = await Promise.race([delivery, aborted(ac.signal)]);
      } catch (err) {
        if (!this.loop.stopped) return this.onFailed(item, message, err);
        // Stopping: the peer may have confirmed just as the attempt was aborted; record that
        // rather than send it twice. Otherwise the item stays claimed and goes out after a restart.
        receipt = await this.settledWithin(delivery, STOP_GRACE_MS);
        if (!receipt) return;
      }
      this.onDelivered(item, message, receipt);
    } finally {
      cancelTimeout();
      this.inFlight = null;
    }
  }

  private settledWithin(p: Promise<DeliveryReceipt>, ms: number): Promise<DeliveryReceipt | null> {
    return new Promise((resolve) => {
      const cancel = after(this.deps.clock, ms, () => resolve(null));
      p.then(
        (r) => (cancel(), resolve(r)),
        () => (cancel(), resolve(null)),
      );
    });
  }

  private onDelivered(item: OutboxItem, message: AlertMessage, receipt: DeliveryReceipt): void {
    const { db, outbox, clock, events } = this.deps;
    const { alertId, revision } = parseDeliveryRef(item.ref);
    const row = db.transaction(() => {
      outbox.markDone(item.id, clock.now());
      return this.stmts.delivered.get(receipt.deliveredAt, receipt.detail ?? null, alertId, this.id, revision) as { dispatchedAt: number } | undefined;
    })();
    if (row) this.deliveredSeconds.observe({ channel: this.id }, Math.max(0, receipt.deliveredAt - row.dispatchedAt) / 1000);
    this.outcomes.inc({ channel: this.id, outcome: 'delivered' });
    this.consecutiveFailures = 0;
    this.lastDeliveredAt = receipt.deliveredAt;
    this.deps.log.info({ event: 'alert-delivered', alertId, revision, channel: this.id, attempt: item.attempts, detail: receipt.detail }, 'alert delivered');
    events.emit('alert-changed', { alertId, studyInstanceUid: message.study.studyInstanceUid, change: 'delivered', channel: this.id });
  }

  private onFailed(item: OutboxItem, message: AlertMessage, err: unknown): void {
    const { db, outbox, clock } = this.deps;
    const { alertId, revision } = parseDeliveryRef(item.ref);
    const reason = err instanceof Error ? err.message : String(err);
    const permanent = isMedgeError(err) && err.fields.permanent === true;
    let retryAt: number | null = null;
    db.transaction(() => {
      if (permanent) outbox.park(item.id, reason);
      else retryAt = outbox.reschedule(item.id, reason, clock.now());
      this.stmts.failed.run(reason, alertId, this.id, revision);
    })();
    this.outcomes.inc({ channel: this.id, outcome: permanent ? 'parked' : 'retry' });
    this.consecutiveFailures++;
    this.lastError = reason;
    // Channel errors carry no patient data by contract (src/alerts/types.ts); the study UID is the correlation id.
    this.deps.log.warn(
      { event: permanent ? 'alert-delivery-parked' : 'alert-delivery-failed', alertId, revision, channel: this.id, study: message.study.studyInstanceUid, attempt: item.attempts, code: isMedgeError(err) ? err.code : undefined, err: reason, retryAt: retryAt === null ? undefined : new Date(retryAt).toISOString() },
      permanent ? 'alert delivery rejected by the peer: parked' : 'alert delivery failed: will retry',
    );
  }
}

/** Rejects with the signal's reason once it is aborted (the channel may not watch the signal). */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** A failed pass of the sender is tried again after this long (ms). */
const DRAIN_RETRY_MS = 1000;
