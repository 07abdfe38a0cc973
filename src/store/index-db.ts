import Database from 'better-sqlite3';
import { rename, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MedgeError } from '../errors.js';
import { MIGRATIONS } from './migrations.js';
import type { InstanceRecord } from './instance-record.js';

export type Db = Database.Database;

/**
 * Opens the SQLite index in WAL mode and applies pending migrations. synchronous=NORMAL: a commit
 * survives a crash of the process (SIGKILL) at once, and a power loss once the WAL is next
 * synced. The instance files are the source of truth: each is fsync'd before it is
 * acknowledged, and start-up re-indexes any file the index lost (ingest/recover.ts). FULL would add a
 * WAL fsync per instance on the event loop: about 1 ms, a third of the time per instance (measured).
 */
export function openIndexDb(file: string): Db {
  let db: Db | undefined;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    const code = (err as { code?: string }).code ?? '';
    // SQLite's result codes for a file that is not (or no longer) a database.
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
      throw new MedgeError(
        'MEDGE_ERR_STORE_INDEX_DAMAGED',
        `the index ${file} is damaged (${(err as Error).message}); the instance files are not affected: ` +
          'medge start --rebuild-index moves it aside and indexes every file again (analyses, alerts, upload, removal and ' +
          'de-identification records are only in the index: restore it from a backup instead to keep them)',
        { file, sqlite: code },
        err,
      );
    }
    throw new MedgeError('MEDGE_ERR_STORE_IO', `cannot open the index ${file}: ${(err as Error).message}`, { file, sqlite: code }, err);
  }
}

/**
 * Moves a damaged index (and its WAL and shared-memory files) aside to `<file>.damaged-<time>`, so
 * that the next open starts a new one, which the start-up check fills from the instance files.
 * Returns the new name of the index file, or undefined when there was none.
 */
export async function moveIndexAside(file: string, at = new Date()): Promise<string | undefined> {
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  const names = new Set(await readdir(dirname(file)));
  let moved: string | undefined;
  for (const suffix of ['', '-wal', '-shm']) {
    if (!names.has(basename(file) + suffix)) continue;
    const to = join(dirname(file), `${basename(file)}.damaged-${stamp}${suffix}`);
    await rename(file + suffix, to);
    if (suffix === '') moved = to;
  }
  return moved;
}

/**
 * Runs `fn` in an immediate transaction committed with synchronous=FULL: when it returns, that
 * commit is on disk, and with it every earlier commit synchronous=NORMAL left in the page cache
 * (SQLite WAL: the fsync covers the whole log).
 */
