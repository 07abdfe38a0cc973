import { toMedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import type { OutboxItem } from '../alerts/outbox.js';
import type { Clock } from '../alerts/clock.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { TokenBucket } from './token-bucket.js';
import type { AlertPayload, InstancePayload } from './uplink-item.js';
import type { UplinkQueue } from './uplink-queue.js';
import type { UplinkMeter } from './uplink-meter.js';
import { prepareAlert, type PrepareDeps } from './prepare-item.js';
import type { AlertSender, PreparedInstance, UplinkSender } from './uplink-sender.js';

/** What an attempt needs of the forwarder's dependencies (ForwarderDeps is a superset). */
export interface AttemptDeps {
  destination: string;
  queue: UplinkQueue;
  sender: UplinkSender;
  alertSender?: AlertSender;
  prepare: Pick<PrepareDeps, 'deid'>;
  meter: UplinkMeter;
  clock: Clock;
  log: Logger;
  nodeAe: string;
  bucket?: TokenBucket;
  onConfirmed?(item: OutboxItem, how: 'stored' | 'already-there'): void;
}

/**
 * The sending half of a forwarder (forwarder.ts schedules, this sends): sends one claimed,
 * prepared batch of instances or one alert notice, and records what became of each item in the
 * outbox (confirmed, retried later with backoff, or parked with the destination's reason) and of
 * the link in the circuit breaker. Before resending an item whose previous attempt ended without
 * an answer it asks the destination whether it already holds it. Holds the link's health that the
 * forwarder's status shows and its scheduling reads (`single`).
 */
export class ForwarderAttempts {
  /** Items being sent now. */
  inFlight = 0;
  /** Why the link is not up (no credentials in it). */
  reason: string | null = null;
  lastError: string | null = null;
  lastConfirmedAt: number | null = null;
  /** After a batch was refused as a whole for a reason that is not the link, items go one by one. */
  single = false;

  /** `stopped`: the forwarder is stopping; what is not sent yet is left for the next start. */
  constructor(
    private readonly d: AttemptDeps,
    private readonly breaker: CircuitBreaker,
    private readonly stopped: () => boolean,
  ) {}

  private get id(): string {
    return this.d.destination;
  }

  async sendInstances(batch: PreparedInstance[]): Promise<void> {
    const { sender, clock, log } = this.d;
    this.inFlight += batch.length;
    try {
      // Outcome unknown after an earlier attempt (lost answer, crash, kill): ask before resending.
      const toSend: PreparedInstance[] = [];
      for (const b of batch) {
        if (b.item.attempts > 1 && (await sender.exists(b.sent)) === true) this.confirm(b.item, b.payload, 'already-there');
        else toSend.push(b);
      }
      if (toSend.length === 0 || this.stopped()) return this.succeeded();
      const total = toSend.reduce((n, b) => n + b.bytes, 0);
      this.d.bucket?.take(total, clock.now());
      const { outcomes } = await sender.store(toSend);
      if (this.closedDb()) return;
      const byId = new Map(outcomes.map((o) => [o.id, o]));
      for (const b of toSend) this.d.meter.sentBytes(this.id, b.payload.kind, byId.get(b.item.id)?.bytes ?? b.bytes);
      for (const b of toSend) {
        const o = byId.get(b.item.id);
        if (o?.status === 'stored') this.confirm(b.item, b.payload, 'stored');
        else if (o && o.retryable === false) this.park(b.item, o.reason ?? 'refused by the destination');
        else this.retryLater(b.item, o?.reason ?? 'no outcome for this instance');
      }
      this.succeeded();
    } catch (err) {
      this.batchFailed(batch.map((b) => b.item), err);
      log.debug({ destination: this.id, items: batch.length }, 'uplink batch failed');
    } finally {
      this.inFlight -= batch.length;
    }
  }

  async sendAlert(item: OutboxItem, payload: AlertPayload): Promise<void> {
    if (!this.d.alertSender) return this.park(item, 'this destination has no alertUrl');
    const prepared = prepareAlert(item, payload, this.d.prepare.deid, this.d.nodeAe);
    this.inFlight += 1;
    try {
      await this.d.alertSender.send(prepared);
      this.d.meter.sentBytes(this.id, 'alert', prepared.bytes);
      this.confirm(item, payload, 'stored');
      this.succeeded();
    } catch (err) {
      this.batchFailed([item], err);
    } finally {
      this.inFlight -= 1;
    }
  }

  /** The destination refused the item, or it cannot be sent at all: a person must look at it. */
  park(item: OutboxItem, reason: string): void {
    this.d.queue.outbox.park(item.id, reason);
    this.d.log.warn({ event: 'uplink-parked', destination: this.id, item: item.id, reason }, 'uplink item parked: the destination refused it');
  }

  /** The whole request failed: the link, the destination's configuration, or the request itself. */
  private batchFailed(items: OutboxItem[], err: unknown): void {
    if (this.closedDb()) return;
    const e = toMedgeError(err);
    const now = this.d.clock.now();
    this.lastError = `${e.message} [${e.code}]`;
    const needsPerson = e.code === 'MEDGE_ERR_UPLINK_AUTH' || e.code === 'MEDGE_ERR_UPLINK_TLS' || e.fields.destinationLevel === true;
    if (e.fields.retryable === true || needsPerson) {
      // Link or configuration: the items are not at fault and stay pending (nothing is lost);
      // the breaker stops further attempts until the cool-down or `medge uplink retry`.
      this.reason = this.lastError;
      this.breaker.failure(now, needsPerson);
      for (const item of items) this.retryLater(item, this.lastError);
      this.d.log.warn({ event: 'uplink-failed', destination: this.id, code: e.code, items: items.length, breaker: this.breaker.state(now) }, 'uplink attempt failed');
      return;
    }
    // Refused as a whole for another reason (HTTP 400, 413...): one item alone finds the culprit.
    if (items.length === 1) this.park(items[0]!, this.lastError);
    else {
      this.single = true;
      for (const item of items) this.d.queue.retry(item.id, now);
    }
  }

  /** The destination answered: the link is up. Coming back from down, what waited on backoff goes now. */
  private succeeded(): void {
    const wasDown = this.breaker.state(this.d.clock.now()) !== 'closed';
    this.breaker.success();
    this.single = false;
    this.reason = null;
    if (wasDown) {
      const n = this.d.queue.dueNow(this.id, this.d.clock.now());
      this.d.log.info({ event: 'uplink-link-up', destination: this.id, pending: n }, 'uplink destination reachable again');
    }
  }

  private confirm(item: OutboxItem, payload: InstancePayload | AlertPayload, how: 'stored' | 'already-there'): void {
    const now = this.d.clock.now();
    this.d.queue.outbox.markDone(item.id, now);
    this.lastConfirmedAt = now;
    this.d.log.info({ event: 'uplink-confirmed', destination: this.id, item: item.id, kind: payload.kind, study: payload.study, how, attempts: item.attempts, queuedMs: now - item.createdAt }, 'uplink item confirmed');
    this.d.onConfirmed?.(item, how);
  }

  private retryLater(item: OutboxItem, reason: string): void {
    this.d.queue.outbox.reschedule(item.id, reason, this.d.clock.now());
  }

  /** After stop the index may be closed: results of a late attempt are left to the next start. */
  private closedDb(): boolean {
    return !this.d.queue.db.open;
  }
}
