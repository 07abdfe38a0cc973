import type { Database } from 'better-sqlite3';
import { commitDurably } from './index-db.js';

/** How far the instance files and the index are known to agree (migration 4). */
export interface StoreMark {
  /** The node stopped cleanly: nothing to check at the next start. */
  cleanStop: boolean;
  /**
   * Ms since the epoch: every instance file renamed into place before this time has its index row
   * on stable storage. After a crash only directories changed since then need checking.
   */
  consistentBefore: number;
}

/**
 * The store's consistency mark in the index database. Each write is a commit with
 * synchronous=FULL, which fsyncs the write-ahead log and with it every earlier commit that
 * synchronous=NORMAL left in the page cache (SQLite WAL mode): the mark is never on disk ahead of
 * the index rows it vouches for.
 */
export class StoreMarks {
  private readonly select;
  private readonly upsert;

  constructor(private readonly db: Database) {
    this.select = db.prepare('SELECT clean_stop AS cleanStop, consistent_before AS consistentBefore FROM store_marks WHERE id = 1');
    this.upsert = db.prepare(
      `INSERT INTO store_marks (id, clean_stop, consistent_before, written_at) VALUES (1, @cleanStop, @consistentBefore, @writtenAt)
       ON CONFLICT(id) DO UPDATE SET clean_stop = excluded.clean_stop, consistent_before = excluded.consistent_before, written_at = excluded.written_at`,
    );
  }

  /** The last mark written; undefined for a store that never had one (new, or from before marks). */
  read(): StoreMark | undefined {
    const row = this.select.get() as { cleanStop: number; consistentBefore: number } | undefined;
    return row && { cleanStop: row.cleanStop === 1, consistentBefore: row.consistentBefore };
  }

  /** Writes the mark durably (one WAL fsync, about a millisecond). */
  write(mark: StoreMark, writtenAt = Date.now()): void {
    commitDurably(this.db, () => this.upsert.run({ cleanStop: mark.cleanStop ? 1 : 0, consistentBefore: Math.floor(mark.consistentBefore), writtenAt }));
  }
}
