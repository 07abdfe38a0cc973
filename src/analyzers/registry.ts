import type { Volume } from '../imaging/volume.js';
import type { AnalysisResult, Analyzer, AnalyzerManifest } from './types.js';

/**
 * The analyzer registry: analyzers are plugins described by data (house style 9), a manifest and
 * one function. The registry decides which analyzers apply to a volume (the manifest's modalities,
 * then the analyzer's own `applies`), runs one, turns an exception into `status: 'failed'` with the
 * reason, and holds every analyzer to its manifest's time limit.
 *
 * The time limit is enforced as far as one thread can: the analysis runs to its end, and when it took
 * longer than `timeLimitMs` its result is discarded and the run is `failed` with the measured time as
 * the reason (a late answer must not raise a late alert as if it were on time). True preemption needs
 * the analysis in a worker thread that can be terminated; that comes with the pipeline's worker pool.
 */

/** A plugin to load: its id (for the report when loading fails) and how to load it. */
export interface AnalyzerLoader {
  id: string;
  load: () => Promise<Analyzer> | Analyzer;
}

/** One analyzer as the registry knows it: loaded, or failed to load with the reason (never skipped silently). */
export type RegistryEntry =
  | { id: string; version: string; state: 'loaded'; analyzer: Analyzer }
  | { id: string; state: 'load-failed'; error: string };

/** The verdict of the registry on one analyzer for one volume. */
export type Applicability = { analyzer: Analyzer; ok: true } | { analyzer: Analyzer; ok: false; reason: string; failed?: boolean };

/** The result of one run plus how long the analysis took, ms. */
export interface AnalyzerRun {
  analyzerId: string;
  analyzerVersion: string;
  result: AnalysisResult;
  elapsedMs: number;
}

export interface AnalyzerRegistry {
  /** Every analyzer, loaded or not, in registration order: what a dashboard shows. */
  entries(): RegistryEntry[];
  /** The loaded analyzers. */
  analyzers(): Analyzer[];
  /** Each loaded analyzer's verdict on `volume`: applicable, or not with the reason. */
  applicable(volume: Volume): Applicability[];
  /** Runs `analyzer` on `volume`; never throws (an exception or a blown time limit is `failed`). */
  run(analyzer: Analyzer, volume: Volume): AnalyzerRun;
}

export interface RegistryOptions {
  /** Monotonic clock in ms (a dependency, house style 7); default performance.now. */
  now?: () => number;
  /** Analyzers that failed to load (from `loadAnalyzers`), reported as entries. */
  loadFailures?: { id: string; error: string }[];
}

/**
 * Builds a registry over `analyzers`. An analyzer whose manifest is invalid (no id, no version, no
 * modalities, a time limit that is not a positive number) or whose id repeats an earlier one is not
 * registered: it becomes a `load-failed` entry with the reason.
 */
