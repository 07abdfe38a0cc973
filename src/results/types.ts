import type { AnalysisResult } from '../analyzers/types.js';
import type { Volume } from '../imaging/volume.js';

/**
 * What the result writers need to put an analysis back into its study as DICOM: the volume the
 * analyzer saw (geometry, and the SOP Instance UID and frame of every slice), the analysis with the
 * findings' voxel masks, and the source instances' Part 10 bytes (patient and study modules are
 * copied from them; the key image takes its pixels from the volume).
 */
export interface ResultsInput {
  volume: Volume;
  /** Part 10 bytes of the source instances, by SOP Instance UID (at least those named in volume.sources). */
  sources: ReadonlyMap<string, Buffer>;
  analyzer: { id: string; version: string };
  result: AnalysisResult;
  /** Creation time of the objects. */
  now: Date;
  /** Software version written in Contributing Equipment / Software Versions. */
  softwareVersion: string;
}

/** The result objects as Part 10 files (Explicit VR Little Endian), ready for ingest. */
export interface ResultObjects {
  /** Comprehensive 3D SR following TID 1500: always (a negative result says so). */
  sr: Buffer;
  /** DICOM Segmentation of the findings' masks: only when there are findings. */
  seg?: Buffer;
  /** Secondary capture of the slice with the largest finding cross-section, outline burned in: only when there are findings. */
  keyImage?: Buffer;
}
