import type { AnalysisResult, Finding } from '../analyzers/types.js';
import { el, tag, writePart10, type DataElement } from '../dicom/dataset-writer.js';
import { TS } from '../dicom/uids.js';
import { CODES, LOCAL_SCHEME, regionCode, sideCode, SUBTYPE_CODES, SUBTYPE_WORDS } from './ich-codes.js';
import { algorithmName, commonElements, deviceUid, SERIES_NUMBERS, type Provenance } from './result-modules.js';
import type { ResultsContext } from './results-context.js';
import { rootElements, sr, type ContentItem } from './sr-content.js';

/** Comprehensive 3D SR Storage (PS3.4 B.5, PS3.3 A.35.13). */
export const COMPREHENSIVE_3D_SR = '1.2.840.10008.5.1.4.1.1.88.34';
export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';

/** A finding as the SR reports it: its tracking UID and, when the SEG holds it, its segment number. */
export interface ReportedFinding {
  finding: Finding;
  trackingUid: string;
  segmentNumber?: number;
}

export interface SrInput {
  ctx: ResultsContext;
  prov: Provenance;
  result: AnalysisResult;
  findings: ReportedFinding[];
  /** The SEG instance when one was made (referenced by the groups, listed as other evidence). */
  seg?: { sopInstanceUid: string; seriesInstanceUid: string };
  sopInstanceUid: string;
  seriesInstanceUid: string;
}

export const NOT_FOR_DIAGNOSIS = 'NOT FOR DIAGNOSIS';

/** One decimal for mL and mm, as the alert shows them. */
export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** A short text of a finding: "Subdural 12.3 mL left frontal". */
export function findingWords(f: Finding): string {
  return `${SUBTYPE_WORDS[f.subtype]} ${round1(f.volumeMl)} mL ${f.side} ${f.region}`;
}

/** TID 4019 Algorithm Identification. */
function algorithmId(prov: Provenance): ContentItem[] {
  return [
    sr.text('HAS CONCEPT MOD', CODES.algorithmName, algorithmName(prov.analyzer)),
    sr.text('HAS CONCEPT MOD', CODES.algorithmVersion, prov.analyzer.version),
  ];
}

/** TID 4108 Tracking Identifier. */
function tracking(id: string, uid: string): ContentItem[] {
  return [sr.text('HAS OBS CONTEXT', CODES.trackingIdentifier, id), sr.uidref('HAS OBS CONTEXT', CODES.trackingUid, uid)];
}

/**
 * One finding as TID 1411 Volumetric ROI Measurements: the TID 1500 measurement group that can
 * reference a SEG segment (TID 1501 has no region of interest); when there is no SEG the group is a
 * TID 1501 one with the same content less the reference.
 */
function findingGroup(r: ReportedFinding, index: number, ctx: ResultsContext, prov: Provenance, seg: SrInput['seg']): ContentItem {
  const f = r.finding;
  const items: ContentItem[] = [
    ...tracking(`ICH ${index + 1}: ${findingWords(f)}`.slice(0, 64), r.trackingUid),
    sr.code('CONTAINS', CODES.finding, SUBTYPE_CODES[f.subtype]),
  ];
  const roi = seg && r.segmentNumber !== undefined;
  if (roi) {
    items.push(
      { type: 'IMAGE', rel: 'CONTAINS', name: CODES.referencedSegment, sopClassUid: SEGMENTATION_STORAGE, sopInstanceUid: seg.sopInstanceUid, segment: r.segmentNumber },
      sr.uidref('CONTAINS', CODES.sourceSeriesForSegmentation, ctx.sourceSeriesUid),
    );
  }
  items.push(
    sr.code('HAS CONCEPT MOD', CODES.findingSite, regionCode(f.region), [sr.code('HAS CONCEPT MOD', CODES.laterality, sideCode(f.side))]),
    ...algorithmId(prov),
    sr.num('CONTAINS', CODES.volume, f.volumeMl, CODES.ml),
  );
  if (f.maxThicknessMm !== undefined) {
    items.push(sr.num('CONTAINS', CODES.thickness, f.maxThicknessMm, CODES.mm, [sr.code('HAS CONCEPT MOD', CODES.derivation, CODES.maximum)]));
  }
  items.push(sr.num('CONTAINS', CODES.certaintyOfFinding, Math.round(f.confidence * 1000) / 10, CODES.percent));
  return sr.container('CONTAINS', CODES.measurementGroup, items, roi ? '1411' : '1501');
}

