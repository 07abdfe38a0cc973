/**
 * ICH tuning aid (issue 3), after `npx tsc -p tsconfig.json`:
 * `node dist/bench/ich-diag.bench.js [--cases 300 --seed 1128 --ids 3,17 --real --all --json out.json]`
 * and `node dist/bench/ich-diag.bench.js --replay out.json[,more.json]`.
 *
 * Draws the same cases as `npm run bench:ich` (bench/lib/ich-cases.ts, same seed, same order) but
 * analyses each rendered volume in this process, without writing DICOM files or starting `medge
 * analyze`: the phantom's volume is already whole HU, so the analyzer sees the same numbers. For each
 * missed bleed it prints the groups near the truth that a filter removed, with their features and the
 * reason; for each negative with a finding, the finding's features. `--json` keeps every case's
 * findings and rejected groups, so that a threshold can be studied over all negatives without
 * rerunning. The figures are the benchmark's (same matching rule: src/analyzers/truth.ts), but the
 * benchmark of record is `npm run bench:ich`, which goes through the DICOM files as a site would.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { buildVolume } from '../src/imaging/build-volume.js';
import type { Volume } from '../src/imaging/volume.js';
import { realData } from '../test/helpers/real-data.js';
import { analyzeIch, rejection, type GroupFeatures } from '../src/analyzers/ich/index.js';
import { matchRadiusMm } from '../src/analyzers/truth.js';
import { renderHeadPhantom } from '../src/phantom/render.js';
import type { BleedTruth, PhantomParams } from '../src/phantom/types.js';
import { drawPhantomCases, SUBTYPES } from './lib/ich-cases.js';
import { SMALL_ML } from './lib/ich-metrics.js';
import { median } from './lib/table.js';


interface DiagCase {
  id: number;
  label: string;
  truth: BleedTruth[];
  status: string;
  detected: boolean;
  volumeErrorPct?: number;
  findings: { subtype?: string; volumeMl: number; centroidMm: number[]; distanceMm: number }[];
  features: GroupFeatures[];
  rejected: (GroupFeatures & { reason: string; distanceMm: number })[];
  analyzeMs: number;
}

const dist = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);

function fmt(f: GroupFeatures): string {
  const r = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  return (
    `vox ${r(f.volumeMl, 2)} pv ${r(f.pvVolumeMl, 2)} mL, mean ${r(f.meanHu)} blood ${f.bloodHu} ring ${r(f.ringHu)} ` +
    `near ${r(f.nearHu)} far ${r(f.farHu)}, dist ${r(f.maxDistMm)} contact ${r(f.contactFraction, 2)} inner ${r(f.innerRadiusMm)} ` +
    `fill ${r(f.fill, 2)} zBone ${r(f.zBone, 2)} csfNear ${r(f.csfNear, 2)} slabs ${f.k0}-${f.k1}`
  );
}

/**
 * `--replay dump.json[,dump2.json]`: applies the filters of the code as built now (rejection() in
 * src/analyzers/ich/index.ts) to the groups kept by an earlier `--json` run, and prints what changes.
 * Only filter changes can be studied this way (groups under 0.1 mL of voxels are not kept).
 */
async function replay(files: string[]): Promise<void> {
  for (const file of files) {
    const cases = JSON.parse(await readFile(file, 'utf8')) as DiagCase[];
    let hit = 0, of = 0, tn = 0, negs = 0, farFindings = 0;
    const errs: number[] = [];
    const per = new Map<string, [number, number]>();
    for (const d of cases) {
      // JSON writes NaN (no voxel near or far from the table) as null.
      const groups = [...d.features, ...d.rejected].map((g) => ({ ...g, nearHu: g.nearHu ?? Number.NaN, farHu: g.farHu ?? Number.NaN }));
      const pass = groups.filter((g) => rejection(g, g.backgroundHu, g.base, g.slabMm) === null);
      const t = d.truth[0];
      if (!t) {
        negs++;
        if (pass.length === 0) tn++;
        else console.log(`  FP #${d.id} ${d.label}${d.status === 'negative' ? ' (NEW)' : ''}\n${pass.map((g) => `     ${fmt(g)}`).join('\n')}`);
        continue;
      }
      const rad = matchRadiusMm(t.volumeMl);
      const near = pass.filter((g) => dist(g.centroidMm, t.centroidMm) <= rad);
      farFindings += pass.length - near.length;
      const found = near.length > 0;
      const was = d.status === 'positive' && d.detected;
      if (found) errs.push(Math.abs((100 * (near.reduce((a, g) => a + Math.round(g.pvVolumeMl * 100) / 100, 0) - t.volumeMl)) / t.volumeMl));
      if (t.volumeMl < SMALL_ML) continue;
      of++;
      if (found) hit++;
      const e = per.get(t.subtype) ?? [0, 0];
      e[1]++;
      if (found) e[0]++;
      per.set(t.subtype, e);
      if (found !== was) console.log(`  ${found ? 'NOW FOUND' : 'NOW MISSED'} #${d.id} ${d.label} (truth ${t.volumeMl} mL)`);
      else if (!found) console.log(`  still missed #${d.id} ${d.label} (truth ${t.volumeMl} mL)`);
    }
    console.log(`${file}: sensitivity >= ${SMALL_ML} mL ${hit}/${of}; specificity ${tn}/${negs}; median |volume error| ${errs.length ? median(errs).toFixed(1) : 'n/a'} %; findings away from the bleed on positives ${farFindings}`);
    console.log(`  ${SUBTYPES.map((s) => `${s} ${(per.get(s) ?? [0, 0]).join('/')}`).join(', ')}`);
  }
}

