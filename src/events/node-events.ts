import { EventEmitter } from 'node:events';
import type { IngestContext, IngestOutcome } from '../ingest/types.js';
import type { AnalysisRecord, SeriesReady, StoredResult } from '../pipeline/types.js';
import type { RemovedStudy } from '../store/study-removal.js';

/** Events between parts of the node; each is a fact that already happened (and is already persisted). */
export interface NodeEventMap {
  'instance-stored': [outcome: IngestOutcome, ctx: IngestContext];
  'association-released': [info: { associationId: string; callingAe: string; instances: number }];
  /** A STOW-RS request ended with its parts stored: for the pipeline, like the release of an association. */
  'request-complete': [info: { requestId: string; instances: number }];
  /** The pipeline judged a series complete and queued it. */
  'series-ready': [ready: SeriesReady];
  /** An analysis was recorded (and supersedes an earlier one of the same series, if `supersedes`). */
  'analysis-started': [info: { studyInstanceUid: string; seriesInstanceUid: string; startedAt: number }];
  'analysis-finished': [analysis: AnalysisRecord];
  /** The SR, SEG and key image of an analysis were stored in its study. */
  'results-stored': [info: { analysisId: number; studyInstanceUid: string; results: StoredResult[] }];
  /** An alert was raised, updated, retracted, escalated, delivered on a channel or acknowledged. */
  'alert-changed': [info: { alertId: string; studyInstanceUid: string; change: 'raised' | 'updated' | 'retracted' | 'escalated' | 'delivered' | 'acknowledged'; channel?: string }];
  /** A study's files and index rows were removed (store/study-removal.ts): by retention or by a person. */
  'study-removed': [removed: RemovedStudy];
}

/** A typed event bus, passed as a dependency (house style 7). */
export class NodeEvents extends EventEmitter<NodeEventMap> {}
