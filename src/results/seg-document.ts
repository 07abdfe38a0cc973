import { el, tag, writePart10, type DataElement } from '../dicom/dataset-writer.js';
import { generateUid, TS } from '../dicom/uids.js';
import type { Volume } from '../imaging/volume.js';
import { CODES, regionCode, SUBTYPE_COLOURS, SUBTYPE_CODES, SUBTYPE_WORDS } from './ich-codes.js';
import { algorithmName, codeSequence, commonElements, SERIES_NUMBERS, type Provenance } from './result-modules.js';
import type { ResultsContext, SourceRef } from './results-context.js';
import { packBinaryFrames } from './seg-bits.js';
import { NOT_FOR_DIAGNOSIS, round1, SEGMENTATION_STORAGE, type ReportedFinding } from './sr-document.js';

export interface SegInput {
  ctx: ResultsContext;
  prov: Provenance;
  volume: Volume;
  /** Findings with their segment numbers (1..n) and per-slice voxel counts. */
  segments: Array<ReportedFinding & { segmentNumber: number; sliceCounts: Int32Array }>;
  sopInstanceUid: string;
  seriesInstanceUid: string;
}

/** Tags the dimensions point at (PS3.3 C.7.6.17.1). */
const REFERENCED_SEGMENT_NUMBER = tag(0x0062, 0x000b);
const SEGMENT_IDENTIFICATION_SEQUENCE = tag(0x0062, 0x000a);
const IMAGE_POSITION_PATIENT = tag(0x0020, 0x0032);
const PLANE_POSITION_SEQUENCE = tag(0x0020, 0x9113);

/** 6 significant decimals: DS holds 16 characters (PS3.5 6.2). */
const ds = (x: number) => Math.round(x * 1e6) / 1e6;

/** One Segment Sequence item (PS3.3 C.8.20.2, Table C.8.20-4). */
function segmentItem(s: SegInput['segments'][number], prov: Provenance): DataElement[] {
  const f = s.finding;
  const thickness = f.maxThicknessMm !== undefined ? `, max thickness ${round1(f.maxThicknessMm)} mm` : '';
  return [
    el(tag(0x0062, 0x0004), 'US', s.segmentNumber),
    el(tag(0x0062, 0x0005), 'LO', `${SUBTYPE_WORDS[f.subtype]} ${round1(f.volumeMl)} mL`),
    el(tag(0x0062, 0x0006), 'ST', `${SUBTYPE_CODES[f.subtype].meaning}, ${f.side} ${f.region}, ${round1(f.volumeMl)} mL${thickness}; ${NOT_FOR_DIAGNOSIS}`),
    el(tag(0x0062, 0x0008), 'CS', 'AUTOMATIC'),
    el(tag(0x0062, 0x0009), 'LO', algorithmName(prov.analyzer)),
    // Segmentation Algorithm Identification Sequence (Algorithm Identification Macro, C.10.29; family from CID 7162).
    el(tag(0x0062, 0x0007), 'SQ', [[
      codeSequence(tag(0x0066, 0x002f), CODES.neighborhoodAnalysis),
      el(tag(0x0066, 0x0031), 'LO', prov.analyzer.version),
      el(tag(0x0066, 0x0036), 'LO', algorithmName(prov.analyzer)),
    ]]),
    codeSequence(tag(0x0062, 0x0003), CODES.morphologicallyAbnormalStructure), // CID 7150
    codeSequence(tag(0x0062, 0x000f), CODES.hemorrhage), // CID 7151
    codeSequence(tag(0x0008, 0x2218), regionCode(f.region)), // Anatomic Region Sequence (General Anatomy Optional Macro)
    el(tag(0x0062, 0x000d), 'US', SUBTYPE_COLOURS[f.subtype].lab),
    el(tag(0x0062, 0x0020), 'UT', `ICH ${s.segmentNumber}`), // Tracking ID: the same finding as the SR's measurement group
    el(tag(0x0062, 0x0021), 'UI', s.trackingUid),
  ];
}

