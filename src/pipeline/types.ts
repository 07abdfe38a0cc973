import type { AnalysisStatus } from '../analyzers/types.js';
import type { ReportedFinding } from '../analyzers/offline.js';

/** What made the pipeline judge a series ready for analysis (DESIGN.md, "Knowing that a series is complete"). */
export type ReadyTrigger = 'association-released' | 'request-complete' | 'expected-count' | 'geometry' | 'quiet-timer' | 'restart';

/** A series judged ready: what the scheduler queues. */
export interface SeriesReady {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  trigger: ReadyTrigger;
  /** ms since the epoch. */
  readyAt: number;
  /** Instances in the series at that moment. */
  instances: number;
}

/** Kinds of result objects stored as DICOM in the study. */
export type ResultKind = 'sr' | 'seg' | 'key-image';

export interface StoredResult {
  kind: ResultKind;
  sopInstanceUid: string;
  sopClassUid: string;
  seriesInstanceUid: string;
}

/**
 * One finished analysis of one series by one analyzer, as stored in the `analyses` table and told
 * to the alert dispatcher. Times are ms since the epoch.
 */
export interface AnalysisRecord {
  id: number;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  analyzerId: string | null;
  analyzerVersion: string | null;
  status: AnalysisStatus;
  reason?: string;
  findings: ReportedFinding[];
  midlineShiftMm?: number;
  instanceCount: number;
  /** The last instance of the series received before the analysis started (time-to-alert starts here). */
  lastReceivedAt: number;
  readyAt: number | null;
  readyTrigger: ReadyTrigger | null;
  startedAt: number;
  finishedAt: number;
  elapsedMs: number;
  /** The earlier analysis of the same series and analyzer that this one supersedes. */
  supersedes?: number;
  /** Scheduling priority the series had (higher first). */
  priority: number;
}
