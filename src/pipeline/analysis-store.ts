import type { Db } from '../store/index-db.js';
import type { AnalysisRecord, StoredResult } from './types.js';

export type NewAnalysis = Omit<AnalysisRecord, 'id' | 'supersedes'>;

/**
 * The analyses table (migration 2). Recording an analysis supersedes the current one of the same
 * series and analyzer (superseded_by), in one transaction: the latest analysis is the one the
 * worklist, the results and the alert follow. A failed run (time limit, crash) supersedes nothing:
 * a re-analysis that could not finish must not retract what an earlier one found.
 */
export class AnalysisStore {
  private readonly s;
  private readonly recordTx: (a: NewAnalysis) => AnalysisRecord;

  constructor(db: Db) {
    this.s = {
      current: db.prepare(
        `SELECT id FROM analyses WHERE series_uid = ? AND analyzer_id IS ? AND superseded_by IS NULL AND status != 'failed' ORDER BY id DESC LIMIT 1`,
      ),
      insert: db.prepare(
        `INSERT INTO analyses (series_uid, study_uid, analyzer_id, analyzer_version, status, reason, findings, midline_shift_mm,
                               instance_count, last_received_at, ready_at, ready_trigger, started_at, finished_at, elapsed_ms)
         VALUES (@seriesInstanceUid, @studyInstanceUid, @analyzerId, @analyzerVersion, @status, @reason, @findings, @midlineShiftMm,
                 @instanceCount, @lastReceivedAt, @readyAt, @readyTrigger, @startedAt, @finishedAt, @elapsedMs)`,
      ),
      supersede: db.prepare(
        `UPDATE analyses SET superseded_by = @id WHERE series_uid = @series AND analyzer_id IS @analyzer AND superseded_by IS NULL AND id != @id`,
      ),
      setResults: db.prepare(`UPDATE analyses SET results = ? WHERE id = ?`),
      get: db.prepare(`SELECT * FROM analyses WHERE id = ?`),
    };
    this.recordTx = db.transaction((a: NewAnalysis): AnalysisRecord => {
      const previous = a.status === 'failed' ? undefined : (this.s.current.pluck().get(a.seriesInstanceUid, a.analyzerId) as number | undefined);
      const id = Number(
        this.s.insert.run({
          ...a,
          reason: a.reason ?? null,
          findings: JSON.stringify(a.findings),
          midlineShiftMm: a.midlineShiftMm ?? null,
        }).lastInsertRowid,
      );
      if (previous !== undefined) this.s.supersede.run({ id, series: a.seriesInstanceUid, analyzer: a.analyzerId });
      return { ...a, id, ...(previous !== undefined ? { supersedes: previous } : {}) };
    });
  }

  /** Records a finished analysis and supersedes the current one of its series and analyzer. */
  record(a: NewAnalysis): AnalysisRecord {
    return this.recordTx(a);
  }

  /** The DICOM result objects stored for analysis `id`. */
  setResults(id: number, results: StoredResult[]): void {
    this.s.setResults.run(JSON.stringify(results), id);
  }

  /** The raw row, for status and tests. */
  get(id: number): Record<string, unknown> | undefined {
    return this.s.get.get(id) as Record<string, unknown> | undefined;
  }
}
