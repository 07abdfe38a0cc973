import type { Db } from '../store/index-db.js';
import { Outbox, type OutboxItem, type OutboxOptions } from '../alerts/outbox.js';
import { PRIORITY_CRITICAL, PRIORITY_ROUTINE, UPLINK_KIND, type UplinkPayload } from './uplink-item.js';

export interface QueueDepth {
  pending: number;
  parked: number;
  done: number;
  /** Age of the oldest pending item, ms (null when none). */
  oldestPendingMs: number | null;
  lastConfirmedAt: number | null;
}

/**
 * The uplink's view of the generic outbox (kind 'uplink'): enqueue with the study's priority,
 * claim with a priority floor (outside a daily window only critical items go), move a study's
 * items up or down when its critical alert is raised or acknowledged, and put parked items back.
 */
export class UplinkQueue {
  readonly outbox: Outbox;
  private readonly s;

  constructor(readonly db: Db, options: OutboxOptions) {
    this.outbox = new Outbox(db, options);
    this.s = {
      next: db.prepare(
        `SELECT id FROM outbox
         WHERE state = 'pending' AND kind = '${UPLINK_KIND}' AND destination = @destination AND due_at <= @now AND priority >= @minPriority
           AND (claimed_until IS NULL OR claimed_until <= @now)
         ORDER BY priority DESC, created_at, id LIMIT 1`,
      ),
      claim: db.prepare(`UPDATE outbox SET claimed_until = ?, attempts = attempts + 1, last_attempt_at = ? WHERE id = ?`),
      nextDue: db.prepare(
        `SELECT min(max(due_at, coalesce(claimed_until, 0))) AS at FROM outbox
         WHERE state = 'pending' AND kind = '${UPLINK_KIND}' AND destination = ? AND priority >= ?`,
      ),
      // An unacknowledged, active, critical alert on the study puts its items first (issue 5: priority).
      critical: db.prepare(`SELECT 1 FROM alerts WHERE study_uid = ? AND severity = 'critical' AND state = 'active' AND acknowledged_at IS NULL LIMIT 1`),
      reprioritise: db.prepare(
        `UPDATE outbox SET priority = CASE WHEN json_extract(payload, '$.type') = 'alert' THEN @p + 1 ELSE @p END
         WHERE kind = '${UPLINK_KIND}' AND state = 'pending' AND json_extract(payload, '$.study') = @study`,
      ),
      retryOne: db.prepare(
        `UPDATE outbox SET state = 'pending', due_at = @now, claimed_until = NULL
         WHERE id = @id AND kind = '${UPLINK_KIND}' AND state IN ('parked', 'pending')`,
      ),
      retryAll: db.prepare(
        `UPDATE outbox SET state = 'pending', due_at = min(due_at, @now), claimed_until = NULL
         WHERE kind = '${UPLINK_KIND}' AND state IN ('parked', 'pending') AND (@destination IS NULL OR destination = @destination)`,
      ),
      dueNow: db.prepare(`UPDATE outbox SET due_at = min(due_at, ?) WHERE kind = '${UPLINK_KIND}' AND destination = ? AND state = 'pending'`),
      depth: db.prepare(
        `SELECT destination, sum(state = 'pending') AS pending, sum(state = 'parked') AS parked, sum(state = 'done') AS done,
                min(CASE WHEN state = 'pending' THEN created_at END) AS oldest, max(done_at) AS lastDone
         FROM outbox WHERE kind = '${UPLINK_KIND}' GROUP BY destination`,
      ),
      parked: db.prepare(
        `SELECT id, ref, payload, attempts, last_error AS lastError, created_at AS createdAt, last_attempt_at AS lastAttemptAt
         FROM outbox WHERE kind = '${UPLINK_KIND}' AND destination = ? AND state = 'parked' ORDER BY id LIMIT ?`,
      ),
    };
  }

  /** The priority items of `study` get now. */
  priorityOf(study: string): number {
    return this.s.critical.get(study) ? PRIORITY_CRITICAL : PRIORITY_ROUTINE;
  }

  /** Idempotent (UNIQUE kind, destination, ref); call inside the transaction that makes it due. */
  enqueue(destination: string, ref: string, payload: UplinkPayload, now: number): boolean {
    const base = this.priorityOf(payload.study);
    const priority = payload.type === 'alert' && base > PRIORITY_ROUTINE ? base + 1 : base;
    return this.outbox.enqueue({ kind: UPLINK_KIND, destination, ref, payload: JSON.stringify(payload), priority }, now).created;
  }

  /** Sets the priority of the study's pending items from its alerts (raised, acknowledged, retracted). */
  reprioritise(study: string): number {
    return this.s.reprioritise.run({ p: this.priorityOf(study), study }).changes;
  }

  /** Claims the next due item at or above `minPriority` for `leaseMs`, counting the attempt. */
  claim(destination: string, now: number, leaseMs: number, minPriority = Number.MIN_SAFE_INTEGER): OutboxItem | null {
    return this.db.transaction(() => {
      const row = this.s.next.get({ destination, now, minPriority }) as { id: number } | undefined;
      if (!row) return null;
      this.s.claim.run(now + leaseMs, now, row.id);
      return this.outbox.get(row.id);
    })();
  }

  nextDueAt(destination: string, minPriority = Number.MIN_SAFE_INTEGER): number | null {
    return (this.s.nextDue.get(destination, minPriority) as { at: number | null }).at;
  }

  /** A parked (or waiting) item due again now; false when no uplink item `id` is parked or pending. */
  retry(id: number, now: number): boolean {
    return this.s.retryOne.run({ id, now }).changes === 1;
  }

  /** Every parked and waiting item (of one destination, or all) due now; the count. */
  retryAll(now: number, destination?: string): number {
    return this.s.retryAll.run({ now, destination: destination ?? null }).changes;
  }

  /** Pending items of `destination` waiting on a backoff are due now (the link came back). */
  dueNow(destination: string, now: number): number {
    return this.s.dueNow.run(now, destination).changes;
  }

  depth(now: number): Map<string, QueueDepth> {
    const rows = this.s.depth.all() as { destination: string; pending: number; parked: number; done: number; oldest: number | null; lastDone: number | null }[];
    return new Map(rows.map((r) => [r.destination, { pending: r.pending, parked: r.parked, done: r.done, oldestPendingMs: r.oldest === null ? null : now - r.oldest, lastConfirmedAt: r.lastDone }]));
  }

  parked(destination: string, limit = 50): { id: number; ref: string; kind: string; study: string; attempts: number; reason: string | null; queuedAt: number; lastAttemptAt: number | null }[] {
    const rows = this.s.parked.all(destination, limit) as { id: number; ref: string; payload: string; attempts: number; lastError: string | null; createdAt: number; lastAttemptAt: number | null }[];
    return rows.map((r) => {
      const p = JSON.parse(r.payload) as UplinkPayload;
      return { id: r.id, ref: r.ref, kind: p.kind, study: p.study, attempts: r.attempts, reason: r.lastError, queuedAt: r.createdAt, lastAttemptAt: r.lastAttemptAt };
    });
  }
}