/** Midline shift as a TID 1501 group (a measurement without a region). */
function midlineGroup(shiftMm: number, prov: Provenance, uid: string): ContentItem {
  return sr.container('CONTAINS', CODES.measurementGroup, [
    ...tracking('Midline shift', uid),
    sr.code('HAS CONCEPT MOD', CODES.findingSite, CODES.brain),
    ...algorithmId(prov),
    sr.num('CONTAINS', CODES.midlineShift, shiftMm, CODES.mm),
  ], '1501');
}

/** What the analysis concluded, as TID 1500's Qualitative Evaluations (row 12): present, absent or unknown, and the caveat. */
function conclusion(input: SrInput): ContentItem {
  const { result, prov } = input;
  const value = result.status === 'positive' ? CODES.present : result.status === 'negative' ? CODES.absent : CODES.unknown;
  const who = `${algorithmName(prov.analyzer)} ${prov.analyzer.version}`;
  const summary = result.status === 'positive'
    ? `Intracranial hemorrhage found: ${input.findings.map((r) => findingWords(r.finding)).join('; ')}.`
    : result.status === 'negative' ? 'No intracranial hemorrhage found.' : `Not assessed (${result.status}): ${result.reason ?? 'no reason given'}.`;
  return sr.container('CONTAINS', CODES.qualitativeEvaluations, [
    sr.code('CONTAINS', CODES.intracranialHemorrhage, value),
    sr.text('CONTAINS', CODES.comment, `${summary} Automated result of ${who}, not reviewed by a physician. ${NOT_FOR_DIAGNOSIS}.`),
  ]);
}

/** The TID 1500 content tree. */
export function measurementReport(input: SrInput, midlineUid: string): ContentItem[] {
  const { ctx, prov, result } = input;
  const observer: ContentItem[] = [
    sr.code('HAS OBS CONTEXT', CODES.observerType, CODES.device),
    sr.uidref('HAS OBS CONTEXT', CODES.deviceObserverUid, deviceUid(prov.analyzer)),
    sr.text('HAS OBS CONTEXT', CODES.deviceObserverName, algorithmName(prov.analyzer)),
    sr.text('HAS OBS CONTEXT', CODES.deviceObserverManufacturer, 'medge'),
    sr.text('HAS OBS CONTEXT', CODES.deviceObserverModelName, `${prov.analyzer.id} ${prov.analyzer.version}`),
  ];
  // TID 1600 Image Library: one group for the series, its shared descriptors (TID 1602) at group level.
  const groupItems: ContentItem[] = [sr.code('HAS ACQ CONTEXT', CODES.modality, { value: ctx.modality, scheme: 'DCM', meaning: ctx.modality === 'CT' ? 'Computed Tomography' : ctx.modality })];
  if (ctx.frameOfReferenceUid) groupItems.push(sr.uidref('HAS ACQ CONTEXT', CODES.frameOfReferenceUid, ctx.frameOfReferenceUid));
  for (const s of ctx.slices) {
    groupItems.push({ type: 'IMAGE', rel: 'CONTAINS', name: { value: '260753009', scheme: 'SCT', meaning: 'Source' }, sopClassUid: s.sopClassUid, sopInstanceUid: s.sopInstanceUid, ...(s.frame !== undefined ? { frame: s.frame } : {}) });
  }
  const content: ContentItem[] = [
    sr.code('HAS CONCEPT MOD', CODES.language, CODES.englishUs),
    ...observer,
    sr.code('HAS CONCEPT MOD', CODES.procedureReported, CODES.ctHead),
    sr.container('CONTAINS', CODES.imageLibrary, [sr.container('CONTAINS', CODES.imageLibraryGroup, groupItems)]),
  ];
  const groups = input.findings.map((r, i) => findingGroup(r, i, ctx, prov, input.seg));
  if (result.midlineShiftMm !== undefined) groups.push(midlineGroup(result.midlineShiftMm, prov, midlineUid));
  if (groups.length > 0) content.push(sr.container('CONTAINS', CODES.imagingMeasurements, groups));
  content.push(conclusion(input));
  return content;
}

