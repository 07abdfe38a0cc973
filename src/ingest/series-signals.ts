import type { InstanceHeader } from '../dicom/header.js';
import type { SeriesSignals } from './types.js';

/** The attributes of a parsed header that the pipeline needs, carried in the 'instance-stored' outcome. */
export function seriesSignals(h: InstanceHeader): SeriesSignals {
  const counts = [count(h.imagesInAcquisition), count(h.seriesRelatedInstances)].filter((n): n is number => n !== null);
  return {
    modality: h.modality,
    studyDescription: h.studyDescription,
    seriesDescription: h.seriesDescription,
    protocolName: h.protocolName ?? null,
    imagePosition: h.imagePosition,
    imageOrientation: h.imageOrientation,
    expectedInstances: counts.length > 0 ? Math.max(...counts) : null,
  };
}

/** An IS value (PS3.5 6.2) as a positive count, or null. */
function count(v: string | null | undefined): number | null {
  if (!v) return null;
  const n = Number.parseInt(v.trim(), 10);
  return Number.isFinite(n) && n > 0 ? n : null;
}
