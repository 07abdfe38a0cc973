import type { Statement } from 'better-sqlite3';
import { MedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import type { Db } from './index-db.js';
import type { RemovalReason, RemovedStudy, StudyRemover } from './study-removal.js';

/** The store's retention keys (store.* in the configuration). */
export interface RetentionConfig {
  /** Remove studies whose last instance arrived more than this many days ago; 0: keep them. */
  retentionDays: number;
  /** When free space falls below this many bytes, remove the oldest studies until it is back above; 0: never. */
  reclaimBelowFreeBytes: number;
  /** Never remove a study (by either rule) whose last instance arrived less than this many hours ago. */
  retentionMinHours: number;
}

/** How often the rules are applied, ms: 30 s of the fastest ingest measured (about 230 MB/s) is 7 GB. */
export const RETENTION_INTERVAL_MS = 30_000;
/**
 * The age rule removes for at most this long per pass, ms, then goes on at the next: turning it on
 * over a year of studies must not keep the disk busy deleting for minutes while scanners send
 * (a 200-slice study takes 55 to 70 ms). The free-space rule has no such bound.
 */
const AGE_PASS_BUDGET_MS = 10_000;
/** Candidates read per query, oldest first. */
const PAGE = 100;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface RetentionStatus {
  enabled: boolean;
  retentionDays: number;
  reclaimBelowFreeBytes: number;
  retentionMinHours: number;
  /** When the rules last ran to the end, ms since the epoch; null before the first run. */
  lastRunAt: number | null;
  /** Studies removed in the last 24 hours (by retention or by a person) and their bytes. */
  removedLastDay: { studies: number; bytes: number };
  /** Studies the last run would have removed but could not: held (study-removal.ts), or failed. */
  held: number;
  /** Free space was below reclaimBelowFreeBytes after the last run: nothing more could be removed. */
  reclaimShort: boolean;
  lastError: string | null;
}

/**
 * Applies the store's retention (off by default: a node that is the only copy of a study must not
 * lose it by surprise). Studies older than `retentionDays` are removed, and when free space falls
 * below `reclaimBelowFreeBytes` the oldest are removed until it is back above, so that the node
 * goes on receiving instead of refusing new studies at store.minFreeBytes. Both rules spare studies
 * younger than `retentionMinHours` and studies something still holds (study-removal.ts).
 */
export class Retention {
  private readonly oldest: Statement;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastRunAt: number | null = null;
  private held = 0;
  private reclaimShort = false;
  private lastError: string | null = null;

  constructor(
    private readonly deps: {
      db: Db;
      remover: StudyRemover;
      freeBytes: () => number;
      config: RetentionConfig;
      log: Logger;
      now?: () => number;
    },
  ) {
    this.oldest = deps.db.prepare(
      `SELECT study_uid AS studyUid, last_received_at AS lastReceivedAt FROM studies
       WHERE last_received_at < @before AND (last_received_at > @after OR (last_received_at = @after AND study_uid > @afterUid))
       ORDER BY last_received_at, study_uid LIMIT ${PAGE}`,
    );
  }

  get enabled(): boolean {
    return this.deps.config.retentionDays > 0 || this.deps.config.reclaimBelowFreeBytes > 0;
  }

  /** Applies the rules now and every RETENTION_INTERVAL_MS (nothing when both rules are off). */
  start(): void {
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => void this.run(), RETENTION_INTERVAL_MS).unref();
    void this.run();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass of both rules; a pass already running is joined, not doubled. */
  run(): Promise<void> {
    this.running ??= this.pass()
      .catch((err: unknown) => {
        this.lastError = (err as Error).message;
        this.deps.log.error({ event: 'retention-failed', err }, 'store retention failed; it runs again at the next interval');
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  status(): RetentionStatus {
    const { retentionDays, reclaimBelowFreeBytes, retentionMinHours } = this.deps.config;
    return {
      enabled: this.enabled,
      retentionDays,
      reclaimBelowFreeBytes,
      retentionMinHours,
      lastRunAt: this.lastRunAt,
      removedLastDay: this.deps.remover.removedSince(this.now() - DAY_MS),
      held: this.held,
      reclaimShort: this.reclaimShort,
      lastError: this.lastError,
    };
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  private async pass(): Promise<void> {
    const { retentionDays, reclaimBelowFreeBytes, retentionMinHours } = this.deps.config;
    const now = this.now();
    const youngest = now - retentionMinHours * HOUR_MS;
    let held = 0;
    if (retentionDays > 0) {
      const before = Math.min(youngest, now - retentionDays * DAY_MS);
      const until = performance.now() + AGE_PASS_BUDGET_MS;
      held += await this.removeOldest(before, 'retention-age', () => performance.now() < until);
    }
    this.reclaimShort = false;
    if (reclaimBelowFreeBytes > 0) {
      const free = this.deps.freeBytes();
      if (free < reclaimBelowFreeBytes) {
        // Counted by what was removed, not by statfs: freed blocks may show a little later.
        let freed = 0;
        held += await this.removeOldest(youngest, 'retention-disk', (removed) => {
          freed += removed.bytes;
          return free + freed < reclaimBelowFreeBytes;
        });
        this.reclaimShort = free + freed < reclaimBelowFreeBytes;
        if (this.reclaimShort) {
          this.deps.log.warn(
            { event: 'retention-short', freeBytes: free + freed, reclaimBelowFreeBytes, held },
            'free space stays below store.reclaimBelowFreeBytes: no more studies can be removed (the rest are younger than store.retentionMinHours or held)',
          );
        }
      }
    }
    this.held = held;
    this.lastRunAt = this.now();
  }

  /**
   * Removes studies last received before `before`, oldest first, while `more` (asked after each
   * removal) says so. Returns how many were skipped because something holds them.
   */
  private async removeOldest(before: number, reason: RemovalReason, more: (removed: RemovedStudy) => boolean): Promise<number> {
    let held = 0;
    let after = -1;
    let afterUid = '';
    for (;;) {
      const page = this.oldest.all({ before, after, afterUid }) as { studyUid: string; lastReceivedAt: number }[];
      if (page.length === 0) return held;
      for (const { studyUid, lastReceivedAt } of page) {
        after = lastReceivedAt;
        afterUid = studyUid;
        let removed: RemovedStudy;
        try {
          removed = await this.deps.remover.remove(studyUid, reason, null, before);
        } catch (err) {
          const code = err instanceof MedgeError ? err.code : undefined;
          if (code === 'MEDGE_ERR_STORE_STUDY_HELD') held++;
          else if (code !== 'MEDGE_ERR_STORE_NOT_FOUND') throw err;
          continue;
        }
        if (!more(removed)) return held;
      }
    }
  }
}
