import { readFile, stat } from 'node:fs/promises';
import { createDefaultRegistry } from '../../analyzers/default-analyzers.js';
import { analyzeDirectory, type OfflineReport, type SeriesReport } from '../../analyzers/offline.js';
import { compareWithTruth, formatComparison, parseTruth, type TruthComparison } from '../../analyzers/truth.js';
import { createTimedVolumeBuilder } from '../../analyzers/volume-builder.js';
import { MedgeError } from '../../errors.js';
import { parseCommandArgs } from '../parse-args.js';

const HELP = `Usage: medge analyze DIR [--json] [--truth FILE]

Runs every applicable analyzer on every series found under DIR, without starting the node, and
prints what they found. Files are found recursively; files that are not DICOM Part 10 are skipped
quietly and counted. Instances are grouped by Series Instance UID (0020,000E); each series is built
into a volume (slices sorted along the normal, gantry tilt and uneven spacing kept, rescaled to HU,
localizers and other orientations left out) and given to each analyzer whose manifest and checks
accept it.

Options:
  --json         print one JSON document on stdout instead of the readable summary
  --truth FILE   compare the findings with ground truth (truth.json from 'medge phantom', or a
                 site's own labels in the same format, see docs/analyze.md) and print the comparison
  -h, --help     this text

Status per series and analyzer:
  positive        the analyzer found something (see findings)
  negative        it looked and found nothing
  not-applicable  the series is not for this analyzer (modality, contrast, body part, slices...); reason given
  not-assessable  the analyzer could not judge this series (e.g. no brain in the images); reason given
  failed          the volume could not be built, the analyzer threw, or it ran past its time limit; reason given

JSON (--json):
  { "series": [ { "seriesInstanceUid", "analyzer", "analyzerVersion", "status", "reason"?,
      "findings": [ { "type": "intracranial-hemorrhage", "subtype", "side", "region", "volumeMl",
                      "centroidMm": [x, y, z], "sliceRange": [first, last], "maxThicknessMm"?,
                      "confidence" } ],
      "midlineShiftMm"?, "slices", "sliceThicknessMm",
      "timingsMs": { "decode", "volume", "analyze" } } ],
    "analyzers": [ { "id", "version", "state": "loaded" | "load-failed", "error"? } ],
    "files": { "dicom", "skipped" }, "scanMs", "truthComparison"? }
  Coordinates are patient coordinates (DICOM LPS), mm; sliceRange indexes the series' slices sorted
  along the normal, from 0. Volumes in mL to 0.01, distances in mm to 0.1. No voxel masks.

Timings, ms, per series: decode = reading the series' files + pixel decoding; volume = sorting,
geometry and rescale to HU; analyze = the analyzer alone. The header scan that groups the files
into series is reported once as scanMs.

--truth comparison: a finding matches the nearest truth bleed whose centroid is within 15 mm, or
within twice the bleed's equivalent-sphere radius when that is larger; several findings may match
one bleed (their volumes add up). Reported per series (TP, FN, FP, TN, not assessed), per bleed
(found or missed, subtype agreement, volume error %) and in total. Synthetic benchmarks and this
comparison on a few cases are not clinical validation.

Exit status: 0 whenever the analysis ran, whatever it found (including failed series); 1 when DIR
cannot be read; 2 for usage errors (including an invalid truth file).`;

export async function runAnalyze(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'analyze',
    argv,
    { json: { type: 'boolean' }, truth: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new MedgeError('MEDGE_ERR_CLI_USAGE', `need exactly one directory, got ${positionals.length}; see 'medge analyze --help'`, {});
  const dir = positionals[0]!;
  const truth = values.truth !== undefined ? await readTruth(values.truth) : undefined;
  try {
    await stat(dir);
  } catch (err) {
    process.stderr.write(`medge analyze: cannot read ${dir}: ${(err as Error).message}\n`);
    return 1;
  }
  const registry = await createDefaultRegistry();
  for (const e of registry.entries()) {
    if (e.state === 'load-failed') process.stderr.write(`medge analyze: ANALYZER ${e.id} FAILED TO LOAD: ${e.error}\n`);
  }
  const progress = process.stderr.isTTY && !values.json;
  let report: OfflineReport;
  try {
    report = await analyzeDirectory(dir, {
      registry,
      buildVolume: createTimedVolumeBuilder(),
      onSeries: progress ? (done, total) => process.stderr.write(`\ranalysed ${done}/${total} series`) : undefined,
    });
  } catch (err) {
    process.stderr.write(`medge analyze: cannot read ${dir}: ${(err as Error).message}\n`);
    return 1;
  }
  if (progress && report.series.length > 0) process.stderr.write('\n');
  const comparison = truth ? compareWithTruth(report.series, truth) : undefined;

  if (values.json) {
    process.stdout.write(`${JSON.stringify(comparison ? { ...report, truthComparison: comparison } : report)}\n`);
  } else {
    process.stdout.write(`${formatReport(dir, report, comparison)}\n`);
  }
  return 0;
}

async function readTruth(path: string) {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MedgeError('MEDGE_ERR_CLI_USAGE', `--truth: cannot read ${path}: ${(err as Error).message}`, {});
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new MedgeError('MEDGE_ERR_CLI_USAGE', `--truth: ${path} is not JSON: ${(err as Error).message}`, {});
  }
  return parseTruth(doc);
}

/** The readable summary: one block per series and analyzer. */
export function formatReport(dir: string, r: OfflineReport, comparison?: TruthComparison): string {
  const seriesCount = new Set(r.series.map((s) => s.seriesInstanceUid)).size;
  const lines = [
    `${dir}: ${seriesCount} series from ${r.files.dicom} DICOM file(s)${r.files.skipped ? `, ${r.files.skipped} other file(s) skipped` : ''}; header scan ${r.scanMs} ms`,
    `analyzers: ${r.analyzers.map((a) => (a.state === 'loaded' ? `${a.id} ${a.version}` : `${a.id} (FAILED TO LOAD: ${a.error})`)).join(', ') || 'none'}`,
  ];
  for (const s of r.series) lines.push('', ...formatSeries(s));
  if (comparison) lines.push('', formatComparison(comparison));
  return lines.join('\n');
}

function formatSeries(s: SeriesReport): string[] {
  const t = s.timingsMs;
  const slices = s.slices !== undefined ? `, ${s.slices} slices${s.sliceThicknessMm ? ` of ${s.sliceThicknessMm} mm` : ''}` : '';
  const out = [
    `series ${s.seriesInstanceUid}${slices}`,
    `  ${s.analyzer ?? '(no analyzer)'}: ${s.status.toUpperCase()}${s.reason ? ` (${s.reason})` : ''}`,
  ];
  for (const f of s.findings) {
    const thick = f.maxThicknessMm !== undefined ? `, ${f.maxThicknessMm} mm thick` : '';
    out.push(
      `    ${f.subtype} ${f.side} ${f.region}: ${f.volumeMl} mL${thick}, slices ${f.sliceRange[0]}-${f.sliceRange[1]}, ` +
        `centre [${f.centroidMm.join(', ')}] mm, confidence ${f.confidence}`,
    );
  }
  if (s.midlineShiftMm !== undefined) out.push(`    midline shift ${s.midlineShiftMm} mm`);
  out.push(`  time: decode ${t.decode} ms, volume ${t.volume} ms, analyze ${t.analyze} ms (total ${Math.round((t.decode + t.volume + t.analyze) * 10) / 10} ms)`);
  return out;
}
