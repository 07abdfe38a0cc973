import type { Finding, IchSubtype } from '../analyzers/types.js';

/**
 * Coded concepts the result objects use (PS3.3 8.8, Code Sequence Macro): code value, coding scheme
 * designator, code meaning. Every SNOMED CT (SCT), DICOM (DCM), LOINC (LN) and UCUM code here was
 * checked against the context groups of PS3.16 as pydicom's code dictionary carries them, except the
 * three hemorrhage disorders named below; concepts with no standard code we could confirm use the
 * local scheme 99MEDGE (PS3.16 8: designators beginning with "99" are private), declared in the
 * SR's Coding Scheme Identification Sequence.
 */
export interface Code {
  value: string;
  scheme: string;
  meaning: string;
}

const sct = (value: string, meaning: string): Code => ({ value, scheme: 'SCT', meaning });
const dcm = (value: string, meaning: string): Code => ({ value, scheme: 'DCM', meaning });

/** The local coding scheme (PS3.3 C.12.1.1.2, Coding Scheme Identification Sequence). */
export const LOCAL_SCHEME = { designator: '99MEDGE', name: 'medge local codes', organization: 'medge project' } as const;
const local = (value: string, meaning: string): Code => ({ value, scheme: LOCAL_SCHEME.designator, meaning });

export const CODES = {
  // TID 1500 and its sub-templates (PS3.16 A.... TID 1500, 1204, 1001, 1002, 1004, 1600, 1411, 1501, 4019, 4108).
  imagingMeasurementReport: dcm('126000', 'Imaging Measurement Report'),
  language: dcm('121049', 'Language of Content Item and Descendants'),
  englishUs: { value: 'en-US', scheme: 'RFC5646', meaning: 'English (United States)' },
  observerType: dcm('121005', 'Observer Type'),
  device: dcm('121007', 'Device'),
  deviceObserverUid: dcm('121012', 'Device Observer UID'),
  deviceObserverName: dcm('121013', 'Device Observer Name'),
  deviceObserverManufacturer: dcm('121014', 'Device Observer Manufacturer'),
  deviceObserverModelName: dcm('121015', 'Device Observer Model Name'),
  procedureReported: dcm('121058', 'Procedure reported'),
  ctHead: sct('303653007', 'Computed tomography of head'),
  imageLibrary: dcm('111028', 'Image Library'),
  imageLibraryGroup: dcm('126200', 'Image Library Group'),
  modality: dcm('121139', 'Modality'),
  frameOfReferenceUid: dcm('112227', 'Frame of Reference UID'),
  imagingMeasurements: dcm('126010', 'Imaging Measurements'),
  measurementGroup: dcm('125007', 'Measurement Group'),
  trackingIdentifier: dcm('112039', 'Tracking Identifier'),
  trackingUid: dcm('112040', 'Tracking Unique Identifier'),
  finding: dcm('121071', 'Finding'),
  findingSite: sct('363698007', 'Finding Site'),
  laterality: sct('272741003', 'Laterality'),
  algorithmName: dcm('111001', 'Algorithm Name'),
  algorithmVersion: dcm('111003', 'Algorithm Version'),
  referencedSegment: dcm('121191', 'Referenced Segment'),
  sourceSeriesForSegmentation: dcm('121232', 'Source series for segmentation'),
  volume: sct('118565006', 'Volume'),
  thickness: { value: '59089-3', scheme: 'LN', meaning: 'Thickness' },
  derivation: dcm('121401', 'Derivation'),
  maximum: sct('56851009', 'Maximum'),
  certaintyOfFinding: dcm('111012', 'Certainty of Finding'),
  qualitativeEvaluations: { value: 'C0034375', scheme: 'UMLS', meaning: 'Qualitative Evaluations' },
  comment: dcm('121106', 'Comment'),
  present: sct('52101004', 'Present'),
  absent: sct('272519000', 'Absent'),
  unknown: sct('261665006', 'Unknown'),
  intracranialHemorrhage: sct('1386000', 'Intracranial hemorrhage'),
  midlineShift: local('MLS', 'Midline shift'),
  brain: sct('12738006', 'Brain'),
  // Units (UCUM, CID 7181 / 82).
  ml: { value: 'ml', scheme: 'UCUM', meaning: 'milliliter' },
  mm: { value: 'mm', scheme: 'UCUM', meaning: 'millimeter' },
  percent: { value: '%', scheme: 'UCUM', meaning: 'Percent' },
  // SEG (PS3.3 C.8.20.2): CID 7150 category, CID 7151 type, CID 7162 algorithm family, CID 7203 derivation.
  morphologicallyAbnormalStructure: sct('49755003', 'Morphologically Abnormal Structure'),
  hemorrhage: sct('50960005', 'Hemorrhage'),
  neighborhoodAnalysis: dcm('123101', 'Neighborhood Analysis'),
  segmentation: dcm('113076', 'Segmentation'),
  // PS3.16 CID 7202 and CID 7005.
  sourceImageForProcessing: dcm('121322', 'Source image for image processing operation'),
  processingEquipment: dcm('109102', 'Processing Equipment'),
} as const satisfies Record<string, Code>;

