import { open, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseInstanceHeader } from '../dicom/header.js';
import { readFileMeta } from '../dicom/part10.js';
import type { Volume } from '../imaging/volume.js';
import type { AnalyzerRegistry, RegistryEntry } from './registry.js';
import type { AnalysisStatus, Finding } from './types.js';

/**
 * Offline analysis (`medge analyze DIR`): every file under a directory, grouped by Series Instance
 * UID, each series built into a volume and given to every applicable analyzer, without the node.
 *
 * Timings per series, ms:
 * - `decode`: reading the series' files from disk plus pixel decoding (as far as the volume builder
 *   reports the decoding time it spent; see `VolumeBuilder`);
 * - `volume`: the rest of building the volume: sorting, geometry, tilt, rescale to HU;
 * - `analyze`: the analyzer's own run.
 * The first scan that reads only each file's header to group the series is reported once, as `scanMs`.
 */

/** One instance of a series as the volume builder takes it. */
export interface SeriesInstance {
  sopInstanceUid?: string;
  part10: Buffer;
}

/**
 * Builds a volume from a series' instances. `decodeMs` is the part of the time spent decoding pixel
 * data when the builder can tell (0 when it cannot: then `volume` includes decoding).
 */
export type VolumeBuilder = (instances: SeriesInstance[]) => Promise<{ volume: Volume; decodeMs: number }>;

export interface OfflineDeps {
  registry: AnalyzerRegistry;
  buildVolume: VolumeBuilder;
  /** Monotonic clock in ms; default performance.now. */
  now?: () => number;
  /** Called after each series (progress on stderr for long runs). */
  onSeries?: (done: number, total: number) => void;
}

/** A finding as reported (no mask), rounded for reading. */
export interface ReportedFinding {
  type: Finding['type'];
  subtype: Finding['subtype'];
  side: Finding['side'];
  region: string;
  volumeMl: number;
  centroidMm: [number, number, number];
  sliceRange: [number, number];
  maxThicknessMm?: number;
  confidence: number;
}

export interface SeriesReport {
  seriesInstanceUid: string;
  /** The analyzer's id, or null when the series could not be given to any (no analyzer loaded). */
  analyzer: string | null;
  analyzerVersion?: string;
  status: AnalysisStatus;
  reason?: string;
  findings: ReportedFinding[];
  midlineShiftMm?: number;
  /** Slices in the volume (absent when the volume could not be built). */
  slices?: number;
  sliceThicknessMm?: number | null;
  timingsMs: { decode: number; volume: number; analyze: number };
}

export interface OfflineReport {
  series: SeriesReport[];
  /** Every analyzer the registry knows, with the load error of those that failed to load. */
  analyzers: { id: string; version?: string; state: RegistryEntry['state']; error?: string }[];
  files: { dicom: number; skipped: number };
  scanMs: number;
}

/** Reads up to this many bytes of a file to find its series; longer headers are read whole. */
const HEADER_PREFIX = 64 * 1024;

/**
 * Analyses every series under `dir` (recursively). Files that are not DICOM Part 10 or whose header
 * cannot be parsed are skipped and counted. Throws only when `dir` itself cannot be read.
 */
export async function analyzeDirectory(dir: string, deps: OfflineDeps): Promise<OfflineReport> {
  const now = deps.now ?? (() => performance.now());
  const scanStart = now();
  const files = await listFiles(dir);
  const groups = new Map<string, { path: string; sopInstanceUid?: string }[]>();
  let skipped = 0;
  for (const path of files) {
    const id = await readSeriesId(path);
    if (!id) {
      skipped++;
      continue;
    }
    let g = groups.get(id.seriesInstanceUid);
    if (!g) groups.set(id.seriesInstanceUid, (g = []));
    g.push({ path, sopInstanceUid: id.sopInstanceUid });
  }
  const scanMs = now() - scanStart;

  const series: SeriesReport[] = [];
  let done = 0;
  for (const [seriesInstanceUid, members] of groups) {
    series.push(...(await analyzeSeries(seriesInstanceUid, members, deps, now)));
    deps.onSeries?.(++done, groups.size);
  }
  const analyzers = deps.registry.entries().map((e) => (e.state === 'loaded' ? { id: e.id, version: e.version, state: e.state } : { id: e.id, state: e.state, error: e.error }));
  return { series, analyzers, files: { dicom: files.length - skipped, skipped }, scanMs: round(scanMs, 1) };
}

