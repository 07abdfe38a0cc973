import { generateUid } from '../dicom/uids.js';
import { MedgeError } from '../errors.js';
import { buildKeyImage } from './key-image.js';
import { maskSlices } from './mask-slices.js';
import type { Provenance } from './result-modules.js';
import { readResultsContext } from './results-context.js';
import { buildSeg } from './seg-document.js';
import { buildSr, type ReportedFinding } from './sr-document.js';
import type { ResultObjects, ResultsInput } from './types.js';

/**
 * Builds the result objects of one analysis (docs/results.md), each in a new series of the source's
 * study: a Comprehensive 3D SR following TID 1500 (always; a negative result says so), and, when
 * there are findings with voxels, a BINARY Segmentation of their masks and a Secondary Capture key
 * image of the slice with the largest cross-section. Synchronous: it runs in the analysis worker.
 * Throws MEDGE_ERR_RESULTS_BUILD when the input cannot be written (a missing source, a bad mask).
 */
export function buildResults(input: ResultsInput): ResultObjects {
  try {
    return build(input);
  } catch (err) {
    if (err instanceof MedgeError) throw err;
    throw new MedgeError('MEDGE_ERR_RESULTS_BUILD', `the result objects could not be built: ${(err as Error).message}`, {}, err);
  }
}

function build(input: ResultsInput): ResultObjects {
  const { volume, result } = input;
  const ctx = readResultsContext(volume, input.sources);
  const prov: Provenance = { analyzer: input.analyzer, softwareVersion: input.softwareVersion, now: input.now };
  for (const f of result.findings) {
    if (f.mask.length !== volume.data.length) throw new MedgeError('MEDGE_ERR_RESULTS_BUILD', `a finding's mask has ${f.mask.length} voxels, the volume ${volume.data.length}`, {});
  }
  // Segment numbers only for findings that have voxels (PS3.3 C.8.20.2.4: numbered from 1, no gaps).
  const withCounts = result.findings.map((finding) => {
    const { counts, boxes } = maskSlices(volume, finding);
    return { finding, trackingUid: generateUid(), sliceCounts: counts, boxes };
  });
  let next = 1;
  const reported: Array<ReportedFinding & { sliceCounts: Int32Array; boxes: Int32Array }> = withCounts.map((f) =>
    f.sliceCounts.some((c) => c > 0) ? { ...f, segmentNumber: next++ } : f);
  const segments = reported.filter((f): f is typeof f & { segmentNumber: number } => f.segmentNumber !== undefined);
  const objects: Partial<ResultObjects> = {};
  let seg: { sopInstanceUid: string; seriesInstanceUid: string } | undefined;
  if (segments.length > 0) {
    seg = { sopInstanceUid: generateUid(), seriesInstanceUid: generateUid() };
    objects.seg = buildSeg({ ctx, prov, volume, segments, ...seg });
    objects.keyImage = buildKeyImage({ ctx, prov, volume, findings: segments, sopInstanceUid: generateUid(), seriesInstanceUid: generateUid() });
  }
  const sr = buildSr({ ctx, prov, result, findings: reported, ...(seg ? { seg } : {}), sopInstanceUid: generateUid(), seriesInstanceUid: generateUid() }, generateUid());
  return { sr, ...objects };
}