/**
 * The subtype as a finding (TID 1501 "Finding"). Subarachnoid (21454007), subdural (35486000) and
 * cerebral (274100004) hemorrhage are SNOMED CT disorders; for epidural and intraventricular
 * hemorrhage we could not confirm a SNOMED CT code offline, so they are local codes (docs/results.md).
 */
export const SUBTYPE_CODES: Readonly<Record<IchSubtype, Code>> = {
  intraparenchymal: sct('274100004', 'Cerebral hemorrhage'),
  intraventricular: local('IVH', 'Intraventricular hemorrhage'),
  subdural: sct('35486000', 'Subdural intracranial hemorrhage'),
  epidural: local('EDH', 'Epidural hemorrhage'),
  subarachnoid: sct('21454007', 'Subarachnoid intracranial hemorrhage'),
};

/** Short words for labels and the key image caption. */
export const SUBTYPE_WORDS: Readonly<Record<IchSubtype, string>> = {
  intraparenchymal: 'Intraparenchymal',
  intraventricular: 'Intraventricular',
  subdural: 'Subdural',
  epidural: 'Epidural',
  subarachnoid: 'Subarachnoid',
};

/** Regions the ICH analyzer names (src/analyzers/ich/classify.ts) as anatomic codes (CID 7153/4). */
const REGION_CODES: Readonly<Record<string, Code>> = {
  frontal: sct('83251001', 'Frontal lobe'),
  parietal: sct('16630005', 'Parietal lobe'),
  temporal: sct('78277001', 'Temporal lobe'),
  occipital: sct('31065004', 'Occipital lobe'),
  thalamus: sct('119406000', 'Thalamus'),
  'lateral ventricle': sct('66720007', 'Lateral ventricle'),
};

/** The finding site of a region; regions without a confirmed code (basal ganglia, posterior fossa, basal cisterns) are the brain. */
export function regionCode(region: string): Code {
  return REGION_CODES[region] ?? CODES.brain;
}

/** Laterality (CID 245, Laterality with Median). */
export function sideCode(side: Finding['side']): Code {
  switch (side) {
    case 'left': return sct('7771000', 'Left');
    case 'right': return sct('24028007', 'Right');
    case 'bilateral': return sct('51440002', 'Bilateral');
    case 'midline': return dcm('130290', 'Median');
  }
}

/**
 * Recommended Display CIELab Value of each subtype's segment (PS3.3 C.10.7.1.1: L* 0..100 and
 * a*, b* -128..127 scaled to 0..65535; computed from sRGB with the D50 white point): red, blue,
 * yellow, orange, magenta; the same colours as the key image outlines.
 */
export const SUBTYPE_COLOURS: Readonly<Record<IchSubtype, { rgb: [number, number, number]; lab: [number, number, number] }>> = {
  intraparenchymal: { rgb: [255, 0, 0], lab: [35580, 53665, 50856] },
  intraventricular: { rgb: [0, 128, 255], lab: [35082, 35124, 14248] },
  subdural: { rgb: [255, 255, 0], lab: [63967, 28848, 56897] },
  epidural: { rgb: [255, 128, 0], lab: [44444, 44588, 52129] },
  subarachnoid: { rgb: [255, 0, 255], lab: [39432, 56938, 17348] },
};
