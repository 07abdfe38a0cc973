import type { Counter, Histogram, MetricsRegistry } from '../observability/metrics.js';

/** The pipeline's metrics (DESIGN.md, "The clock"): each stage's wait, in seconds. */
export interface PipelineMetrics {
  /** ready_at - last instance received, by trigger: what waiting for completeness cost. */
  readyWait: Histogram;
  /** analysis started - queued. */
  queueWait: Histogram;
  /** The analyzer's own run, by analyzer. */
  duration: Histogram;
  /** ready_at -> analysis recorded on the main thread (read, volume, analyzer, transfer), by analyzer. */
  readyToFinished: Histogram;
  /** Reading a series' files and building its volume in the worker. */
  volume: Histogram;
  /** Analyses recorded, by status. */
  analyses: Counter;
  /** Result objects of analyses, by outcome (stored | failed). */
  results: Counter;
}

export function createPipelineMetrics(metrics: MetricsRegistry, queueDepth: () => number): PipelineMetrics {
  metrics.gauge('medge_analysis_queue_depth', 'Series queued for analysis', (g) => g.set({}, queueDepth()));
  return {
    readyWait: metrics.histogram('medge_series_ready_wait_seconds', 'Time from the last instance of a series to it being judged ready, by trigger'),
    queueWait: metrics.histogram('medge_analysis_queue_wait_seconds', 'Time a ready series waited in the queue before its analysis started'),
    duration: metrics.histogram('medge_analysis_duration_seconds', 'Time an analyzer ran on one series'),
    readyToFinished: metrics.histogram('medge_analysis_ready_to_finished_seconds', 'Time from a series judged ready to its analysis recorded, by analyzer'),
    volume: metrics.histogram('medge_analysis_volume_seconds', 'Time a worker spent reading a series and building its volume'),
    analyses: metrics.counter('medge_analyses_total', 'Analyses recorded, by status'),
    results: metrics.counter('medge_analysis_results_total', 'Result objects (SR, SEG, key image) of analyses, by outcome'),
  };
}
