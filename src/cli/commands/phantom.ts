import { MedgeError } from '../../errors.js';
import { insertBleeds } from '../../phantom/insert.js';
import { renderHeadPhantom } from '../../phantom/render.js';
import { BLEED_SUBTYPES, LOCATIONS, type BleedSpec, type BleedSubtype, type Confounders, type LocationName, type Side } from '../../phantom/types.js';
import { writePhantomSeries } from '../../phantom/write-series.js';
import { parseCommandArgs } from '../parse-args.js';

const HELP = `medge phantom: write a synthetic head CT series with known ground truth (truth.json)

Usage: medge phantom --out DIR [options]

Options:
  --out DIR              directory to write the series (one file per slice) and truth.json into
  --seed N               seed of every random choice (default 1); the same options give the same files
  --thickness MM         slice thickness = spacing along the normal, 0.625 to 5 (default 5)
  --tilt DEG             gantry tilt in degrees, planes rotated about x (default 0)
  --noise HU             Gaussian noise standard deviation, 0 to ~8 (default 4)
  --intercept -1024|0    Rescale Intercept: -1024 stores HU+1024 unsigned, 0 stores HU signed (default -1024)
  --size N               rows = columns (default 512; pixel spacing 0.45 mm at 512, scaled to keep the field of view)
  --bleed SPEC           a bleed, repeatable: SUBTYPE:VOLUME_ML[:LOCATION[:SIDE]]
                         subtypes: ${BLEED_SUBTYPES.join(', ')}
                         locations: ${LOCATIONS.join(', ')}
                         sides: left, right, midline (default left)
                         e.g. --bleed subdural:25:convexity:right --bleed intraparenchymal:3
  --confounders LIST     all | none | comma list of pineal, choroid, beam, falx (default none)
  --midline-shift MM     shift of midline structures (default: from supratentorial bleed volume)
  --insert-into DIR      instead of a phantom, insert the bleeds (intraparenchymal only) into the real
                         series in DIR and write a new series (same study, new UIDs) to --out
  -h, --help             this text

Output: the directory, the series UIDs and the truth (subtype, volume in mL, centroid in patient
coordinates LPS mm per bleed). Synthetic studies are for testing, not clinical validation.`;

