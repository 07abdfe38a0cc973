import type { Statement } from 'better-sqlite3';
import { MedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import type { BlobStore } from './blob-store.js';
import { commitDurably, type Db, type InstanceIndex } from './index-db.js';

/** Why a study was removed: retention by age, retention to free disk space, or a person. */
export type RemovalReason = 'retention-age' | 'retention-disk' | 'operator';

export interface RemovedStudy {
  studyInstanceUid: string;
  reason: RemovalReason;
  requestedBy: string | null;
  /** ms since the epoch */
  removedAt: number;
  instances: number;
  bytes: number;
}

/** A study_removals row as a RemovedStudy. */
const REMOVAL_COLUMNS = 'study_uid AS studyInstanceUid, reason, requested_by AS requestedBy, started_at AS removedAt, instances, bytes';

/**
 * Removes whole studies from the store (migration 5): the index rows and the instance files, never
 * one without the other. In one durable commit the study's patient, study, series and instance
 * rows go and a removal record lists the files still to delete; the files are deleted after it
 * (their directories synced), then the record is closed. A crash in between leaves the record open,
 * and the next start finishes it (`resume`) before the start-up check could re-index the files.
 *
 * A study is held (not removed) while something still needs its files or its attention: a series
 * not yet analysed (the pipeline), an uplink item not yet sent or parked for a person to look at,
 * an alert nobody acknowledged. The analyses, alerts and outbox rows stay as the record of what the
 * node found and sent (the outbox rows also keep a re-sent study from being uploaded twice).
 */
export class StudyRemover {
  private readonly stmts: Record<string, Statement>;

  constructor(
    private readonly deps: {
      db: Db;
      index: InstanceIndex;
      store: BlobStore;
      log: Logger;
      /** Told of each study removed (metrics, the dashboard's event stream). */
      onRemoved?: (removed: RemovedStudy) => void;
      now?: () => number;
    },
  ) {
    const db = deps.db;
    this.stmts = {
      study: db.prepare('SELECT patient_pk AS patientPk, last_received_at AS lastReceivedAt FROM studies WHERE study_uid = ?'),
      analysing: db.prepare(`SELECT count(*) FROM series_state WHERE study_uid = ? AND state != 'done'`),
      unacknowledged: db.prepare(`SELECT count(*) FROM alerts WHERE study_uid = ? AND state = 'active' AND acknowledged_at IS NULL`),
      // json_extract over the pending and parked items only (outbox_due leads with state).
      unsent: db.prepare(
        `SELECT count(*) FROM outbox WHERE state IN ('pending', 'parked') AND kind = 'uplink' AND json_extract(payload, '$.study') = ?`,
      ),
      files: db.prepare(
        `SELECT i.blob_key AS blobKey, i.size, i.series_uid AS seriesUid FROM series se JOIN instances i ON i.series_uid = se.series_uid WHERE se.study_uid = ?`,
      ),
      insertRemoval: db.prepare(
        `INSERT INTO study_removals (study_uid, reason, requested_by, started_at, instances, bytes) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      insertFile: db.prepare('INSERT OR IGNORE INTO removal_files (removal_id, blob_key) VALUES (?, ?)'),
      deleteInstances: db.prepare('DELETE FROM instances WHERE series_uid IN (SELECT series_uid FROM series WHERE study_uid = ?)'),
      deleteSeriesState: db.prepare('DELETE FROM series_state WHERE study_uid = ?'),
      deleteSeries: db.prepare('DELETE FROM series WHERE study_uid = ?'),
      deleteStudy: db.prepare('DELETE FROM studies WHERE study_uid = ?'),
      deleteLonePatient: db.prepare('DELETE FROM patients WHERE pk = ? AND NOT EXISTS (SELECT 1 FROM studies WHERE patient_pk = ?)'),
      open: db.prepare('SELECT id, study_uid AS studyUid FROM study_removals WHERE finished_at IS NULL ORDER BY id'),
      filesOf: db.prepare('SELECT blob_key FROM removal_files WHERE removal_id = ?'),
      finish: db.prepare('UPDATE study_removals SET finished_at = ? WHERE id = ?'),
      dropFiles: db.prepare('DELETE FROM removal_files WHERE removal_id = ?'),
      last: db.prepare(`SELECT ${REMOVAL_COLUMNS} FROM study_removals WHERE study_uid = ? ORDER BY id DESC LIMIT 1`),
      since: db.prepare('SELECT count(*) AS studies, coalesce(sum(bytes), 0) AS bytes FROM study_removals WHERE started_at >= ?'),
      recent: db.prepare(`SELECT ${REMOVAL_COLUMNS} FROM study_removals ORDER BY id DESC LIMIT ?`),
    };
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** What keeps the study from being removed now, in words; empty when nothing does. */
  holds(studyUid: string): string[] {
    const count = (name: string) => this.stmts[name]!.pluck().get(studyUid) as number;
    const holds: string[] = [];
    const analysing = count('analysing');
    if (analysing > 0) holds.push(`${analysing} series not yet analysed`);
    const unsent = count('unsent');
    if (unsent > 0) holds.push(`${unsent} uplink item(s) not yet sent (pending or parked)`);
    const alerts = count('unacknowledged');
    if (alerts > 0) holds.push(`${alerts} alert(s) not acknowledged`);
    return holds;
  }

  /**
   * Removes the study. Throws MEDGE_ERR_STORE_NOT_FOUND for an unknown study and
   * MEDGE_ERR_STORE_STUDY_HELD when something holds it (the message says what), or when an
   * instance of it arrived at or after `receivedBefore` (retention chose it as older than that).
   */
  async remove(studyUid: string, reason: RemovalReason, requestedBy: string | null = null, receivedBefore = Infinity): Promise<RemovedStudy> {
    const removedAt = this.now();
    const { db, index } = this.deps;
    // Committed durably: the record of the files to delete is on disk before any of them is deleted.
    const removal = commitDurably(db, () => {
      const study = this.stmts.study!.get(studyUid) as { patientPk: number; lastReceivedAt: number } | undefined;
      if (!study) return undefined;
      const holds = this.holds(studyUid);
      if (study.lastReceivedAt >= receivedBefore) holds.push('an instance of it arrived since it was chosen');
      if (holds.length > 0) throw new MedgeError('MEDGE_ERR_STORE_STUDY_HELD', `study ${studyUid} is not removed: ${holds.join('; ')}`, { studyInstanceUid: studyUid, holds });
      const files = this.stmts.files!.all(studyUid) as { blobKey: string; size: number; seriesUid: string }[];
      const bytes = files.reduce((sum, f) => sum + f.size, 0);
      const id = Number(this.stmts.insertRemoval!.run(studyUid, reason, requestedBy, removedAt, files.length, bytes).lastInsertRowid);
      for (const f of files) this.stmts.insertFile!.run(id, f.blobKey);
      this.stmts.deleteInstances!.run(studyUid);
      this.stmts.deleteSeriesState!.run(studyUid);
      this.stmts.deleteSeries!.run(studyUid);
      this.stmts.deleteStudy!.run(studyUid);
      this.stmts.deleteLonePatient!.run(study.patientPk, study.patientPk);
      return { id, keys: files.map((f) => f.blobKey), series: new Set(files.map((f) => f.seriesUid)), bytes };
    });
    if (!removal) throw new MedgeError('MEDGE_ERR_STORE_NOT_FOUND', `no study ${studyUid} in the store`, { studyInstanceUid: studyUid });
    // The next instance of these series writes its study and series rows again.
    for (const s of removal.series) index.forgetSeries(s);
    await this.deleteFiles(removal.id, removal.keys);
    const removed: RemovedStudy = { studyInstanceUid: studyUid, reason, requestedBy, removedAt, instances: removal.keys.length, bytes: removal.bytes };
    this.deps.log.info({ event: 'study-removed', studyInstanceUid: studyUid, reason, requestedBy, instances: removed.instances, bytes: removed.bytes }, 'study removed from the store');
    this.deps.onRemoved?.(removed);
    return removed;
  }

  /** Finishes removals a crash interrupted (call at start, before the store is checked against the index). */
  async resume(): Promise<number> {
    const open = this.stmts.open!.all() as { id: number; studyUid: string }[];
    for (const r of open) {
      const keys = this.stmts.filesOf!.pluck().all(r.id) as string[];
      await this.deleteFiles(r.id, keys);
      this.deps.log.info({ event: 'study-removal-resumed', studyInstanceUid: r.studyUid, files: keys.length }, 'finished removing a study after a restart');
    }
    return open.length;
  }

  /** The last removal of a study, if it was ever removed (a study received again since is in the index too). */
  lastRemoval(studyUid: string): RemovedStudy | undefined {
    return this.stmts.last!.get(studyUid) as RemovedStudy | undefined;
  }

  /** The last `limit` removals, newest first (the record of what left the store, and why). */
  recent(limit: number): RemovedStudy[] {
    return this.stmts.recent!.all(limit) as RemovedStudy[];
  }

  /** Studies removed since `since` (ms since the epoch), and their bytes. */
  removedSince(since: number): { studies: number; bytes: number } {
    return this.stmts.since!.get(since) as { studies: number; bytes: number };
  }

  private async deleteFiles(id: number, keys: string[]): Promise<void> {
    await this.deps.store.removeAll(keys);
    this.deps.db.transaction(() => {
      this.stmts.finish!.run(this.now(), id);
      this.stmts.dropFiles!.run(id);
    })();
  }
}