export function commitDurably<T>(db: Db, fn: () => T): T {
  db.pragma('synchronous = FULL');
  try {
    return db.transaction(fn).immediate();
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

export type RecordOutcome =
  | { kind: 'inserted' }
  | { kind: 'replaced'; previousBlobKey: string };

/** What a lookup by SOP Instance UID returns: where the file is and what it is. */
export type StoredInstance = Pick<
  InstanceRecord,
  | 'sopInstanceUid' | 'sopClassUid' | 'seriesInstanceUid' | 'studyInstanceUid' | 'transferSyntaxUid'
  | 'blobKey' | 'size' | 'datasetOffset' | 'receivedAt' | 'instanceNumber'
>;

/** The index: every stored instance with its patient, study and series rows. */
export class InstanceIndex {
  private readonly stmts;
  /**
   * Series whose patient, study and series rows were last upserted with these attribute values
   * (a signature), so that the next instances of the series only move last_received_at instead
   * of repeating three upserts (most of record()'s time). Rows are never deleted today; a
   * deletion of series or studies must call forgetSeries.
   */
  private readonly upserted = new Map<string, string>();

  constructor(readonly db: Db) {
    this.stmts = {
      findInstance: db.prepare(
        `SELECT i.sop_uid AS sopInstanceUid, i.sop_class_uid AS sopClassUid, i.series_uid AS seriesInstanceUid,
                se.study_uid AS studyInstanceUid, i.transfer_syntax_uid AS transferSyntaxUid, i.blob_key AS blobKey,
                i.size, i.dataset_offset AS datasetOffset, i.received_at AS receivedAt,
                i.instance_number AS instanceNumber
         FROM instances i JOIN series se ON se.series_uid = i.series_uid WHERE i.sop_uid = ?`,
      ),
      upsertPatient: db.prepare(
        `INSERT INTO patients (patient_id, issuer, patient_name, birth_date, sex) VALUES (@patientId, @issuer, @patientName, @birthDate, @sex)
         ON CONFLICT (patient_id, issuer) DO UPDATE SET
           patient_name = coalesce(excluded.patient_name, patient_name),
           birth_date = coalesce(excluded.birth_date, birth_date), sex = coalesce(excluded.sex, sex)
         RETURNING pk`,
      ),
      upsertStudy: db.prepare(
        `INSERT INTO studies (study_uid, patient_pk, study_date, study_time, accession_number, study_id, description,
                              referring_physician, first_received_at, last_received_at)
         VALUES (@studyInstanceUid, @patientPk, @studyDate, @studyTime, @accessionNumber, @studyId, @studyDescription,
                 @referringPhysicianName, @receivedAt, @receivedAt)
         ON CONFLICT (study_uid) DO UPDATE SET last_received_at = max(last_received_at, excluded.last_received_at),
           study_date = coalesce(study_date, excluded.study_date), study_time = coalesce(study_time, excluded.study_time),
           accession_number = coalesce(accession_number, excluded.accession_number),
           description = coalesce(description, excluded.description)`,
      ),
      upsertSeries: db.prepare(
        `INSERT INTO series (series_uid, study_uid, modality, series_number, description, body_part, series_date,
                             first_received_at, last_received_at)
         VALUES (@seriesInstanceUid, @studyInstanceUid, @modality, @seriesNumber, @seriesDescription, @bodyPartExamined,
                 @seriesDate, @receivedAt, @receivedAt)
         ON CONFLICT (series_uid) DO UPDATE SET last_received_at = max(last_received_at, excluded.last_received_at)`,
      ),
      upsertInstance: db.prepare(
        `INSERT INTO instances (sop_uid, series_uid, sop_class_uid, instance_number, transfer_syntax_uid, rows, columns,
                                number_of_frames, image_position, image_orientation, blob_key, size, dataset_offset,
                                received_at, protocol, calling_ae, association_id, remote_address)
         VALUES (@sopInstanceUid, @seriesInstanceUid, @sopClassUid, @instanceNumber, @transferSyntaxUid, @rows, @columns,
                 @numberOfFrames, @imagePosition, @imageOrientation, @blobKey, @size, @datasetOffset,
                 @receivedAt, @protocol, @callingAe, @associationId, @remoteAddress)
         ON CONFLICT (sop_uid) DO UPDATE SET series_uid = excluded.series_uid, sop_class_uid = excluded.sop_class_uid,
           instance_number = excluded.instance_number, transfer_syntax_uid = excluded.transfer_syntax_uid,
           rows = excluded.rows, columns = excluded.columns, number_of_frames = excluded.number_of_frames,
           image_position = excluded.image_position, image_orientation = excluded.image_orientation,
           blob_key = excluded.blob_key, size = excluded.size,
           dataset_offset = excluded.dataset_offset, received_at = excluded.received_at, protocol = excluded.protocol,
           calling_ae = excluded.calling_ae, association_id = excluded.association_id,
           remote_address = excluded.remote_address`,
      ),
      touchStudy: db.prepare(`UPDATE studies SET last_received_at = max(last_received_at, ?) WHERE study_uid = ?`),
      touchSeries: db.prepare(`UPDATE series SET last_received_at = max(last_received_at, ?) WHERE series_uid = ?`),
      instancesOfSeries: db.prepare(`SELECT sop_uid FROM instances WHERE series_uid = ? ORDER BY CAST(instance_number AS INTEGER), sop_uid`),
      instancesOfStudy: db.prepare(
        `SELECT i.sop_uid FROM instances i JOIN series se ON se.series_uid = i.series_uid WHERE se.study_uid = ?
         ORDER BY se.series_uid, CAST(i.instance_number AS INTEGER), i.sop_uid`,
      ),
      blobsPage: db.prepare(`SELECT blob_key AS blobKey, sop_uid AS sopInstanceUid, size FROM instances WHERE sop_uid > ? ORDER BY sop_uid LIMIT ?`),
      blobsReceivedSince: db.prepare(
        `SELECT i.blob_key AS blobKey, i.sop_uid AS sopInstanceUid, i.size FROM series se
         JOIN instances i ON i.series_uid = se.series_uid WHERE se.last_received_at >= @since AND i.received_at >= @since`,
      ),
      deleteInstance: db.prepare(`DELETE FROM instances WHERE sop_uid = ?`),
      counts: db.prepare(
        `SELECT (SELECT count(*) FROM studies) AS studies, (SELECT count(*) FROM series) AS series,
                (SELECT count(*) FROM instances) AS instances`,
      ),
    };
  }

  getInstance(sopInstanceUid: string): StoredInstance | undefined {
    return this.stmts.findInstance.get(sopInstanceUid) as StoredInstance | undefined;
  }

  /**
   * Records one instance and its patient, study and series in one transaction. A row with the same
   * SOP Instance UID is replaced ('replaced': the caller then deletes the previous blob); the
   * caller has already ruled out an identical re-send.
   */
  record(rec: InstanceRecord): RecordOutcome {
    const signature = parentSignature(rec);
    const known = this.upserted.get(rec.seriesInstanceUid) === signature;
    const outcome = this.db.transaction((): RecordOutcome => {
      const existing = this.getInstance(rec.sopInstanceUid);
      if (known) {
        // The same values were upserted before: re-applying them changes nothing but the time.
        this.stmts.touchStudy.run(rec.receivedAt, rec.studyInstanceUid);
        this.stmts.touchSeries.run(rec.receivedAt, rec.seriesInstanceUid);
      } else {
        const { pk } = this.stmts.upsertPatient.get({
          patientId: rec.patientId ?? '',
          issuer: rec.issuerOfPatientId ?? '',
          patientName: rec.patientName,
          birthDate: rec.patientBirthDate,
          sex: rec.patientSex,
        }) as { pk: number };
        this.stmts.upsertStudy.run({ ...rec, patientPk: pk });
        this.stmts.upsertSeries.run(rec);
      }
      this.stmts.upsertInstance.run(rec);
      return existing ? { kind: 'replaced', previousBlobKey: existing.blobKey } : { kind: 'inserted' };
    }).immediate();
    if (!known) {
      if (this.upserted.size >= UPSERTED_SERIES) this.upserted.delete(this.upserted.keys().next().value!);
      this.upserted.set(rec.seriesInstanceUid, signature);
    }
    return outcome;
  }

  /** Drops what record() remembers of a series (call when its rows are deleted). */
  forgetSeries(seriesInstanceUid: string): void {
    this.upserted.delete(seriesInstanceUid);
  }

  /** SOP Instance UIDs of a series, by instance number. */
  instancesOfSeries(seriesInstanceUid: string): string[] {
    return this.stmts.instancesOfSeries.pluck().all(seriesInstanceUid) as string[];
  }

  instancesOfStudy(studyInstanceUid: string): string[] {
    return this.stmts.instancesOfStudy.pluck().all(studyInstanceUid) as string[];
  }

  /** Instances by SOP Instance UID after `afterSop` (exclusive), at most `limit`: every row, a page at a time. */
  blobsPage(afterSop: string, limit: number): BlobRow[] {
    return this.stmts.blobsPage.all(afterSop, limit) as BlobRow[];
  }

  /** Instances received at or after `since` (ms since the epoch). */
  blobsReceivedSince(since: number): BlobRow[] {
    return this.stmts.blobsReceivedSince.all({ since }) as BlobRow[];
  }

  deleteInstance(sopInstanceUid: string): void {
    this.stmts.deleteInstance.run(sopInstanceUid);
  }

  counts(): { studies: number; series: number; instances: number } {
    return this.stmts.counts.get() as { studies: number; series: number; instances: number };
  }

  close(): void {
    this.db.close();
  }
}

/** Where an instance's file is and how large it must be. */
export interface BlobRow {
  blobKey: string;
  sopInstanceUid: string;
  size: number;
}

/** Series remembered by record() (a few series arriving at once, with room to spare). */
const UPSERTED_SERIES = 256;

/** The attributes record() writes to the patient, study and series rows, as one string. */
function parentSignature(r: InstanceRecord): string {
  return [
    r.patientId, r.issuerOfPatientId, r.patientName, r.patientBirthDate, r.patientSex,
    r.studyInstanceUid, r.studyDate, r.studyTime, r.accessionNumber, r.studyId, r.studyDescription, r.referringPhysicianName,
    r.seriesInstanceUid, r.modality, r.seriesNumber, r.seriesDescription, r.bodyPartExamined, r.seriesDate,
  ].map((v) => (v === null || v === undefined ? '\u0001' : v)).join('\u0000');
}