export async function runPhantom(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('phantom', argv, {
    out: { type: 'string' }, seed: { type: 'string' }, thickness: { type: 'string' }, tilt: { type: 'string' },
    noise: { type: 'string' }, intercept: { type: 'string' }, size: { type: 'string' }, bleed: { type: 'string', multiple: true },
    confounders: { type: 'string' }, 'midline-shift': { type: 'string' }, 'insert-into': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { process.stdout.write(`${HELP}\n`); return 0; }
  if (!values.out) throw usage('--out DIR is required');
  const seed = numberOption('--seed', values.seed) ?? 1;
  const bleeds = (values.bleed ?? []).map(parseBleed);
  if (values['insert-into']) {
    const bad = bleeds.find((b) => b.subtype !== 'intraparenchymal');
    if (bad) throw usage(`--insert-into inserts intraparenchymal bleeds only, not ${bad.subtype}`);
    const r = await insertBleeds({ inputDir: values['insert-into'], outDir: values.out, seed, bleeds: bleeds.map((b) => ({ subtype: 'intraparenchymal' as const, volumeMl: b.volumeMl, side: b.side })) });
    process.stdout.write(`wrote ${r.files.length} files to ${r.dir} (series ${r.seriesInstanceUid}, study kept)\ntruth: ${r.truthPath}\n`);
    for (const b of r.truth.bleeds) process.stdout.write(`  ${b.subtype} ${b.side} ${b.volumeMl} mL at [${b.centroidMm.join(', ')}] mm (${b.changedVoxels} voxels changed)\n`);
    return 0;
  }
  const thickness = numberOption('--thickness', values.thickness) ?? 5;
  if (thickness < 0.5 || thickness > 10) throw usage('--thickness must be between 0.5 and 10 mm');
  const intercept = numberOption('--intercept', values.intercept) ?? -1024;
  if (intercept !== -1024 && intercept !== 0) throw usage('--intercept must be -1024 or 0');
  const size = numberOption('--size', values.size) ?? 512;
  const t0 = performance.now();
  const { volume, truth } = renderHeadPhantom({
    seed, sliceThickness: thickness, tiltDegrees: numberOption('--tilt', values.tilt) ?? 0, noiseHu: numberOption('--noise', values.noise) ?? 4,
    rows: size, columns: size, pixelSpacing: (0.45 * 512) / size, bleeds, confounders: parseConfounders(values.confounders ?? 'none'),
    midlineShiftMm: numberOption('--midline-shift', values['midline-shift']),
  });
  const ms = performance.now() - t0;
  const w = await writePhantomSeries(volume, truth, { dir: values.out, intercept });
  process.stdout.write(`wrote ${w.files.length} slices (${volume.dims[0]}x${volume.dims[1]}, ${thickness} mm, tilt ${volume.tiltDegrees} deg, intercept ${intercept}) to ${w.dir}, rendered in ${ms.toFixed(0)} ms\n`);
  process.stdout.write(`series ${w.seriesInstanceUid}\ntruth: ${w.truthPath}\n`);
  if (!truth.bleeds.length) process.stdout.write('  no bleed\n');
  for (const b of truth.bleeds) process.stdout.write(`  ${b.subtype} ${b.side} ${b.location}: ${b.volumeMl} mL at [${b.centroidMm.join(', ')}] mm, ${b.hu} HU\n`);
  if (truth.midlineShiftMm) process.stdout.write(`  midline shift ${truth.midlineShiftMm} mm\n`);
  return 0;
}

/** Parses --bleed SUBTYPE:VOLUME_ML[:LOCATION[:SIDE]] (also used by `medge demo`). */
export function parseBleed(spec: string): BleedSpec {
  const [subtype, vol, location, side] = spec.split(':');
  if (!BLEED_SUBTYPES.includes(subtype as BleedSubtype)) throw usage(`--bleed ${spec}: subtype must be one of ${BLEED_SUBTYPES.join(', ')}`);
  const volumeMl = Number(vol);
  if (!(volumeMl >= 0.01 && volumeMl <= 200)) throw usage(`--bleed ${spec}: volume must be a number of mL (0.1 to 80)`);
  if (location && !LOCATIONS.includes(location as LocationName)) throw usage(`--bleed ${spec}: location must be one of ${LOCATIONS.join(', ')}`);
  if (side && !['left', 'right', 'midline'].includes(side)) throw usage(`--bleed ${spec}: side must be left, right or midline`);
  const b: BleedSpec = { subtype: subtype as BleedSubtype, volumeMl };
  if (location) b.location = location as LocationName;
  if (side) b.side = side as Side;
  return b;
}

function parseConfounders(v: string): Confounders {
  if (v === 'all') return { pinealCalcification: true, choroidPlexusCalcification: true, beamHardening: true, falxCalcification: true };
  if (v === 'none') return {};
  const c: Confounders = {};
  for (const name of v.split(',')) {
    if (name === 'pineal') c.pinealCalcification = true;
    else if (name === 'choroid') c.choroidPlexusCalcification = true;
    else if (name === 'beam') c.beamHardening = true;
    else if (name === 'falx') c.falxCalcification = true;
    else throw usage(`--confounders: unknown '${name}' (all, none, or pineal,choroid,beam,falx)`);
  }
  return c;
}

function numberOption(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw usage(`${flag} must be a number, got '${v}'`);
  return n;
}

function usage(message: string): MedgeError {
  return new MedgeError('MEDGE_ERR_CLI_USAGE', `${message}; see 'medge phantom --help'`);
}