async function analyzeSeries(
  seriesInstanceUid: string,
  members: { path: string; sopInstanceUid?: string }[],
  deps: OfflineDeps,
  now: () => number,
): Promise<SeriesReport[]> {
  const t0 = now();
  const instances: SeriesInstance[] = [];
  for (const m of members) instances.push({ sopInstanceUid: m.sopInstanceUid, part10: await readFile(m.path) });
  const readMs = now() - t0;
  let volume: Volume;
  let decodeMs: number;
  let buildMs: number;
  try {
    const t1 = now();
    ({ volume, decodeMs } = await deps.buildVolume(instances));
    buildMs = now() - t1;
  } catch (err) {
    const timingsMs = { decode: round(readMs, 1), volume: round(now() - t0 - readMs, 1), analyze: 0 };
    const reason = `the volume could not be built: ${err instanceof Error ? err.message : String(err)}`;
    const analyzers = deps.registry.analyzers();
    if (analyzers.length === 0) return [{ seriesInstanceUid, analyzer: null, status: 'failed', reason, findings: [], timingsMs }];
    return analyzers.map((a) => ({ seriesInstanceUid, analyzer: a.manifest.id, analyzerVersion: a.manifest.version, status: 'failed' as const, reason, findings: [], timingsMs }));
  }
  const decode = readMs + decodeMs;
  const volumeMs = Math.max(0, buildMs - decodeMs);
  const base = { seriesInstanceUid, slices: volume.dims[2], sliceThicknessMm: volume.sliceThickness };
  const verdicts = deps.registry.applicable(volume);
  if (verdicts.length === 0) {
    return [{ ...base, analyzer: null, status: 'failed', reason: 'no analyzer is loaded (see analyzers for load errors)', findings: [], timingsMs: timings(decode, volumeMs, 0) }];
  }
  return verdicts.map((v) => {
    const { id, version } = v.analyzer.manifest;
    if (!v.ok) {
      const status: AnalysisStatus = v.failed ? 'failed' : 'not-applicable';
      return { ...base, analyzer: id, analyzerVersion: version, status, reason: v.reason, findings: [], timingsMs: timings(decode, volumeMs, 0) };
    }
    const run = deps.registry.run(v.analyzer, volume);
    const r = run.result;
    const report: SeriesReport = {
      ...base,
      analyzer: id,
      analyzerVersion: version,
      status: r.status,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      findings: r.findings.map(reportFinding),
      ...(r.midlineShiftMm !== undefined ? { midlineShiftMm: round(r.midlineShiftMm, 1) } : {}),
      timingsMs: timings(decode, volumeMs, run.elapsedMs),
    };
    return report;
  });
}

/** A finding without its mask, rounded: mL to 0.01, mm to 0.1, confidence to 0.01. */
export function reportFinding(f: Finding): ReportedFinding {
  return {
    type: f.type,
    subtype: f.subtype,
    side: f.side,
    region: f.region,
    volumeMl: round(f.volumeMl, 2),
    centroidMm: [round(f.centroidMm[0], 1), round(f.centroidMm[1], 1), round(f.centroidMm[2], 1)],
    sliceRange: [f.sliceRange[0], f.sliceRange[1]],
    ...(f.maxThicknessMm !== undefined ? { maxThicknessMm: round(f.maxThicknessMm, 1) } : {}),
    confidence: round(f.confidence, 2),
  };
}

function timings(decode: number, volume: number, analyze: number): SeriesReport['timingsMs'] {
  return { decode: round(decode, 1), volume: round(volume, 1), analyze: round(analyze, 1) };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Every regular file under `dir`, recursively, in a stable order. Throws when `dir` cannot be read. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const st = await stat(dir);
  if (st.isFile()) return [dir];
  await walk(dir, out);
  return out;
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile()) out.push(p);
  }
}

/** The Series and SOP Instance UIDs of a Part 10 file, from its header; null when it is not one. */
async function readSeriesId(path: string): Promise<{ seriesInstanceUid: string; sopInstanceUid?: string } | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const size = (await fh.stat()).size;
    let bytes = Buffer.alloc(Math.min(size, HEADER_PREFIX));
    await fh.read(bytes, 0, bytes.length, 0);
    for (;;) {
      const meta = readFileMeta(bytes);
      if (meta === null) return null;
      if (meta === undefined && bytes.length >= size) return null;
      if (meta) {
        let parsed;
        try {
          parsed = parseInstanceHeader(bytes, meta.transferSyntaxUid, size);
        } catch {
          return null;
        }
        if (parsed.kind === 'ok') {
          const uid = parsed.header.seriesInstanceUid;
          return uid ? { seriesInstanceUid: uid, sopInstanceUid: parsed.header.sopInstanceUid ?? undefined } : null;
        }
        if (bytes.length >= size) return null;
      }
      // The header goes on past the prefix: read the whole file once.
      bytes = Buffer.alloc(size);
      await fh.read(bytes, 0, size, 0);
    }
  } finally {
    await fh.close();
  }
}
