import type { Db } from '../store/index-db.js';

/**
 * The durable outbox (house style 5): everything that must leave the node is written here in the
 * transaction that makes it due, then sent by a sender that claims it. Generic on purpose: alert
 * deliveries use kind 'alert-delivery' and destination = channel id; uploads to the cloud will use
 * kind 'uplink'. Times are ms since the epoch.
 */

export type OutboxState = 'pending' | 'done' | 'parked';

export interface OutboxItem {
  id: number;
  kind: string;
  destination: string;
  ref: string;
  /** JSON text; the sender parses it. */
  payload: string;
  priority: number;
  createdAt: number;
  dueAt: number;
  attempts: number;
  lastAttemptAt: number | null;
  lastError: string | null;
  state: OutboxState;
  doneAt: number | null;
}

export interface EnqueueRequest {
  kind: string;
  destination: string;
  ref: string;
  payload: string;
  /** Higher first; 0 routine. */
  priority?: number;
  /** Not before (default now). */
  dueAt?: number;
}

export interface OutboxDepth {
  kind: string;
  destination: string;
  pending: number;
  parked: number;
  /** Oldest pending item's age at `now`, ms (null when nothing is pending). */
  oldestPendingMs: number | null;
}

export interface OutboxOptions {
  /** First retry delay and the ceiling of the exponential backoff, ms. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** Uniform in [0, 1): the jitter source (a seeded generator in tests). */
  random?: () => number;
}

const COLUMNS = `id, kind, destination, ref, payload, priority, created_at AS createdAt, due_at AS dueAt, attempts,
  last_attempt_at AS lastAttemptAt, last_error AS lastError, state, done_at AS doneAt`;

export class Outbox {
  private readonly stmts;
  private readonly random: () => number;

  constructor(readonly db: Db, private readonly options: OutboxOptions) {
    this.random = options.random ?? Math.random;
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO outbox (kind, destination, ref, payload, priority, created_at, due_at)
         VALUES (@kind, @destination, @ref, @payload, @priority, @now, @dueAt)
         ON CONFLICT (kind, destination, ref) DO NOTHING`,
      ),
      findByRef: db.prepare(`SELECT id FROM outbox WHERE kind = ? AND destination = ? AND ref = ?`),
      next: db.prepare(
        `SELECT ${COLUMNS} FROM outbox
         WHERE state = 'pending' AND kind = @kind AND destination = @destination AND due_at <= @now
           AND (claimed_until IS NULL OR claimed_until <= @now)
         ORDER BY priority DESC, created_at, id LIMIT 1`,
      ),
      claim: db.prepare(`UPDATE outbox SET claimed_until = ?, attempts = attempts + 1, last_attempt_at = ? WHERE id = ?`),
      done: db.prepare(`UPDATE outbox SET state = 'done', done_at = ?, claimed_until = NULL, last_error = NULL WHERE id = ?`),
      reschedule: db.prepare(`UPDATE outbox SET due_at = ?, last_error = ?, claimed_until = NULL WHERE id = ? AND state = 'pending'`),
      park: db.prepare(`UPDATE outbox SET state = 'parked', last_error = ?, claimed_until = NULL WHERE id = ?`),
      get: db.prepare(`SELECT ${COLUMNS} FROM outbox WHERE id = ?`),
      nextDue: db.prepare(
        `SELECT min(max(due_at, coalesce(claimed_until, 0))) AS at FROM outbox WHERE state = 'pending' AND kind = ? AND destination = ?`,
      ),
      release: db.prepare(`UPDATE outbox SET claimed_until = NULL WHERE kind = ? AND destination = ? AND claimed_until IS NOT NULL`),
      depth: db.prepare(
        `SELECT kind, destination, sum(state = 'pending') AS pending, sum(state = 'parked') AS parked,
                min(CASE WHEN state = 'pending' THEN created_at END) AS oldest
         FROM outbox WHERE state != 'done' GROUP BY kind, destination ORDER BY kind, destination`,
      ),
    };
  }

  /**
   * Adds an item unless one with the same (kind, destination, ref) exists: enqueueing twice is
   * harmless. Call it inside the caller's transaction so that the item exists exactly when the
   * fact that makes it due does.
   */
  enqueue(req: EnqueueRequest, now: number): { id: number; created: boolean } {
    const info = this.stmts.insert.run({ ...req, priority: req.priority ?? 0, now, dueAt: req.dueAt ?? now });
    const row = this.stmts.findByRef.get(req.kind, req.destination, req.ref) as { id: number };
    return { id: row.id, created: info.changes === 1 };
  }

  /**
   * The next due item of `kind` for `destination` (highest priority, then oldest), held for
   * `leaseMs` so that no other sender takes it while it is in flight; counts the attempt. Null
   * when nothing is due.
   */
  claim(kind: string, destination: string, now: number, leaseMs: number): OutboxItem | null {
    return this.db.transaction(() => {
      const item = this.stmts.next.get({ kind, destination, now }) as OutboxItem | undefined;
      if (!item) return null;
      this.stmts.claim.run(now + leaseMs, now, item.id);
      return { ...item, attempts: item.attempts + 1, lastAttemptAt: now };
    })();
  }

  markDone(id: number, now: number): void {
    this.stmts.done.run(now, id);
  }

  /**
   * A failed attempt: due again after an exponential backoff with full jitter, drawn uniformly
   * between retryInitialMs and min(retryMaxMs, retryInitialMs * 2^(attempts - 1)). Returns the
   * new due time.
   */
  reschedule(id: number, error: string, now: number): number {
    const item = this.get(id);
    const attempts = Math.max(1, item?.attempts ?? 1);
    const { retryInitialMs: lo, retryMaxMs: max } = this.options;
    const hi = Math.min(max, lo * 2 ** Math.min(attempts - 1, 40));
    const dueAt = now + Math.round(lo + this.random() * Math.max(0, hi - lo));
    this.stmts.reschedule.run(dueAt, error, id);
    return dueAt;
  }

  /** A failure retrying cannot cure: kept with the reason, shown, never retried. */
  park(id: number, reason: string): void {
    this.stmts.park.run(reason, id);
  }

  get(id: number): OutboxItem | null {
    return (this.stmts.get.get(id) as OutboxItem | undefined) ?? null;
  }

  /** When the next pending item of `destination` is due (or its claim runs out); null when none. */
  nextDueAt(kind: string, destination: string): number | null {
    return (this.stmts.nextDue.get(kind, destination) as { at: number | null }).at;
  }

  /** After a restart nothing is in flight: every claim of `destination` is released. */
  releaseClaims(kind: string, destination: string): number {
    return this.stmts.release.run(kind, destination).changes;
  }

  /** Items, newest first, optionally of one destination and state. */
  list(filter: { kind?: string; destination?: string; state?: OutboxState; limit?: number } = {}): OutboxItem[] {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const [col, v] of [['kind', filter.kind], ['destination', filter.destination], ['state', filter.state]] as const) {
      if (v !== undefined) {
        where.push(`${col} = ?`);
        args.push(v);
      }
    }
    const sql = `SELECT ${COLUMNS} FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...args, filter.limit ?? 100) as OutboxItem[];
  }

  /** Pending and parked items per kind and destination. */
  depth(now: number): OutboxDepth[] {
    const rows = this.stmts.depth.all() as { kind: string; destination: string; pending: number; parked: number; oldest: number | null }[];
    return rows.map((r) => ({ kind: r.kind, destination: r.destination, pending: r.pending, parked: r.parked, oldestPendingMs: r.oldest === null ? null : now - r.oldest }));
  }
}
