import { el, tag, type DataElement } from '../dataset-writer.js';

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

/** What varies between the synthetic CT series medge writes (test series, phantoms). */
export interface CtSeriesDescription {
  studyUid: string;
  seriesUid: string;
  frameOfReferenceUid: string;
  /** DA and TM of the study, series and content. */
  date: string;
  time: string;
  patientName: string;
  patientId: string;
  studyDescription: string;
  seriesNumber: number;
  seriesDescription: string;
  /** Manufacturer and model name (General Equipment). */
  manufacturer: string;
  model: string;
  rows: number;
  columns: number;
  /** Pixel Spacing as stored: row spacing, column spacing (mm, PS3.3 10.7.1.3). */
  pixelSpacing: [number, number];
  /** Image Orientation (Patient): row then column direction cosines. */
  orientation: number[];
  sliceThickness: number;
  /** Rescale Intercept (slope 1). */
  intercept: number;
  /** Pixel Representation 1: stored values are two's complement. */
  signedPixels: boolean;
  scanOptions: 'AXIAL' | 'HELICAL_CT';
  /** Gantry/Detector Tilt (0018,1120), degrees; left out when undefined. */
  gantryTiltDegrees?: number;
}

/**
 * The attributes every slice of a synthetic CT series shares, module by module (PS3.3 A.3.3,
 * Table A.3-1): enough for dciodvfy to find no error. Per-slice attributes (SOP Instance UID,
 * Instance Number, Image Position, Slice Location, Pixel Data) are the caller's.
 */
export function ctImageCommonElements(d: CtSeriesDescription): DataElement[] {
  const fieldOfView = d.columns * d.pixelSpacing[1];
  const elements: DataElement[] = [
    // SOP Common (C.12.1)
    el(tag(0x0008, 0x0016), 'UI', CT_IMAGE_STORAGE),
    el(tag(0x0008, 0x0005), 'CS', 'ISO_IR 100'),
    // Patient (C.7.1.1): synthetic, never a real person
    el(tag(0x0010, 0x0010), 'PN', d.patientName),
    el(tag(0x0010, 0x0020), 'LO', d.patientId),
    el(tag(0x0010, 0x0030), 'DA', ''),
    el(tag(0x0010, 0x0040), 'CS', 'O'),
    // General Study (C.7.2.1)
    el(tag(0x0020, 0x000d), 'UI', d.studyUid),
    el(tag(0x0008, 0x0020), 'DA', d.date),
    el(tag(0x0008, 0x0030), 'TM', d.time),
    el(tag(0x0008, 0x0090), 'PN', ''),
    el(tag(0x0020, 0x0010), 'SH', '1'),
    el(tag(0x0008, 0x0050), 'SH', ''),
    el(tag(0x0008, 0x1030), 'LO', d.studyDescription),
    // General Series (C.7.3.1); Patient Position is Type 2C, required for CT (C.7.3.1.1.2)
    el(tag(0x0008, 0x0060), 'CS', 'CT'),
    el(tag(0x0020, 0x000e), 'UI', d.seriesUid),
    el(tag(0x0020, 0x0011), 'IS', d.seriesNumber),
    el(tag(0x0008, 0x0021), 'DA', d.date),
    el(tag(0x0008, 0x0031), 'TM', d.time),
    el(tag(0x0008, 0x103e), 'LO', d.seriesDescription),
    el(tag(0x0018, 0x0015), 'CS', 'HEAD'),
    el(tag(0x0018, 0x5100), 'CS', 'HFS'),
    // Frame of Reference (C.7.4.1)
    el(tag(0x0020, 0x0052), 'UI', d.frameOfReferenceUid),
    el(tag(0x0020, 0x1040), 'LO', ''),
    // General Equipment (C.7.5.1)
    el(tag(0x0008, 0x0070), 'LO', d.manufacturer),
    el(tag(0x0008, 0x1090), 'LO', d.model),
    // General Image (C.7.6.1); Content Date/Time are 2C for temporally related series
    el(tag(0x0008, 0x0023), 'DA', d.date),
    el(tag(0x0008, 0x0033), 'TM', d.time),
    el(tag(0x0020, 0x0012), 'IS', 1),
    // Image Plane (C.7.6.2)
    el(tag(0x0028, 0x0030), 'DS', d.pixelSpacing),
    el(tag(0x0020, 0x0037), 'DS', d.orientation),
    el(tag(0x0018, 0x0050), 'DS', d.sliceThickness),
    // Image Pixel (C.7.6.3) and CT Image (C.8.2.1)
    el(tag(0x0028, 0x0002), 'US', 1),
    el(tag(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    el(tag(0x0028, 0x0010), 'US', d.rows),
    el(tag(0x0028, 0x0011), 'US', d.columns),
    el(tag(0x0028, 0x0100), 'US', 16),
    el(tag(0x0028, 0x0101), 'US', 16),
    el(tag(0x0028, 0x0102), 'US', 15),
    el(tag(0x0028, 0x0103), 'US', d.signedPixels ? 1 : 0),
    el(tag(0x0008, 0x0008), 'CS', ['ORIGINAL', 'PRIMARY', 'AXIAL']),
    el(tag(0x0028, 0x1052), 'DS', d.intercept),
    el(tag(0x0028, 0x1053), 'DS', 1),
    el(tag(0x0028, 0x1054), 'LO', 'HU'),
    el(tag(0x0018, 0x0060), 'DS', 120),
    el(tag(0x0018, 0x0022), 'CS', d.scanOptions),
    el(tag(0x0018, 0x0090), 'DS', fieldOfView),
    el(tag(0x0018, 0x1100), 'DS', fieldOfView),
    el(tag(0x0018, 0x1210), 'SH', 'STANDARD'),
    // VOI LUT (C.11.2): a brain window
    el(tag(0x0028, 0x1050), 'DS', 40),
    el(tag(0x0028, 0x1051), 'DS', 80),
  ];
  if (d.gantryTiltDegrees !== undefined) elements.push(el(tag(0x0018, 0x1120), 'DS', d.gantryTiltDegrees));
  return elements;
}

/** DA (YYYYMMDD) and TM (HHMMSS) in local time, PS3.5 6.2. */
export function dicomDateTime(d: Date): [string, string] {
  const p = (n: number) => String(n).padStart(2, '0');
  return [`${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`, `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`];
}