/** The Comprehensive 3D SR (PS3.3 A.35.13) as a Part 10 file. */
export function buildSr(input: SrInput, midlineUid: string): Buffer {
  const { ctx, prov } = input;
  const refs = new Map<string, { sopClassUid: string; sopInstanceUid: string }>();
  for (const s of ctx.instances) refs.set(s.sopInstanceUid, s);
  const elements: DataElement[] = [
    ...commonElements({
      ctx, prov, sopClassUid: COMPREHENSIVE_3D_SR, sopInstanceUid: input.sopInstanceUid, seriesInstanceUid: input.seriesInstanceUid,
      modality: 'SR', seriesNumber: SERIES_NUMBERS.sr, seriesDescription: `${algorithmName(prov.analyzer)} report (${NOT_FOR_DIAGNOSIS})`, instanceNumber: 1,
    }),
    // SOP Common (C.12.1.1.2): the local coding scheme.
    el(tag(0x0008, 0x0110), 'SQ', [[
      el(tag(0x0008, 0x0102), 'SH', LOCAL_SCHEME.designator),
      el(tag(0x0008, 0x0115), 'ST', LOCAL_SCHEME.name),
      el(tag(0x0008, 0x0116), 'ST', LOCAL_SCHEME.organization),
    ]]),
    el(tag(0x0008, 0x1111), 'SQ', []), // Referenced Performed Procedure Step Sequence (Type 2)
    // SR Document General (C.17.2): a machine's preliminary, unverified result.
    el(tag(0x0040, 0xa491), 'CS', 'COMPLETE'),
    el(tag(0x0040, 0xa492), 'LO', `Automated analysis, ${NOT_FOR_DIAGNOSIS.toLowerCase()}`),
    el(tag(0x0040, 0xa493), 'CS', 'UNVERIFIED'),
    el(tag(0x0040, 0xa496), 'CS', 'PRELIMINARY'),
    el(tag(0x0040, 0xa372), 'SQ', []), // Performed Procedure Code Sequence (Type 2)
    el(tag(0x0040, 0xa375), 'SQ', [[ // Current Requested Procedure Evidence Sequence (C.17-3 Hierarchical SOP Instance Reference)
      el(tag(0x0020, 0x000d), 'UI', ctx.studyInstanceUid),
      el(tag(0x0008, 0x1115), 'SQ', [[
        el(tag(0x0020, 0x000e), 'UI', ctx.sourceSeriesUid),
        el(tag(0x0008, 0x1199), 'SQ', [...refs.values()].map((r) => [el(tag(0x0008, 0x1150), 'UI', r.sopClassUid), el(tag(0x0008, 0x1155), 'UI', r.sopInstanceUid)])),
      ]]),
    ]]),
    ...(input.seg ? [otherEvidence(ctx, input.seg)] : []),
    ...rootElements(CODES.imagingMeasurementReport, '1500', measurementReport(input, midlineUid)),
  ];
  return writePart10({ mediaStorageSopClassUid: COMPREHENSIVE_3D_SR, mediaStorageSopInstanceUid: input.sopInstanceUid, transferSyntaxUid: TS.ExplicitVRLittleEndian }, elements);
}

/**
 * Pertinent Other Evidence Sequence (C.17.2.3): the SEG the measurement groups reference. Every
 * instance an SR references must be listed in one of the two evidence sequences; the SEG is not
 * evidence of the requested procedure itself.
 */
function otherEvidence(ctx: ResultsContext, seg: { sopInstanceUid: string; seriesInstanceUid: string }): DataElement {
  return el(tag(0x0040, 0xa385), 'SQ', [[
    el(tag(0x0020, 0x000d), 'UI', ctx.studyInstanceUid),
    el(tag(0x0008, 0x1115), 'SQ', [[
      el(tag(0x0020, 0x000e), 'UI', seg.seriesInstanceUid),
      el(tag(0x0008, 0x1199), 'SQ', [[el(tag(0x0008, 0x1150), 'UI', SEGMENTATION_STORAGE), el(tag(0x0008, 0x1155), 'UI', seg.sopInstanceUid)]]),
    ]]),
  ]]);
}