/** The real GE head CT (a negative: no bleed), when present. */
async function realGe(): Promise<{ label: string; volume: Volume } | null> {
  const dir = realData('ge-head-ct');
  if (!dir) return null;
  const files: { sopInstanceUid: string; part10: Buffer }[] = [];
  for (const f of await readdir(dir)) if ((await stat(join(dir, f))).isFile()) files.push({ sopInstanceUid: f, part10: await readFile(join(dir, f)) });
  return { label: 'real GE head CT, untouched', volume: await buildVolume(files) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { cases: { type: 'string' }, seed: { type: 'string' }, ids: { type: 'string' }, json: { type: 'string' }, all: { type: 'boolean' }, replay: { type: 'string' }, real: { type: 'boolean' } } });
  if (values.replay) {
    await replay(values.replay.split(','));
    return;
  }
  const n = Number(values.cases ?? 300);
  const seed = Number(values.seed ?? 1128);
  const ids = values.ids ? new Set(values.ids.split(',').map(Number)) : null;
  const cases: { id: number; label: string; params?: PhantomParams; volume?: Volume }[] = drawPhantomCases(n, seed).filter((c) => !ids || ids.has(c.id));
  const ge = values.real ? await realGe() : null;
  if (ge) cases.push({ id: -1, ...ge });
  const out: DiagCase[] = [];
  const started = Date.now();
  for (const c of cases) {
    const { volume, truth } = c.volume ? { volume: c.volume, truth: { bleeds: [] as BleedTruth[] } } : renderHeadPhantom(c.params);
    const t0 = performance.now();
    const a = analyzeIch(volume);
    const analyzeMs = performance.now() - t0;
    const found = a.findings.map((f) => ({ subtype: f.subtype, volumeMl: f.volumeMl ?? 0, centroidMm: [...(f.centroidMm ?? [0, 0, 0])], distanceMm: Infinity }));
    const t = truth.bleeds[0];
    let detected = false;
    let volumeErrorPct: number | undefined;
    if (t) {
      const rad = matchRadiusMm(t.volumeMl);
      let vol = 0;
      for (const f of found) {
        f.distanceMm = dist(f.centroidMm, t.centroidMm);
        if (f.distanceMm <= rad) { detected = true; vol += f.volumeMl; }
      }
      if (detected) volumeErrorPct = (100 * (vol - t.volumeMl)) / t.volumeMl;
    }
    const rejected = a.rejected.map((r) => ({ ...r, distanceMm: t ? dist(r.centroidMm, t.centroidMm) : Infinity }));
    const d: DiagCase = { id: c.id, label: c.label, truth: truth.bleeds, status: a.status, detected, findings: found, features: a.features, rejected, analyzeMs };
    if (volumeErrorPct !== undefined) d.volumeErrorPct = volumeErrorPct;
    out.push(d);
    const positive = truth.bleeds.length > 0;
    const miss = positive && !(a.status === 'positive' && detected);
    const fp = (!positive && a.status !== 'negative') || found.some((f) => t && f.distanceMm > matchRadiusMm(t.volumeMl));
    if (miss || fp || values.all) {
      const tag = miss ? 'MISS' : fp ? 'FP' : 'ok';
      const th = t?.maxThicknessMm !== undefined ? ` thick ${t.maxThicknessMm} mm` : '';
      console.log(`${tag} #${c.id} ${c.label}${t ? ` (truth ${t.volumeMl} mL${th}, ${t.hu} HU)` : ''}: ${a.status}${a.reason ? ` ${a.reason}` : ''}`);
      a.features.forEach((f, i) => console.log(`   finding ${found[i]!.subtype} ${found[i]!.volumeMl} mL at ${found[i]!.distanceMm.toFixed(0)} mm: ${fmt(f)}`));
      for (const r of rejected) if (!t || r.distanceMm <= 2 * matchRadiusMm(t.volumeMl) || values.all) console.log(`   rejected ${r.reason} at ${r.distanceMm.toFixed(0)} mm: ${fmt(r)}`);
    }
  }
  const pos = out.filter((d) => d.truth.length > 0);
  const neg = out.filter((d) => d.truth.length === 0);
  const hit = (d: DiagCase) => d.status === 'positive' && d.detected;
  const big = pos.filter((d) => d.truth[0]!.volumeMl >= SMALL_ML);
  const errs = pos.filter(hit).map((d) => Math.abs(d.volumeErrorPct ?? 0));
  console.log(`\nseed ${seed}, ${cases.length} cases, ${((Date.now() - started) / 1000).toFixed(0)} s (in-process; the benchmark of record is npm run bench:ich)`);
  console.log(`sensitivity >= ${SMALL_ML} mL ${big.filter(hit).length}/${big.length}, all ${pos.filter(hit).length}/${pos.length}; specificity ${neg.filter((d) => d.status === 'negative').length}/${neg.length}; median |volume error| ${errs.length ? median(errs).toFixed(1) : 'n/a'} %`);
  console.log(SUBTYPES.map((s) => { const xs = big.filter((d) => d.truth[0]!.subtype === s); return `${s} ${xs.filter(hit).length}/${xs.length}`; }).join(', '));
  if (values.json) await writeFile(values.json, JSON.stringify(out));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
