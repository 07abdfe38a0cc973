import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { writeSyntheticCtSeries } from '../../dicom/synthetic/ct-series.js';
import { realData, repoRoot } from '../../../test/helpers/real-data.js';

const run = promisify(execFile);
const MEDGE = join(repoRoot(), 'bin', 'medge.js');

/** Runs `medge analyze ...`; resolves to exit code, stdout and stderr whatever the code. */
async function analyze(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MEDGE, 'analyze', ...args], { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let dir: string;
let seriesUid: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medge-analyze-'));
  // An ellipse of "brain" in a shell of "bone": no scalp, no ventricles; small and fast.
  seriesUid = (await writeSyntheticCtSeries({ dir: join(dir, 'series'), slices: 24, rows: 128, columns: 128, sliceThickness: 5 })).seriesUid;
  await writeFile(join(dir, 'README.txt'), 'not DICOM');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const STATUSES = ['positive', 'negative', 'not-applicable', 'not-assessable', 'failed'];

test('medge analyze --json: one JSON document of the documented shape, exit status 0', async () => {
  const { code, stdout } = await analyze(join(dir, 'series'), '--json');
  assert.equal(code, 0);
  const doc = JSON.parse(stdout) as { series: Record<string, unknown>[]; files: unknown; analyzers: { id: string; state: string }[] };
  assert.deepEqual(doc.files, { dicom: 24, skipped: 0 });
  assert.deepEqual(
    doc.analyzers.map((a) => [a.id, a.state]),
    [['ich', 'loaded']],
  );
  assert.equal(doc.series.length, 1);
  const s = doc.series[0]!;
  assert.equal(s.seriesInstanceUid, seriesUid);
  assert.equal(s.analyzer, 'ich');
  assert.ok(STATUSES.includes(s.status as string));
  // The synthetic ellipse has no real anatomy: whatever the analyzer says, it must not crash or fail.
  assert.notEqual(s.status, 'failed', String(s.reason));
  assert.ok(Array.isArray(s.findings));
  for (const f of s.findings as Record<string, unknown>[]) {
    assert.equal(f.type, 'intracranial-hemorrhage');
    assert.equal((f.centroidMm as number[]).length, 3);
    assert.equal((f.sliceRange as number[]).length, 2);
    assert.equal(f.mask, undefined, 'no masks in the JSON');
  }
  const t = s.timingsMs as Record<string, number>;
  assert.deepEqual(Object.keys(t).sort(), ['analyze', 'decode', 'volume']);
  for (const v of Object.values(t)) assert.ok(typeof v === 'number' && v >= 0);
});

test('medge analyze without --json prints a readable summary and counts skipped files', async () => {
  const { code, stdout } = await analyze(dir);
  assert.equal(code, 0);
  assert.match(stdout, /1 series from 24 DICOM file\(s\), 1 other file\(s\) skipped/);
  assert.match(stdout, new RegExp(`series ${seriesUid.replace(/\./g, '\\.')}, 24 slices of 5 mm`));
  assert.match(stdout, /time: decode [\d.]+ ms, volume [\d.]+ ms, analyze [\d.]+ ms/);
});

test('--truth: the comparison is in the JSON and in the summary', async () => {
  const truthFile = join(dir, 'truth.json');
  // A bleed the analyzer cannot have found in this bleed-free series: a miss unless not assessed.
  await writeFile(truthFile, JSON.stringify({ seriesInstanceUid: seriesUid, bleeds: [{ subtype: 'subdural', volumeMl: 20, centroidMm: [60, 0, 0] }] }));
  const { code, stdout } = await analyze(join(dir, 'series'), '--json', '--truth', truthFile);
  assert.equal(code, 0);
  const doc = JSON.parse(stdout) as { truthComparison: { series: { outcome: string; bleeds: { detected: boolean }[] }[]; summary: { bleeds: { tp: number; fn: number } } } };
  const c = doc.truthComparison.series[0]!;
  assert.ok(['FN', 'TP', 'not-assessed'].includes(c.outcome));
  assert.equal(c.bleeds.length, 1);
  assert.equal(doc.truthComparison.summary.bleeds.tp + doc.truthComparison.summary.bleeds.fn, 1);
  const text = await analyze(join(dir, 'series'), '--truth', truthFile);
  assert.match(text.stdout, /Comparison with the truth/);
});

test('--truth on a known case: a 20 mL intraparenchymal bleed written by medge phantom is found and measured', async () => {
  const out = join(dir, 'phantom');
  await run(process.execPath, [MEDGE, 'phantom', '--out', out, '--size', '256', '--thickness', '5', '--bleed', 'intraparenchymal:20:basal-ganglia:left', '--seed', '3']);
  const { code, stdout } = await analyze(out, '--json', '--truth', join(out, 'truth.json'));
  assert.equal(code, 0);
  const doc = JSON.parse(stdout) as {
    files: { skipped: number };
    truthComparison: { series: { outcome: string; bleeds: { detected: boolean; subtypeAgrees?: boolean; volumeErrorPct?: number }[] }[] };
  };
  assert.equal(doc.files.skipped, 1, 'truth.json is not DICOM');
  const c = doc.truthComparison.series[0]!;
  assert.equal(c.outcome, 'TP');
  assert.equal(c.bleeds[0]!.detected, true);
  assert.equal(c.bleeds[0]!.subtypeAgrees, true);
  assert.ok(Math.abs(c.bleeds[0]!.volumeErrorPct!) < 30, `volume error ${c.bleeds[0]!.volumeErrorPct} %`);
});

test('usage errors exit 2, an unreadable directory exits 1, --help exits 0', async () => {
  assert.equal((await analyze()).code, 2);
  assert.equal((await analyze(dir, '--bogus')).code, 2);
  const badTruth = join(dir, 'bad-truth.json');
  await writeFile(badTruth, '{"bleeds": [{"subtype": "bruise"}]}');
  const bad = await analyze(dir, '--truth', badTruth);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /subtype must be one of/);
  assert.equal((await analyze(join(dir, 'no-such-dir'))).code, 1);
  const help = await analyze('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--truth FILE/);
});

test('the real Philips head phantom (a skull with air inside) is not-assessable', async (t) => {
  const phantom = realData('philips-head-phantom-5mm');
  if (!phantom) return t.skip('real data not present');
  const { code, stdout } = await analyze(phantom, '--json');
  assert.equal(code, 0);
  const doc = JSON.parse(stdout) as { series: { status: string; reason?: string }[] };
  assert.equal(doc.series.length, 1);
  assert.equal(doc.series[0]!.status, 'not-assessable', doc.series[0]!.reason);
  assert.ok(doc.series[0]!.reason);
});
