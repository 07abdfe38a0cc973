import type { Db } from '../store/index-db.js';
import type { ReadyTrigger, SeriesReady } from './types.js';

/** The states of a series in series_state (migration 2). */
export type SeriesState = 'receiving' | 'queued' | 'running' | 'done';

/** A series taken from the queue for analysis. */
export interface ClaimedSeries {
  seriesInstanceUid: string;
  studyInstanceUid: string;
  priority: number;
  priorityReason: string | null;
  readyAt: number | null;
  readyTrigger: ReadyTrigger | null;
  queuedAt: number | null;
  /** This run included (1 on the first). */
  attempts: number;
  startedAt: number;
}

/**
 * The persisted analysis queue: the series_state table (house style 5: work that must not be lost
 * is in SQLite before anyone relies on it). Highest priority first, then oldest ready. A series
 * judged ready again while it is being analysed stays `running` with the newer ready_at, and goes
 * back to `queued` when the run ends (ready_at later than analysis_started_at): analysed again.
 */
export class SeriesQueue {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      receiving: db.prepare(
        `INSERT INTO series_state (series_uid, study_uid, state, priority, priority_reason) VALUES (?, ?, 'receiving', ?, ?)
         ON CONFLICT (series_uid) DO UPDATE SET
           state = CASE WHEN state = 'running' THEN state ELSE 'receiving' END,
           priority_reason = CASE WHEN excluded.priority > priority THEN excluded.priority_reason ELSE priority_reason END,
           priority = max(priority, excluded.priority)`,
      ),
      ready: db.prepare(
        `INSERT INTO series_state (series_uid, study_uid, state, ready_at, ready_trigger, instances_at_ready, queued_at)
         VALUES (@seriesInstanceUid, @studyInstanceUid, 'queued', @readyAt, @trigger, @instances, @readyAt)
         ON CONFLICT (series_uid) DO UPDATE SET
           ready_at = excluded.ready_at, ready_trigger = excluded.ready_trigger, instances_at_ready = excluded.instances_at_ready,
           queued_at = CASE WHEN state = 'running' THEN queued_at ELSE excluded.queued_at END,
           attempts = CASE WHEN state = 'running' THEN attempts ELSE 0 END,
           state = CASE WHEN state = 'running' THEN 'running' ELSE 'queued' END
         RETURNING state`,
      ),
      next: db.prepare(`SELECT series_uid FROM series_state WHERE state = 'queued' ORDER BY priority DESC, queued_at LIMIT 1`),
      claim: db.prepare(
        `UPDATE series_state SET state = 'running', analysis_started_at = ?, attempts = attempts + 1 WHERE series_uid = ?
         RETURNING series_uid AS seriesInstanceUid, study_uid AS studyInstanceUid, priority, priority_reason AS priorityReason,
                   ready_at AS readyAt, ready_trigger AS readyTrigger, queued_at AS queuedAt, attempts, analysis_started_at AS startedAt`,
      ),
      finish: db.prepare(
        `UPDATE series_state SET analysis_finished_at = @now,
           state = CASE WHEN ready_at > analysis_started_at THEN 'queued' WHEN @receiving THEN 'receiving' ELSE 'done' END,
           queued_at = CASE WHEN ready_at > analysis_started_at THEN ready_at ELSE queued_at END,
           attempts = CASE WHEN ready_at > analysis_started_at THEN 0 ELSE attempts END
         WHERE series_uid = @series RETURNING state`,
      ),
      requeue: db.prepare(`UPDATE series_state SET state = 'queued' WHERE series_uid = ? AND state = 'running'`),
      recover: db.prepare(`UPDATE series_state SET state = 'queued' WHERE state IN ('queued', 'running')`),
      receivingRows: db.prepare(`SELECT series_uid AS seriesInstanceUid, study_uid AS studyInstanceUid FROM series_state WHERE state = 'receiving'`),
      counts: db.prepare(`SELECT state, count(*) AS n FROM series_state WHERE state != 'done' GROUP BY state`),
      get: db.prepare(`SELECT * FROM series_state WHERE series_uid = ?`),
    };
    this.claimTx = db.transaction((now: number): ClaimedSeries | undefined => {
      const uid = this.s.next.pluck().get() as string | undefined;
      return uid === undefined ? undefined : (this.s.claim.get(now, uid) as ClaimedSeries);
    });
  }

  private readonly claimTx: (now: number) => ClaimedSeries | undefined;

  /** The series is receiving instances (a running analysis stays running); priority only ever rises. */
  receiving(studyInstanceUid: string, seriesInstanceUid: string, priority: number, reason: string | null): void {
    this.s.receiving.run(seriesInstanceUid, studyInstanceUid, priority, reason);
  }

  /** Records the readiness; returns 'queued', or 'running' when an analysis is under way (it runs again after). */
  ready(r: SeriesReady): SeriesState {
    return this.s.ready.pluck().get(r) as SeriesState;
  }

  /** Takes the next series to analyse, or undefined when none is queued. */
  claim(now: number): ClaimedSeries | undefined {
    return this.claimTx(now);
  }

  /**
   * Ends a run: queued again when the series was judged ready during it, receiving when instances
   * are arriving (`receiving`), else done.
   */
  finish(seriesInstanceUid: string, now: number, receiving: boolean): SeriesState {
    return this.s.finish.pluck().get({ series: seriesInstanceUid, now, receiving: receiving ? 1 : 0 }) as SeriesState;
  }

  /** Puts a running series back in the queue (a worker crash to retry, a stop). */
  requeue(seriesInstanceUid: string): void {
    this.s.requeue.run(seriesInstanceUid);
  }

  /** At start: every queued or running series is queued again; returns the series left receiving. */
  recover(): { requeued: number; receiving: { studyInstanceUid: string; seriesInstanceUid: string }[] } {
    const requeued = this.s.recover.run().changes;
    return { requeued, receiving: this.s.receivingRows.all() as { studyInstanceUid: string; seriesInstanceUid: string }[] };
  }

  /** Series per state, leaving out done. */
  counts(): Record<Exclude<SeriesState, 'done'>, number> {
    const out = { receiving: 0, queued: 0, running: 0 };
    for (const row of this.s.counts.all() as { state: keyof typeof out; n: number }[]) out[row.state] = row.n;
    return out;
  }

  /** The raw row, for status and tests. */
  get(seriesInstanceUid: string): Record<string, unknown> | undefined {
    return this.s.get.get(seriesInstanceUid) as Record<string, unknown> | undefined;
  }
}
