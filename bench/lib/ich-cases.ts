import type { BleedSpec, BleedSubtype, Confounders, LocationName, PhantomParams } from '../../src/phantom/types.js';
import { mulberry32 } from '../../src/util/seeded-random.js';

/** The five subtypes, in the order the report lists them. */
export const SUBTYPES: readonly BleedSubtype[] = ['intraparenchymal', 'intraventricular', 'subdural', 'epidural', 'subarachnoid'];

/** Named places that suit each subtype (src/phantom/types.ts). */
const PLACES: Record<BleedSubtype, readonly LocationName[]> = {
  intraparenchymal: ['frontal', 'parietal', 'temporal', 'occipital', 'basal-ganglia', 'thalamus', 'cerebellum'],
  intraventricular: ['ventricle'],
  subdural: ['frontal', 'parietal', 'temporal', 'occipital', 'convexity'],
  epidural: ['frontal', 'parietal', 'temporal', 'occipital', 'convexity'],
  subarachnoid: ['convexity', 'sylvian', 'frontal', 'parietal', 'occipital', 'basal-cisterns'],
};

/** Slice thicknesses scanners use for head CT, mm (0.625 to 5). */
const THICKNESSES = [0.625, 1, 1.25, 2, 2.5, 3, 5];

export interface PhantomCase {
  id: number;
  kind: 'phantom';
  positive: boolean;
  params: PhantomParams;
  /** Rescale Intercept of the written files. */
  intercept: -1024 | 0;
  /** A short description for the log. */
  label: string;
}

/** The same seed draws the same cases. */
export const rng = mulberry32;

/** A volume in mL, log-uniform between lo and hi. */
export function logUniform(r: () => number, lo: number, hi: number): number {
  return Math.exp(Math.log(lo) + r() * (Math.log(hi) - Math.log(lo)));
}

/**
 * Draws `n` phantom cases from `seed`: half with one bleed (subtypes in turn, so every subtype gets
 * a fair share; volume 0.1 to 80 mL log-uniform; place and side at random), half without. Every case
 * draws its own slice thickness (0.625 to 5 mm), noise (2 to 8 HU), tilt (straight, or 10 to 25
 * degrees for 40 %), intercept (-1024 or 0), head size and shape, and confounders (half of the cases:
 * each of calcified pineal, choroid plexus, falx and beam hardening with probability 0.6).
 */
export function drawPhantomCases(n: number, seed: number): PhantomCase[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const cases: PhantomCase[] = [];
  const positives = Math.ceil(n / 2);
  // Subtypes dealt round-robin from a shuffled start so each gets positives/5 cases.
  const offset = Math.floor(r() * SUBTYPES.length);
  for (let i = 0; i < n; i++) {
    const positive = i < positives;
    const sliceThickness = pick(THICKNESSES);
    const tilted = r() < 0.4;
    const tiltDegrees = tilted ? Math.round((10 + 15 * r()) * 10) / 10 : 0;
    const noiseHu = Math.round((2 + 6 * r()) * 10) / 10;
    const intercept: -1024 | 0 = r() < 0.5 ? -1024 : 0;
    const withConfounders = r() < 0.5;
    const confounders: Confounders = withConfounders
      ? { pinealCalcification: r() < 0.6, choroidPlexusCalcification: r() < 0.6, falxCalcification: r() < 0.6, beamHardening: r() < 0.6 }
      : {};
    const bleeds: BleedSpec[] = [];
    if (positive) {
      const subtype = SUBTYPES[(offset + i) % SUBTYPES.length]!;
      const location = pick(PLACES[subtype]);
      const side = location === 'basal-cisterns' ? 'midline' : r() < 0.5 ? 'left' : 'right';
      bleeds.push({ subtype, volumeMl: Math.round(logUniform(r, 0.1, 80) * 1000) / 1000, location, side });
    }
    const params: PhantomParams = {
      seed: Math.floor(r() * 2 ** 31),
      sliceThickness,
      tiltDegrees,
      noiseHu,
      headScale: Math.round((0.9 + 0.2 * r()) * 100) / 100,
      shapeVariation: 0.05,
      bleeds,
      confounders,
    };
    const conf = Object.entries(confounders).filter(([, on]) => on).map(([k]) => k.replace(/Calcification$/, ''));
    const b = bleeds[0];
    const label =
      `${b ? `${b.subtype} ${b.volumeMl} mL ${String(b.location)} ${b.side}` : 'no bleed'}, ${sliceThickness} mm, ` +
      `tilt ${tiltDegrees}, noise ${noiseHu} HU, intercept ${intercept}${conf.length ? `, ${conf.join('+')}` : ''}`;
    cases.push({ id: i, kind: 'phantom', positive, params, intercept, label });
  }
  return cases;
}
