/**
 * ICH accuracy benchmark (issue 3): `npm run bench:ich [-- --cases 300 --seed N --batch 10]`.
 *
 * Draws cases at random from a seed printed first (default: the current time, so no fixed set can be
 * tuned on; `--seed` replays a run): half with one bleed (every subtype in turn, 0.1 to 80 mL
 * log-uniform), half without, each with its own slice thickness (0.625 to 5 mm), tilt, noise,
 * intercept encoding and confounders. Each case is rendered by the phantom (src/phantom) and written as
 * DICOM files by the series writer of `medge phantom`, and analysed by `medge analyze DIR --json --truth truth.json` in a child process. For
 * speed, one process analyses a batch of cases (`--batch`, default 10): each case is its own series
 * and the truth file lists them by Series Instance UID, exactly what a site does with several
 * labelled studies. Then the real GE head CT untouched (a negative: no false positive allowed) and,
 * when `medge phantom --insert-into` is available, bleeds inserted into it.
 *
 * Synthetic benchmarks are not clinical validation: the phantom is a model of a head, and doing well
 * on it says the method works as designed, not that it is safe on patients.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type { OfflineReport } from '../src/analyzers/offline.js';
import type { TruthComparison } from '../src/analyzers/truth.js';
import { renderHeadPhantom } from '../src/phantom/render.js';
import { writePhantomSeries } from '../src/phantom/write-series.js';
import { realData, repoRoot } from '../test/helpers/real-data.js';
import { drawPhantomCases, SUBTYPES, type PhantomCase } from './lib/ich-cases.js';
import { computeMetrics, pct, SMALL_ML, timingTable, type CaseResult, type Rate } from './lib/ich-metrics.js';
import { formatTable } from './lib/table.js';
import { insertIntoGeCases } from './lib/ge-insert.js';

const run = promisify(execFile);
const MEDGE = join(repoRoot(), 'bin', 'medge.js');

const DISCLAIMER =
  'Synthetic benchmarks are not clinical validation: the cases come from a parametric phantom, and a good\n' +
  'score shows the method works as designed on that model, not that it is safe or effective on patients.\n' +
  "Measure it on your own labelled studies with 'medge analyze DIR --truth FILE' (docs/analyze.md).";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { cases: { type: 'string' }, seed: { type: 'string' }, batch: { type: 'string' }, 'no-real': { type: 'boolean' } },
  });
  const n = Number(values.cases ?? 300);
  const seed = Number(values.seed ?? Date.now() % 2 ** 31);
  const batch = Math.max(1, Number(values.batch ?? 10));
  if (!Number.isInteger(n) || n < 2 || !Number.isInteger(seed)) throw new Error('--cases needs a whole number >= 2 and --seed a whole number');
  console.log(`ICH benchmark: ${n} phantom cases drawn from seed ${seed} (replay: npm run bench:ich -- --cases ${n} --seed ${seed})`);
  console.log(DISCLAIMER);
  console.log();

  const cases = drawPhantomCases(n, seed);
  const results: CaseResult[] = [];
  const started = Date.now();
  for (let i = 0; i < cases.length; i += batch) {
    const chunk = cases.slice(i, i + batch);
    results.push(...(await runPhantomBatch(chunk)));
    const done = Math.min(i + batch, cases.length);
    const elapsed = (Date.now() - started) / 1000;
    const m = computeMetrics(results);
    console.log(
      `  ${done}/${cases.length} cases, ${elapsed.toFixed(0)} s, about ${((elapsed / done) * (cases.length - done)).toFixed(0)} s left; ` +
        `so far sensitivity ${pct(m.sensitivity)}, specificity ${pct(m.specificity)}`,
    );
  }

  if (!values['no-real']) results.push(...(await runRealCases()));
  report(results, seed, n);
}

/** Renders and writes a batch of phantom cases, analyses them in one `medge analyze` process. */
async function runPhantomBatch(chunk: PhantomCase[]): Promise<CaseResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'medge-bench-ich-'));
  try {
    const byUid = new Map<string, PhantomCase>();
    const truth: { seriesInstanceUid: string; bleeds: unknown[] }[] = [];
    for (const c of chunk) {
      const { volume, truth: t } = renderHeadPhantom(c.params);
      // The same writer as `medge phantom` (it also leaves a truth.json per case, which analyze skips).
      const { seriesInstanceUid } = await writePhantomSeries(volume, t, { dir: join(dir, `case-${c.id}`), intercept: c.intercept });
      byUid.set(seriesInstanceUid, c);
      truth.push({ seriesInstanceUid, bleeds: t.bleeds });
    }
    const truthFile = join(dir, 'truth.json');
    await writeFile(truthFile, JSON.stringify(truth));
    const doc = await analyze(dir, truthFile);
    return collect(doc, (uid) => {
      const c = byUid.get(uid);
      return c ? { label: `#${c.id} ${c.label}`, kind: 'phantom', sliceThicknessMm: c.params.sliceThickness ?? 5 } : undefined;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The real GE head CT untouched (must be negative) and bleeds inserted into it (when the phantom CLI can). */
async function runRealCases(): Promise<CaseResult[]> {
  const ge = realData('ge-head-ct');
  if (!ge) {
    console.log('real GE head CT not present (../shared/data/real/ge-head-ct): real cases skipped');
    return [];
  }
  const out: CaseResult[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'medge-bench-ge-'));
  try {
    const truthFile = join(dir, 'truth-negative.json');
    await writeFile(truthFile, JSON.stringify({ bleeds: [] }));
    out.push(...collect(await analyze(ge, truthFile), () => ({ label: 'real GE head CT, untouched', kind: 'ge-real', sliceThicknessMm: 0 })));
    const inserted = await insertIntoGeCases(MEDGE, ge, dir);
    if (inserted.skipped) console.log(`bleeds inserted into the real GE series: skipped (${inserted.skipped})`);
    for (const c of inserted.cases) {
      out.push(...collect(await analyze(c.dir, c.truthFile), () => ({ label: `real GE + ${c.label}`, kind: 'ge-insert', sliceThicknessMm: 0 })));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

async function analyze(dir: string, truthFile: string): Promise<OfflineReport & { truthComparison: TruthComparison }> {
  const { stdout } = await run(process.execPath, [MEDGE, 'analyze', dir, '--json', '--truth', truthFile], { maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(stdout) as OfflineReport & { truthComparison: TruthComparison };
}

function collect(
  doc: OfflineReport & { truthComparison: TruthComparison },
  describe: (uid: string) => Pick<CaseResult, 'label' | 'kind' | 'sliceThicknessMm'> | undefined,
): CaseResult[] {
  const out: CaseResult[] = [];
  for (const s of doc.series) {
    if (s.analyzer !== 'ich') continue;
    const d = describe(s.seriesInstanceUid);
    const cmp = doc.truthComparison.series.find((c) => c.seriesInstanceUid === s.seriesInstanceUid && c.analyzer === 'ich');
    if (!d || !cmp) continue;
    out.push({
      ...d,
      sliceThicknessMm: d.sliceThicknessMm || (s.sliceThicknessMm ?? 0),
      slices: s.slices ?? 0,
      status: s.status,
      reason: s.reason,
      bleeds: cmp.bleeds,
      falsePositiveFindings: cmp.falsePositiveFindings.length,
      timingsMs: s.timingsMs,
    });
  }
  return out;
}

function report(results: CaseResult[], seed: number, n: number): void {
  const phantom = results.filter((r) => r.kind === 'phantom');
  const m = computeMetrics(results);
  console.log(`\nResults (seed ${seed}, ${n} phantom cases, ${results.length - phantom.length} real-series cases)\n`);
  const rateOf = (r: Rate) => (r.of ? (100 * r.hit) / r.of : Number.NaN);
  console.log(
    formatTable(
      ['measure', 'medge', 'RAPID ICH 3.0', 'syngo.CT Brain Hemorrhage', 'goal', 'verdict'],
      [
        ['sensitivity, all bleeds', pct(m.sensitivity), '', '', '', ''],
        [`sensitivity, bleeds >= ${SMALL_ML} mL`, pct(m.sensitivityAtLeast04), '97.8 %', '92.8 %', '>= 97 %', verdict(rateOf(m.sensitivityAtLeast04) >= 97)],
        ['specificity', pct(m.specificity), '99.5 %', '94.5 %', '>= 99 %', verdict(rateOf(m.specificity) >= 99)],
        ['median |volume error|, found bleeds', fmtPct(m.medianAbsVolumeErrorPct), '', '', '<= 10 %', verdict((m.medianAbsVolumeErrorPct ?? Infinity) <= 10)],
        [`median |volume error|, >= ${SMALL_ML} mL`, fmtPct(m.medianAbsVolumeErrorPctAtLeast04), '', '', '', ''],
        ['subtype accuracy, found bleeds', pct(m.subtypeAccuracy), '', '', '', ''],
      ],
    ),
  );
  console.log(`\nnot assessed (not-assessable or not-applicable): ${m.notAssessed}; failed: ${m.failed}; extra false-positive findings on positive cases: ${m.falsePositiveFindingsOnPositives}`);

  console.log('\nPer subtype (a bleed is found when the series is positive and a finding matches it)');
  console.log(
    formatTable(
      ['subtype', 'sensitivity, all', `sensitivity, >= ${SMALL_ML} mL`],
      SUBTYPES.map((s) => {
        const e = m.perSubtype.get(s);
        return [s, e ? pct(e.all) : 'n/a', e ? pct(e.atLeast04) : 'n/a'];
      }),
    ),
  );

  const real = results.filter((r) => r.kind !== 'phantom');
  if (real.length) {
    console.log('\nReal GE head CT');
    for (const r of real) {
      const found = r.bleeds.map((b) => (b.detected ? `found (${b.volumeErrorPct} % volume error)` : 'MISSED')).join(', ');
      console.log(`  ${r.label}: ${r.status}${r.reason ? ` (${r.reason})` : ''}${found ? `; ${found}` : ''}${r.falsePositiveFindings ? `; ${r.falsePositiveFindings} false-positive finding(s)` : ''}`);
    }
    const untouched = real.find((r) => r.kind === 'ge-real');
    if (untouched) console.log(`  goal: no false positive on the real GE head CT: ${verdict(untouched.status === 'negative')}`);
  }

  console.log('\nTiming per series, ms (one medge analyze process per batch; the first series of a process pays start-up)');
  console.log(timingTable(results, [5, 0.625]));
  const total = (t: number) => {
    const xs = phantom.filter((r) => r.sliceThicknessMm === t).map((r) => r.timingsMs.decode + r.timingsMs.volume + r.timingsMs.analyze);
    return xs.length ? xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : Number.NaN;
  };
  console.log(
    `  goals (median total): 0.625 mm (~240 slices) < 1000 ms: ${verdict(total(0.625) < 1000, Number.isNaN(total(0.625)))}; ` +
      `5 mm (~30 slices) < 200 ms: ${verdict(total(5) < 200, Number.isNaN(total(5)))}  (the exact 250- and 32-slice check: npm run bench:ich-speed)`,
  );
  console.log('  anchors: RAPID ICH under 40 s per case; syngo.CT Brain Hemorrhage 13.7 s per case');

  const misses = results.filter((r) => r.bleeds.length > 0 && !(r.status === 'positive' && r.bleeds.some((b) => b.detected)));
  const fps = results.filter((r) => r.bleeds.length === 0 && r.status !== 'negative');
  if (misses.length) console.log(`\nMissed (${misses.length}):\n${misses.map((r) => `  ${r.label}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`).join('\n')}`);
  if (fps.length) console.log(`\nNegatives not called negative (${fps.length}):\n${fps.map((r) => `  ${r.label}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`).join('\n')}`);
  console.log(`\n${DISCLAIMER}`);
}

function verdict(ok: boolean, unknown = false): string {
  return unknown ? 'n/a' : ok ? 'PASS' : 'FAIL';
}

function fmtPct(x: number | null): string {
  return x === null ? 'n/a' : `${x.toFixed(1)} %`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
