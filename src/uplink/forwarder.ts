import { toMedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import type { OutboxItem } from '../alerts/outbox.js';
import { after, type Clock } from '../alerts/clock.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { DailyWindow } from './daily-window.js';
import type { TokenBucket } from './token-bucket.js';
import { parsePayload, PRIORITY_CRITICAL, type AlertPayload, type InstancePayload } from './uplink-item.js';
import type { UplinkQueue } from './uplink-queue.js';
import type { UplinkMeter } from './uplink-meter.js';
import { prepareAlert, prepareFailure, prepareInstance, type PrepareDeps } from './prepare-item.js';
import type { AlertSender, PreparedInstance, UplinkSender } from './uplink-sender.js';

export type LinkState = 'up' | 'degraded' | 'down';

export interface ForwarderDeps {
  destination: string;
  queue: UplinkQueue;
  sender: UplinkSender;
  alertSender?: AlertSender;
  prepare: PrepareDeps;
  meter: UplinkMeter;
  clock: Clock;
  log: Logger;
  nodeAe: string;
  breaker: { failures: number; coolDownMs: number };
  window?: DailyWindow;
  /** Outside the window, items of studies with an unacknowledged critical alert still go. */
  criticalOutsideWindow?: boolean;
  bucket?: TokenBucket;
  /** A claim outlives an attempt by far; a restart releases every claim anyway. */
  leaseMs?: number;
  /** Batches (STOW-RS requests, DIMSE associations) in flight at once; default DEFAULT_CONCURRENCY. */
  concurrency?: number;
  /** Told of each confirmed item (tests, benchmarks, the dashboard later). */
  onConfirmed?(item: OutboxItem, how: 'stored' | 'already-there'): void;
}

export interface ForwarderStatus {
  link: LinkState;
  breaker: ReturnType<CircuitBreaker['state']>;
  consecutiveFailures: number;
  /** Why the link is not up (no credentials in it). */
  reason: string | null;
  /** When the open breaker lets the next probe through, ISO. */
  nextProbeAt: string | null;
  inFlight: number;
  window: { open: boolean; nextOpenAt: string | null } | null;
  lastConfirmedAt: string | null;
  lastError: string | null;
}

const DEFAULT_LEASE_MS = 15 * 60_000;
/**
 * Batches in flight per destination by default. One at a time left a 50 Mbit/s, 40 ms link 78 %
 * idle (each request waits a round trip and the archive's store time); docs/uplink.md has the
 * figures for 1, 2, 3 and 4.
 */
export const DEFAULT_CONCURRENCY = 3;
/** Upper bound of one batch, bytes (the token bucket lowers it to one second of the cap). */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/** At stop, how long an attempt in flight may still settle, ms; after that its items are resolved at the next start. */
const STOP_GRACE_MS = 2000;

/**
 * One forwarder per destination (issue 5): claims due items (critical studies first, then by age),
 * prepares them (de-identifies when the policy says so), sends them in batches, and records each
 * outcome in the outbox: confirmed (done_at), retried with exponential backoff and full jitter, or
 * parked with the destination's reason. Before resending an item whose previous attempt ended
 * without an answer it asks the destination whether it already holds it. A circuit breaker stops
 * attempts while the link is down; a daily window and a token bucket shape when and how fast.
 */
export class Forwarder {
  readonly breaker: CircuitBreaker;
  private stopped = true;
  private running: Promise<void> | null = null;
  private again = false;
  private cancelTimer: (() => void) | null = null;
  private inFlight = 0;
  private reason: string | null = null;
  private lastError: string | null = null;
  private lastConfirmedAt: number | null = null;
  /** After a batch was refused as a whole for a reason that is not the link, items go one by one. */
  private single = false;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  /** Batches in flight, each with the priority of its items (a batch holds one priority). */
  private readonly active = new Map<Promise<void>, number>();

  constructor(private readonly d: ForwarderDeps) {
    this.breaker = new CircuitBreaker(d.breaker.failures, d.breaker.coolDownMs);
    this.leaseMs = d.leaseMs ?? DEFAULT_LEASE_MS;
    this.concurrency = Math.max(1, d.concurrency ?? DEFAULT_CONCURRENCY);
  }

  get id(): string {
    return this.d.destination;
  }

  /** Nothing is in flight after a restart: releases the claims a previous run left, then sends. */
  start(): void {
    this.stopped = false;
    this.d.queue.outbox.releaseClaims('uplink', this.id);
    this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err) => this.d.log.error({ event: 'uplink-forwarder-failed', destination: this.id, err: toMedgeError(err).message }, 'uplink forwarder loop failed; retried'))
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) this.wake();
        else if (!this.stopped && !this.cancelTimer) this.sleep(this.d.clock.now() + 1000);
      });
  }

  /** Closes the breaker (a person fixed the destination) and sends at once. */
  reset(): void {
    this.breaker.reset();
    this.single = false;
    this.reason = null;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (this.running) await Promise.race([this.running, new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())]);
    this.d.sender.close();
    this.d.alertSender?.close();
  }

  /** Resolves when nothing due is left to work through now (it may still sleep on a timer). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  status(): ForwarderStatus {
    const now = this.d.clock.now();
    const breaker = this.breaker.state(now);
    const link: LinkState = breaker === 'closed' ? (this.breaker.consecutiveFailures > 0 ? 'degraded' : 'up') : 'down';
    const retryAt = this.breaker.retryAt();
    const w = this.d.window;
    return {
      link,
      breaker,
      consecutiveFailures: this.breaker.consecutiveFailures,
      reason: link === 'up' ? null : this.reason,
      nextProbeAt: retryAt === null ? null : new Date(retryAt).toISOString(),
      inFlight: this.inFlight,
      window: w ? { open: w.isOpen(now), nextOpenAt: w.isOpen(now) ? null : new Date(w.nextOpen(now)).toISOString() } : null,
      lastConfirmedAt: this.lastConfirmedAt === null ? null : new Date(this.lastConfirmedAt).toISOString(),
      lastError: this.lastError,
    };
  }

  private minPriority(now: number): number {
    const w = this.d.window;
    if (!w || w.isOpen(now)) return Number.MIN_SAFE_INTEGER;
    return this.d.criticalOutsideWindow === false ? Number.MAX_SAFE_INTEGER : PRIORITY_CRITICAL;
  }

  /**
   * Starts batches while a slot is free, in priority order, and waits for those in flight; returns
   * when nothing more can start now and nothing is in flight (then sleeps until the next due item).
   * Slots: `concurrency` while the link is up; one (the probe) while the breaker is not closed, and
   * while items go one by one to find a culprit. A batch of lower priority does not start while
   * one of higher priority is in flight, so critical results have the link to themselves.
   */
  private async drain(): Promise<void> {
    const { clock, queue } = this.d;
    for (;;) {
      this.again = false;
      if (this.stopped) {
        await Promise.allSettled(this.active.keys());
        return;
      }
      const now = clock.now();
      const wait = this.d.bucket?.waitMs(now) ?? 0;
      let blockedUntil: number | null = null;
      if (wait > 0) blockedUntil = now + wait;
      else if (this.breaker.state(now) === 'open') blockedUntil = this.breaker.retryAt()!;
      if (blockedUntil === null && this.freeSlot(now) && (await this.startBatch(now, this.minPriority(now)))) continue;
      if (this.active.size > 0) {
        await Promise.race(this.active.keys());
        continue;
      }
      if (this.again) continue;
      if (blockedUntil !== null) return this.sleep(blockedUntil);
      break;
    }
    const now = clock.now();
    const minPriority = this.minPriority(now);
    const candidates = [queue.nextDueAt(this.id, minPriority)];
    // A closed window: wake when it opens, for the routine items waiting behind it.
    if (minPriority > Number.MIN_SAFE_INTEGER && queue.nextDueAt(this.id) !== null) candidates.push(this.d.window!.nextOpen(now));
    const at = candidates.filter((x): x is number => x !== null).sort((a, b) => a - b)[0];
    if (at !== undefined) this.sleep(at);
  }

  private freeSlot(now: number): boolean {
    const slots = this.single || this.breaker.state(now) !== 'closed' ? 1 : this.concurrency;
    return this.active.size < slots;
  }

  private sleep(at: number): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (this.stopped) return;
    this.cancelTimer = after(this.d.clock, Math.max(0, at - this.d.clock.now()), () => {
      this.cancelTimer = null;
      this.wake();
    });
  }

  /**
   * Claims and prepares one batch and starts sending it without waiting for the answer; false when
   * nothing was due. Items are claimed in priority order (the claim is the lease that keeps every
   * other sender off them); a batch holds items of one priority, at least that of any batch in flight.
   */
  private async startBatch(now: number, minPriority: number): Promise<boolean> {
    const { queue, sender } = this.d;
    const probe = this.breaker.isProbe(now);
    const limit = probe || this.single ? 1 : sender.maxBatch;
    const maxBytes = Math.min(MAX_BATCH_BYTES, this.d.bucket?.batchBytes ?? MAX_BATCH_BYTES);
    const batch: PreparedInstance[] = [];
    let bytes = 0;
    let alert: OutboxItem | null = null;
    let claimed = 0;
    // An alert notice (priority 11) and its study's results (10) are one tier: the notice does not hold the results back.
    let floor = Math.max(minPriority, ...[...this.active.values()].map((p) => Math.min(p, PRIORITY_CRITICAL)));
    let priority: number | null = null;
    while (batch.length < limit && bytes < maxBytes) {
      const item = queue.claim(this.id, this.d.clock.now(), this.leaseMs, floor);
      if (!item) break;
      claimed++;
      if (priority === null) floor = priority = item.priority;
      const payload = parsePayload(item.payload);
      if (payload.type === 'alert') {
        // Parked before any attempt: it must not take the breaker's probe, which only an answer ends.
        if (!this.d.alertSender) {
          this.park(item, 'this destination has no alertUrl');
          continue;
        }
        alert = item;
        break;
      }
      try {
        const p = await prepareInstance(item, payload, this.d.prepare);
        batch.push(p);
        bytes += p.bytes;
      } catch (err) {
        this.park(item, prepareFailure(err));
      }
    }
    if (batch.length === 0 && !alert) return claimed > 0;
    if (!this.breaker.allow(now)) {
      for (const b of batch) queue.retry(b.item.id, this.d.clock.now());
      if (alert) queue.retry(alert.id, this.d.clock.now());
      return false;
    }
    const task = (async () => {
      if (batch.length > 0) await this.sendInstances(batch);
      if (alert && !this.stopped) await this.sendAlert(alert, parsePayload(alert.payload) as AlertPayload);
    })()
      .catch((err) => this.d.log.error({ event: 'uplink-batch-failed', destination: this.id, err: toMedgeError(err).message }, 'uplink batch ended with an error; its items are retried after their lease'))
      .finally(() => this.active.delete(task));
    this.active.set(task, priority ?? 0);
    return true;
  }

  private async sendInstances(batch: PreparedInstance[]): Promise<void> {
    const { sender, clock, log } = this.d;
    this.inFlight += batch.length;
    try {
      // Outcome unknown after an earlier attempt (lost answer, crash, kill): ask before resending.
      const toSend: PreparedInstance[] = [];
      for (const b of batch) {
        if (b.item.attempts > 1 && (await sender.exists(b.sent)) === true) this.confirm(b.item, b.payload, 'already-there');
        else toSend.push(b);
      }
      if (toSend.length === 0 || this.stopped) return this.succeeded();
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

  private async sendAlert(item: OutboxItem, payload: AlertPayload): Promise<void> {
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

  private park(item: OutboxItem, reason: string): void {
    this.d.queue.outbox.park(item.id, reason);
    this.d.log.warn({ event: 'uplink-parked', destination: this.id, item: item.id, reason }, 'uplink item parked: the destination refused it');
  }

  private retryLater(item: OutboxItem, reason: string): void {
    this.d.queue.outbox.reschedule(item.id, reason, this.d.clock.now());
  }

  /** After stop the index may be closed: results of a late attempt are left to the next start. */
  private closedDb(): boolean {
    return !this.d.queue.db.open;
  }
}