function sourceImageItem(ref: SourceRef): DataElement[] {
  const out: DataElement[] = [
    el(tag(0x0008, 0x1150), 'UI', ref.sopClassUid),
    el(tag(0x0008, 0x1155), 'UI', ref.sopInstanceUid),
    codeSequence(tag(0x0040, 0xa170), CODES.sourceImageForProcessing), // CID 7202
    el(tag(0x0028, 0x135a), 'CS', 'YES'), // Spatial Locations Preserved: the SEG has the source's grid
  ];
  if (ref.frame !== undefined) out.push(el(tag(0x0008, 0x1160), 'IS', ref.frame));
  return out;
}

/**
 * The findings' masks as a BINARY DICOM Segmentation (PS3.3 A.51): one segment per finding, one
 * frame per segment and slice where the segment has voxels, on the source's pixel grid (so every
 * frame derives from one source slice and its position is that slice's).
 */
export function buildSeg(input: SegInput): Buffer {
  const { ctx, prov, volume } = input;
  const [cols, rows] = volume.dims;
  const n = cols * rows;
  const frames: Array<{ segment: SegInput['segments'][number]; k: number }> = [];
  for (const s of input.segments) {
    for (let k = 0; k < s.sliceCounts.length; k++) if (s.sliceCounts[k]! > 0) frames.push({ segment: s, k });
  }
  if (frames.length === 0) throw new Error('buildSeg: no segment has a voxel');
  const dimensionUid = generateUid();
  const referenced = new Map<string, SourceRef>();
  const perFrame = frames.map(({ segment, k }) => {
    const ref = ctx.slices[k]!;
    referenced.set(ref.sopInstanceUid, ref);
    const p = volume.slicePositions[k]!;
    return [
      el(tag(0x0008, 0x9124), 'SQ', [[ // Derivation Image (C.7.6.16.2.6)
        codeSequence(tag(0x0008, 0x9215), CODES.segmentation),
        el(tag(0x0008, 0x2112), 'SQ', [sourceImageItem(ref)]),
      ]]),
      el(tag(0x0020, 0x9111), 'SQ', [[el(tag(0x0020, 0x9157), 'UL', [segment.segmentNumber, k + 1])]]), // Frame Content: Dimension Index Values
      el(PLANE_POSITION_SEQUENCE, 'SQ', [[el(IMAGE_POSITION_PATIENT, 'DS', [ds(p[0]), ds(p[1]), ds(p[2])])]]),
      el(SEGMENT_IDENTIFICATION_SEQUENCE, 'SQ', [[el(REFERENCED_SEGMENT_NUMBER, 'US', segment.segmentNumber)]]),
    ];
  });
  const packed = packBinaryFrames(frames.map((f) => ({ source: f.segment.finding.mask, start: f.k * n })), n);
  const orientation = [...volume.rowDirection, ...volume.columnDirection].map(ds);
  const thickness = volume.sliceThickness ?? volume.sliceSpan[0]!;
  const elements: DataElement[] = [
    ...commonElements({
      ctx, prov, sopClassUid: SEGMENTATION_STORAGE, sopInstanceUid: input.sopInstanceUid, seriesInstanceUid: input.seriesInstanceUid,
      modality: 'SEG', seriesNumber: SERIES_NUMBERS.seg, seriesDescription: `${algorithmName(prov.analyzer)} segmentation (${NOT_FOR_DIAGNOSIS})`, instanceNumber: 1,
    }),
    el(tag(0x0008, 0x0008), 'CS', ['DERIVED', 'PRIMARY']),
    // Common Instance Reference (C.12.2): the source slices the frames derive from.
    el(tag(0x0008, 0x1115), 'SQ', [[
      el(tag(0x0008, 0x114a), 'SQ', [...referenced.values()].map((r) => [el(tag(0x0008, 0x1150), 'UI', r.sopClassUid), el(tag(0x0008, 0x1155), 'UI', r.sopInstanceUid)])),
      el(tag(0x0020, 0x000e), 'UI', ctx.sourceSeriesUid),
    ]]),
    el(tag(0x0018, 0x1000), 'LO', 'none'), // Device Serial Number (Enhanced General Equipment, Type 1): software has none
    el(tag(0x0020, 0x0052), 'UI', ctx.frameOfReferenceUid ?? generateUid()),
    el(tag(0x0020, 0x1040), 'LO', ctx.positionReferenceIndicator),
    // Multi-frame Dimension (C.7.6.17): segment, then position along the stack.
    el(tag(0x0020, 0x9221), 'SQ', [[el(tag(0x0020, 0x9164), 'UI', dimensionUid)]]),
    el(tag(0x0020, 0x9222), 'SQ', [
      [el(tag(0x0020, 0x9164), 'UI', dimensionUid), el(tag(0x0020, 0x9165), 'AT', REFERENCED_SEGMENT_NUMBER), el(tag(0x0020, 0x9167), 'AT', SEGMENT_IDENTIFICATION_SEQUENCE), el(tag(0x0020, 0x9421), 'LO', 'Segment Number')],
      [el(tag(0x0020, 0x9164), 'UI', dimensionUid), el(tag(0x0020, 0x9165), 'AT', IMAGE_POSITION_PATIENT), el(tag(0x0020, 0x9167), 'AT', PLANE_POSITION_SEQUENCE), el(tag(0x0020, 0x9421), 'LO', 'Image Position Patient')],
    ]),
    // Image Pixel and Segmentation Image (C.8.20.2): 1-bit binary frames.
    el(tag(0x0028, 0x0002), 'US', 1),
    el(tag(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    el(tag(0x0028, 0x0008), 'IS', frames.length),
    el(tag(0x0028, 0x0010), 'US', rows),
    el(tag(0x0028, 0x0011), 'US', cols),
    el(tag(0x0028, 0x0100), 'US', 1),
    el(tag(0x0028, 0x0101), 'US', 1),
    el(tag(0x0028, 0x0102), 'US', 0),
    el(tag(0x0028, 0x0103), 'US', 0),
    el(tag(0x0028, 0x2110), 'CS', '00'),
    el(tag(0x0062, 0x0001), 'CS', 'BINARY'),
    el(tag(0x0062, 0x0002), 'SQ', input.segments.map((s) => segmentItem(s, prov))),
    el(tag(0x0062, 0x0013), 'CS', 'NO'), // Segments Overlap: the analyzer's findings are disjoint components
    el(tag(0x0070, 0x0080), 'CS', 'ICH'), // Content Label
    el(tag(0x0070, 0x0081), 'LO', `Intracranial hemorrhage, ${algorithmName(prov.analyzer)} ${prov.analyzer.version}`),
    el(tag(0x0070, 0x0084), 'PN', ''), // Content Creator's Name (Type 2): a device made it
    // Multi-frame Functional Groups (C.7.6.16): the grid is shared, position and source per frame.
    el(tag(0x5200, 0x9229), 'SQ', [[
      el(tag(0x0020, 0x9116), 'SQ', [[el(tag(0x0020, 0x0037), 'DS', orientation)]]),
      el(tag(0x0028, 0x9110), 'SQ', [[
        el(tag(0x0018, 0x0050), 'DS', ds(thickness)),
        el(tag(0x0028, 0x0030), 'DS', [ds(volume.pixelSpacing[1]), ds(volume.pixelSpacing[0])]),
      ]]),
    ]]),
    el(tag(0x5200, 0x9230), 'SQ', perFrame),
    el(tag(0x7fe0, 0x0010), 'OB', packed),
  ];
  return writePart10({ mediaStorageSopClassUid: SEGMENTATION_STORAGE, mediaStorageSopInstanceUid: input.sopInstanceUid, transferSyntaxUid: TS.ExplicitVRLittleEndian }, elements);
}
