import type { Vec3 } from '../imaging/volume.js';

/** The five subtypes of intracranial hemorrhage the phantom renders. */
export const BLEED_SUBTYPES = ['intraparenchymal', 'intraventricular', 'subdural', 'epidural', 'subarachnoid'] as const;
export type BleedSubtype = (typeof BLEED_SUBTYPES)[number];
export type Side = 'left' | 'right' | 'midline';

/**
 * Named places (anatomical frame, left side; 'right' mirrors x). Which names suit which subtype:
 * intraparenchymal: frontal, parietal, temporal, occipital, basal-ganglia, thalamus, cerebellum;
 * intraventricular: ventricle; subdural/epidural: frontal, parietal, temporal, occipital, convexity;
 * subarachnoid: convexity, sylvian, frontal, parietal, occipital, basal-cisterns.
 */
export const LOCATIONS = ['frontal', 'parietal', 'temporal', 'occipital', 'convexity', 'basal-ganglia', 'thalamus', 'cerebellum', 'ventricle', 'sylvian', 'basal-cisterns'] as const;
export type LocationName = (typeof LOCATIONS)[number];

export interface BleedSpec {
  subtype: BleedSubtype;
  /** Target volume, mL (0.1 to 80). The truth reports the volume of the shape actually drawn. */
  volumeMl: number;
  /** A named place, or a centre in patient coordinates (LPS, mm). Default: a typical place for the subtype. */
  location?: LocationName | Vec3;
  /** Default: left (midline for basal-cisterns). */
  side?: Side;
  /** Attenuation of the blood, HU; default drawn from 60..75 with the seed. */
  hu?: number;
}

export interface Confounders {
  /** Calcified pineal gland, 100-400 HU, 3-8 mm, midline behind the third ventricle. */
  pinealCalcification?: boolean;
  /** Calcified choroid plexus in both ventricular atria. */
  choroidPlexusCalcification?: boolean;
  /** Streaky raised HU (+10..+30) in the brain next to the skull base. */
  beamHardening?: boolean;
  /** Partly calcified falx (dense 1 mm plate), an extra bright midline structure. */
  falxCalcification?: boolean;
}

export interface PhantomParams {
  /** Seed of every random choice; the same params give the same voxels. Default 1. */
  seed?: number;
  rows?: number;
  columns?: number;
  /** Pixel spacing, mm (square pixels). Default 0.45. */
  pixelSpacing?: number;
  /** Slice thickness = spacing between slices along the normal, mm (0.625 to 5). Default 5. */
  sliceThickness?: number;
  /** Length of head covered along z, from the skull base upward, mm. Default 150. */
  coverageMm?: number;
  /** Gantry tilt, degrees: image planes rotated about x, slices stacked along z. Default 0. */
  tiltDegrees?: number;
  /** Gaussian noise standard deviation, HU. Default 4. */
  noiseHu?: number;
  /** Amplitude of smooth low-frequency variation (cupping-like), HU. Default 0. */
  lowFrequencyHu?: number;
  /** Overall head size factor (0.85..1.15). Default 1. */
  headScale?: number;
  /** Random shape variation of each axis, fraction (0..0.1): 0 gives the canonical head. Default 0. */
  shapeVariation?: number;
  bleeds?: BleedSpec[];
  confounders?: Confounders;
  /** Midline shift of ventricles, third ventricle, pineal and falx toward the contralateral side, mm.
   *  Default: from the total mass of supratentorial bleeds (0 below 10 mL). */
  midlineShiftMm?: number;
  /** Sub-lines per pixel row across the row height (anti-aliasing in the image plane). Default 2. */
  subRows?: number;
  /** Sub-planes per slice across its thickness. Default ceil(thickness / 0.7), at least 2. */
  subPlanes?: number;
  /** Also return per-voxel bleed labels and coverage (for tests and training). Default false. */
  labels?: boolean;
}

export interface BleedTruth {
  subtype: BleedSubtype;
  /** Volume of the continuous shape, mL (not of its voxelisation). */
  volumeMl: number;
  requestedVolumeMl: number;
  /** Centroid of the continuous shape, patient coordinates (LPS), mm. */
  centroidMm: Vec3;
  side: Side;
  location: string;
  hu: number;
  /** Maximum thickness, mm, for extra-axial bleeds (subdural, epidural). */
  maxThicknessMm?: number;
}

export interface PhantomTruth {
  bleeds: BleedTruth[];
  midlineShiftMm?: number;
  /** Every parameter, defaults filled in. */
  params: Required<Omit<PhantomParams, 'bleeds' | 'confounders' | 'midlineShiftMm'>> & { bleeds: BleedSpec[]; confounders: Confounders; midlineShiftMm: number };
}

export interface PhantomLabels {
  /** 0 outside bleeds, else 1-based index into truth.bleeds of the bleed covering most of the voxel. */
  label: Uint8Array;
  /** Fraction of the voxel covered by bleed (0..1). */
  coverage: Float32Array;
}