export function createAnalyzerRegistry(analyzers: Analyzer[], options: RegistryOptions = {}): AnalyzerRegistry {
  const now = options.now ?? (() => performance.now());
  const entries: RegistryEntry[] = (options.loadFailures ?? []).map((f) => ({ id: f.id, state: 'load-failed' as const, error: f.error }));
  const seen = new Set<string>();
  for (const analyzer of analyzers) {
    const problem = manifestProblem(analyzer);
    const id = typeof analyzer?.manifest?.id === 'string' && analyzer.manifest.id ? analyzer.manifest.id : '(no id)';
    if (problem) entries.push({ id, state: 'load-failed', error: problem });
    else if (seen.has(id)) entries.push({ id, state: 'load-failed', error: `another analyzer is already registered with id '${id}'` });
    else {
      seen.add(id);
      entries.push({ id, version: analyzer.manifest.version, state: 'loaded', analyzer });
    }
  }
  const loaded = entries.flatMap((e) => (e.state === 'loaded' ? [e.analyzer] : []));

  return {
    entries: () => entries.slice(),
    analyzers: () => loaded.slice(),
    applicable(volume) {
      return loaded.map((analyzer) => verdict(analyzer, volume));
    },
    run(analyzer, volume) {
      const { id, version, timeLimitMs } = analyzer.manifest;
      const start = now();
      let result: AnalysisResult;
      try {
        result = analyzer.analyze(volume);
      } catch (err) {
        const elapsedMs = now() - start;
        return { analyzerId: id, analyzerVersion: version, elapsedMs, result: failed(`the analyzer threw: ${describe(err)}`) };
      }
      const elapsedMs = now() - start;
      if (elapsedMs > timeLimitMs) {
        return {
          analyzerId: id,
          analyzerVersion: version,
          elapsedMs,
          result: failed(`exceeded its time limit of ${timeLimitMs} ms (took ${Math.round(elapsedMs)} ms); the result was discarded`),
        };
      }
      if (!isResult(result)) {
        return { analyzerId: id, analyzerVersion: version, elapsedMs, result: failed('the analyzer returned no valid result (status and findings)') };
      }
      return { analyzerId: id, analyzerVersion: version, elapsedMs, result };
    },
  };
}

/**
 * Loads plugins one by one; a loader that throws or yields no valid analyzer becomes a load failure
 * (reported by the registry as an entry with its error) instead of stopping the others.
 */
export async function loadAnalyzers(loaders: AnalyzerLoader[]): Promise<{ analyzers: Analyzer[]; loadFailures: { id: string; error: string }[] }> {
  const analyzers: Analyzer[] = [];
  const loadFailures: { id: string; error: string }[] = [];
  for (const loader of loaders) {
    try {
      const analyzer = await loader.load();
      if (!analyzer || typeof analyzer !== 'object') throw new Error('the module exported no analyzer');
      analyzers.push(analyzer);
    } catch (err) {
      loadFailures.push({ id: loader.id, error: `failed to load: ${describe(err)}` });
    }
  }
  return { analyzers, loadFailures };
}

function verdict(analyzer: Analyzer, volume: Volume): Applicability {
  const m = analyzer.manifest;
  const modality = volume.meta.modality;
  if (!m.modalities.includes(modality)) {
    return { analyzer, ok: false, reason: `modality ${modality || '(none)'} is not one of ${m.modalities.join(', ')}` };
  }
  try {
    const v = analyzer.applies(volume);
    return v.ok ? { analyzer, ok: true } : { analyzer, ok: false, reason: v.reason };
  } catch (err) {
    return { analyzer, ok: false, failed: true, reason: `the analyzer's applicability check threw: ${describe(err)}` };
  }
}

function manifestProblem(analyzer: Analyzer): string | undefined {
  const m: Partial<AnalyzerManifest> | undefined = analyzer?.manifest;
  if (!m || typeof m !== 'object') return 'no manifest';
  if (typeof m.id !== 'string' || !/^[a-z0-9][a-z0-9.-]*$/.test(m.id)) return `manifest id must be lower-case letters, digits, dots and dashes, got ${JSON.stringify(m.id)}`;
  if (typeof m.version !== 'string' || !m.version) return 'manifest has no version';
  if (!Array.isArray(m.modalities) || m.modalities.length === 0) return 'manifest names no modalities';
  if (typeof m.timeLimitMs !== 'number' || !(m.timeLimitMs > 0)) return `manifest time limit must be a positive number of ms, got ${String(m.timeLimitMs)}`;
  if (typeof analyzer.applies !== 'function' || typeof analyzer.analyze !== 'function') return 'analyzer lacks applies() or analyze()';
  return undefined;
}

function isResult(r: unknown): r is AnalysisResult {
  return !!r && typeof r === 'object' && typeof (r as AnalysisResult).status === 'string' && Array.isArray((r as AnalysisResult).findings);
}

function failed(reason: string): AnalysisResult {
  return { status: 'failed', reason, findings: [] };
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
