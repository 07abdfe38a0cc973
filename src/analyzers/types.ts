import type { Volume, Vec3 } from '../imaging/volume.js';

/** Which series an analyzer applies to, as data (house style 9). */
export interface AnalyzerManifest {
  id: string;
  version: string;
  description: string;
  /** Modalities (0008,0060) it accepts, e.g. ['CT']. */
  modalities: string[];
  /** Time limit per series, ms. */
  timeLimitMs: number;
}

export type AnalysisStatus = 'positive' | 'negative' | 'not-applicable' | 'not-assessable' | 'failed';

export type IchSubtype = 'intraparenchymal' | 'intraventricular' | 'subdural' | 'epidural' | 'subarachnoid';

export interface Finding {
  type: 'intracranial-hemorrhage';
  subtype: IchSubtype;
  side: 'left' | 'right' | 'bilateral' | 'midline';
  /** Anatomical region in words (e.g. 'frontal', 'temporoparietal', 'basal ganglia', 'lateral ventricle'). */
  region: string;
  volumeMl: number;
  /** Centroid in patient coordinates (LPS), mm. */
  centroidMm: Vec3;
  /** First and last slice index (0-based, in the volume's order) that contain the finding. */
  sliceRange: [number, number];
  /** Extra-axial bleeds: largest thickness perpendicular to the inner table, mm. */
  maxThicknessMm?: number;
  /** 0 to 1. */
  confidence: number;
  /** Voxel mask over the volume (1 = in the finding), same layout as Volume.data. */
  mask: Uint8Array;
}

export interface AnalysisResult {
  status: AnalysisStatus;
  /** Why not-applicable, not-assessable or failed. */
  reason?: string;
  findings: Finding[];
  midlineShiftMm?: number;
}

/** An analyzer: a manifest and one function (house style 9). */
export interface Analyzer {
  manifest: AnalyzerManifest;
  /** Whether the series suits the analyzer; a reason when it does not ('not-applicable'). */
  applies(volume: Volume): { ok: true } | { ok: false; reason: string };
  analyze(volume: Volume): AnalysisResult;
}
