import type { AnalysisRecord, ResultKind } from './types.js';

/** Messages between the pipeline (main thread) and an analysis worker (analysis-worker.ts). */

/** A plugin module to load in the workers instead of the shipped analyzers (tests, integrators). */
export interface AnalyzerModule {
  /** file: URL or absolute path of an ES module. */
  url: string;
  /** The export holding the Analyzer; default 'default'. */
  exportName?: string;
}

export interface WorkerInit {
  /** Undefined: the shipped analyzers (src/analyzers/default-analyzers.ts). */
  analyzerModules?: AnalyzerModule[];
  /** Written into the result objects (Software Versions). */
  softwareVersion: string;
  /** Run the analysis once on a small phantom after start (worker-warm-up.ts): for the shipped analyzers. */
  warmUp: boolean;
  /** Nice value for the worker thread (0 leaves it; 1..19 lets ingest on the main thread win the CPU). */
  nice: number;
  /**
   * Linux SCHED_IDLE for the worker thread (set with util-linux's chrt): it runs only on CPU time no
   * normal thread wants, and a waking ingest thread preempts it at once. Falls back to `nice`.
   */
  schedIdle: boolean;
}

export interface AnalyzerInfo {
  id: string;
  version: string;
  modalities: string[];
  timeLimitMs: number;
}

/** One instance of the series: the file to read, or its bytes when the store keeps no files. */
export interface JobInstance {
  sopInstanceUid: string;
  path?: string;
  bytes?: Uint8Array;
}

export interface JobRequest {
  type: 'job';
  jobId: number;
  seriesInstanceUid: string;
  instances: JobInstance[];
  /** Analyzers not to run (already done in an earlier try of this job). */
  skip: string[];
  /** ms since the epoch, the results' creation time. */
  now: number;
}

/** What a worker is doing now, and how long it may take (the main thread's watchdog). */
export interface PhaseMessage {
  type: 'phase';
  jobId: number;
  phase: 'volume' | 'analyze' | 'results';
  analyzerId?: string;
  limitMs: number;
}

/** One analyzer's outcome, as the analysis record keeps it (types.ts). */
export interface AnalysisMessage extends Pick<AnalysisRecord, 'analyzerId' | 'analyzerVersion' | 'status' | 'reason' | 'findings' | 'midlineShiftMm'> {
  type: 'analysis';
  jobId: number;
  /** The analyzer's own run, ms (0 when it did not run). */
  elapsedMs: number;
}

export interface ResultsMessage {
  type: 'results';
  jobId: number;
  analyzerId: string;
  /** Part 10 files, their buffers transferred. */
  objects: { kind: ResultKind; bytes: Uint8Array }[];
}

export interface ResultsFailedMessage {
  type: 'results-failed';
  jobId: number;
  analyzerId: string;
  code: string;
  message: string;
}

export interface DoneMessage {
  type: 'done';
  jobId: number;
  /** Where the time went, ms. */
  timings: { readMs: number; volumeMs: number; slices: number };
}

export type WorkerMessage =
  | { type: 'ready'; analyzers: AnalyzerInfo[]; loadFailures: { id: string; error: string }[]; nice: number | null; schedIdle: boolean }
  | { type: 'warm'; ms: number }
  | PhaseMessage
  | AnalysisMessage
  | ResultsMessage
  | ResultsFailedMessage
  | DoneMessage;
