import type { Analyzer } from '../analyzers/types.js';

/**
 * Analyzer plugins that misbehave on purpose, for the pipeline's tests of its time limit and of a
 * crashing worker (loaded in the workers through `analyzerModules`). Never registered by default.
 */

/** Loops forever: only terminating its thread stops it. Time limit 300 ms. */
export const loopingAnalyzer: Analyzer = {
  manifest: { id: 'test-loop', version: '1', description: 'loops forever (tests)', modalities: ['CT'], timeLimitMs: 300 },
  applies: () => ({ ok: true }),
  analyze() {
    for (;;) {
      // Busy: a JavaScript loop ignores everything but Worker.terminate().
    }
  },
};

/** Like loopingAnalyzer, with a limit long enough that a test can stop the pipeline while it runs. */
export const slowAnalyzer: Analyzer = {
  ...loopingAnalyzer,
  manifest: { ...loopingAnalyzer.manifest, id: 'test-slow', timeLimitMs: 600_000 },
};

/** Ends its worker thread (process.exit in a worker stops that thread only). */
export const crashingAnalyzer: Analyzer = {
  manifest: { id: 'test-crash', version: '1', description: 'ends its thread (tests)', modalities: ['CT'], timeLimitMs: 10_000 },
  applies: () => ({ ok: true }),
  analyze() {
    process.exit(3);
  },
};
