import { createAnalyzerRegistry, loadAnalyzers, type AnalyzerLoader, type AnalyzerRegistry } from './registry.js';
import type { Analyzer } from './types.js';

/**
 * The analyzers medge ships with, as loaders: each is imported when the registry is built, so that
 * one that fails to load (a missing model file, a broken build) is reported as a registry entry with
 * its error, loudly, while the others still run.
 */
export const DEFAULT_ANALYZER_LOADERS: readonly AnalyzerLoader[] = [
  { id: 'ich', load: async () => (await import('./ich/index.js')).ichAnalyzer },
];

/** The shipped analyzers, loaded: [ichAnalyzer]. Throws when one cannot be loaded. */
export async function defaultAnalyzers(): Promise<Analyzer[]> {
  const { analyzers, loadFailures } = await loadAnalyzers([...DEFAULT_ANALYZER_LOADERS]);
  if (loadFailures.length > 0) throw new Error(loadFailures.map((f) => `${f.id}: ${f.error}`).join('; '));
  return analyzers;
}

/** A registry of the shipped analyzers; load failures become entries (never a silent skip). */
export async function createDefaultRegistry(options: { now?: () => number } = {}): Promise<AnalyzerRegistry> {
  const { analyzers, loadFailures } = await loadAnalyzers([...DEFAULT_ANALYZER_LOADERS]);
  return createAnalyzerRegistry(analyzers, { ...options, loadFailures });
}
