import { toMedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import type { OutboxItem } from '../alerts/outbox.js';
import type { Clock } from '../alerts/clock.js';
import { DrainLoop } from '../util/drain-loop.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { ForwarderAttempts } from './forwarder-attempts.js';
import type { DailyWindow } from './daily-window.js';
import type { TokenBucket } from './token-bucket.js';
import { parsePayload, PRIORITY_CRITICAL, type AlertPayload } from './uplink-item.js';
import type { UplinkQueue } from './uplink-queue.js';
import type { UplinkMeter } from './uplink-meter.js';
import { prepareFailure, prepareInstance, type PrepareDeps } from './prepare-item.js';
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
/** A drain that failed, or found nothing due, is tried again after this, ms. */
const RETRY_MS = 1000;

/**
 * One forwarder per destination (issue 5): claims due items (critical studies first, then by age),
 * prepares them (de-identifies when the policy says so), sends them in batches, and records each
 * outcome in the outbox: confirmed (done_at), retried with exponential backoff and full jitter, or
 * parked with the destination's reason (sending and recording: forwarder-attempts.ts, which also
 * verifies before resending). A circuit breaker stops attempts while the link is down; a daily
 * window and a token bucket shape when and how fast.
 */
export class Forwarder {
  readonly breaker: CircuitBreaker;
  private readonly loop: DrainLoop;
  private readonly attempts: ForwarderAttempts;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  /** Batches in flight, each with the priority of its items (a batch holds one priority). */
  private readonly active = new Map<Promise<void>, number>();

  constructor(private readonly d: ForwarderDeps) {
    this.breaker = new CircuitBreaker(d.breaker.failures, d.breaker.coolDownMs);
    this.loop = new DrainLoop({
      drain: () => this.drain(),
      clock: d.clock,
      onError: (err) => d.log.error({ event: 'uplink-forwarder-failed', destination: this.id, err: toMedgeError(err).message }, 'uplink forwarder loop failed; retried'),
      retryMs: RETRY_MS,
    });
    this.attempts = new ForwarderAttempts(d, this.breaker, () => this.loop.stopped);
    this.leaseMs = d.leaseMs ?? DEFAULT_LEASE_MS;
    this.concurrency = Math.max(1, d.concurrency ?? DEFAULT_CONCURRENCY);
  }

  get id(): string {
    return this.d.destination;
  }

  /** Nothing is in flight after a restart: releases the claims a previous run left, then sends. */
  start(): void {
    this.d.queue.outbox.releaseClaims('uplink', this.id);
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  /** Closes the breaker (a person fixed the destination) and sends at once. */
  reset(): void {
    this.breaker.reset();
    this.attempts.single = false;
    this.attempts.reason = null;
    this.loop.clearTimer();
    this.loop.wake();
  }

  async stop(): Promise<void> {
    await this.loop.stop(STOP_GRACE_MS);
    this.d.sender.close();
    this.d.alertSender?.close();
  }

  /** Resolves when nothing due is left to work through now (it may still sleep on a timer). */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  status(): ForwarderStatus {
    const now = this.d.clock.now();
    const breaker = this.breaker.state(now);
    const link: LinkState = breaker === 'closed' ? (this.breaker.consecutiveFailures > 0 ? 'degraded' : 'up') : 'down';
    const retryAt = this.breaker.retryAt();
    const w = this.d.window;
    const a = this.attempts;
    return {
      link,
      breaker,
      consecutiveFailures: this.breaker.consecutiveFailures,
      reason: link === 'up' ? null : a.reason,
      nextProbeAt: retryAt === null ? null : new Date(retryAt).toISOString(),
      inFlight: a.inFlight,
      window: w ? { open: w.isOpen(now), nextOpenAt: w.isOpen(now) ? null : new Date(w.nextOpen(now)).toISOString() } : null,
      lastConfirmedAt: a.lastConfirmedAt === null ? null : new Date(a.lastConfirmedAt).toISOString(),
      lastError: a.lastError,
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
      this.loop.consumeWake();
      if (this.loop.stopped) {
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
      if (this.loop.consumeWake()) continue;
      if (blockedUntil !== null) return this.loop.wakeAt(blockedUntil);
      break;
    }
    const now = clock.now();
    const minPriority = this.minPriority(now);
    const candidates = [queue.nextDueAt(this.id, minPriority)];
    // A closed window: wake when it opens, for the routine items waiting behind it.
    if (minPriority > Number.MIN_SAFE_INTEGER && queue.nextDueAt(this.id) !== null) candidates.push(this.d.window!.nextOpen(now));
    const at = candidates.filter((x): x is number => x !== null).sort((a, b) => a - b)[0];
    if (at !== undefined) this.loop.wakeAt(at);
  }

  private freeSlot(now: number): boolean {
    const slots = this.attempts.single || this.breaker.state(now) !== 'closed' ? 1 : this.concurrency;
    return this.active.size < slots;
  }

  /**
   * Claims and prepares one batch and starts sending it without waiting for the answer; false when
   * nothing was due. Items are claimed in priority order (the claim is the lease that keeps every
   * other sender off them); a batch holds items of one priority, at least that of any batch in flight.
   */
  private async startBatch(now: number, minPriority: number): Promise<boolean> {
    const { queue, sender } = this.d;
    const probe = this.breaker.isProbe(now);
    const limit = probe || this.attempts.single ? 1 : sender.maxBatch;
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
          this.attempts.park(item, 'this destination has no alertUrl');
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
        this.attempts.park(item, prepareFailure(err));
      }
    }
    if (batch.length === 0 && !alert) return claimed > 0;
    if (!this.breaker.allow(now)) {
      for (const b of batch) queue.retry(b.item.id, this.d.clock.now());
      if (alert) queue.retry(alert.id, this.d.clock.now());
      return false;
    }
    const task = (async () => {
      if (batch.length > 0) await this.attempts.sendInstances(batch);
      if (alert && !this.loop.stopped) await this.attempts.sendAlert(alert, parsePayload(alert.payload) as AlertPayload);
    })()
      .catch((err) => this.d.log.error({ event: 'uplink-batch-failed', destination: this.id, err: toMedgeError(err).message }, 'uplink batch ended with an error; its items are retried after their lease'))
      .finally(() => this.active.delete(task));
    this.active.set(task, priority ?? 0);
    return true;
  }
}
