import { deflateRawSync } from 'node:zlib';
import { el, tag, writeDataset, type DataElement, type TransferSyntax } from '../dataset-writer.js';
import { buildFileMeta } from '../part10.js';
import { CT_IMAGE_STORAGE, ctImageCommonElements } from '../synthetic/ct-image-modules.js';
import { generateUid, TS } from '../uids.js';

/**
 * A CT study whose every identifying attribute the project's writer can encode holds a sentinel:
 * text values contain SENTINELPHI and a number; UIDs, dates and times (which cannot hold letters)
 * are listed so that a test can look for them. Identifying values sit at the top level, in
 * sequences nested up to three deep, and in private elements (top level, nested, a private
 * sequence). For the de-identification tests here and the uplink's: no byte of a de-identified
 * copy may contain any of `sentinels`, `uids`, `dates` or `times`.
 */
export interface SentinelStudy {
  /** Part 10 files, one per slice. */
  files: Buffer[];
  sentinels: string[];
  uids: string[];
  dates: string[];
  times: string[];
  studyUid: string;
  seriesUid: string;
  sopInstanceUids: string[];
  /** The Native Pixel Data value of each file (the same for all), to check it is unchanged. */
  pixelData: Buffer;
  patientId: string;
  issuerOfPatientId: string;
}

export interface SentinelStudyOptions {
  slices?: number;
  transferSyntaxUid?: TransferSyntax | typeof TS.DeflatedExplicitVRLittleEndian;
  /** Matrix size of the small synthetic image; default 32. */
  size?: number;
  /** Image Comments (a descriptor) names the patient, their ID, birth date and phone, for Clean Descriptors:
   *  'HEAD CT for <family> JOHN born <date> id <ID> phone <number> ok'. */
  descriptionsMentionPatient?: boolean;
}

const LT_TEXT = 'free text typed by a person: ';

export function buildSentinelStudy(options: SentinelStudyOptions = {}): SentinelStudy {
  const slices = options.slices ?? 2;
  const size = options.size ?? 32;
  const ts = options.transferSyntaxUid ?? TS.ExplicitVRLittleEndian;
  let n = 0;
  const sentinels: string[] = [];
  /** A new sentinel, optionally inside some text: SENTINELPHI01, SENTINELPHI02... */
  const s = (before = '', after = ''): string => {
    const sentinel = `SENTINELPHI${String(++n).padStart(2, '0')}`;
    sentinels.push(sentinel);
    return `${before}${sentinel}${after}`;
  };
  const uids: string[] = [];
  const u = (): string => {
    const uid = generateUid();
    uids.push(uid);
    return uid;
  };
  const dates = ['19450312', '20230117', '20230118', '20230119', '19990707'];
  const times = ['134259.123456', '101112.654321', '225533.111111'];
  const [birth, studyDate, seriesDate, acquisitionDate, lastMenstrual] = dates as [string, string, string, string, string];
  const [studyTime, seriesTime, birthTime] = times as [string, string, string];
  const studyUid = u();
  const seriesUid = u();
  const frameOfReferenceUid = u();
  const familyName = s();
  const patientId = s('ID-');
  const issuerOfPatientId = s();
  const phone = s();
  const otherStudyInstanceUids = [u(), u()];
  const otherImageUid = u();

  const common = ctImageCommonElements({
    studyUid, seriesUid, frameOfReferenceUid, date: studyDate, time: studyTime,
    patientName: `${familyName}^JOHN`, patientId, studyDescription: s('HEAD ', ' CT'),
    seriesNumber: 1, seriesDescription: s('AXIAL '), manufacturer: 'MEDGE SYNTHETIC', model: 'sentinel study',
    rows: size, columns: size, pixelSpacing: [0.5, 0.5], orientation: [1, 0, 0, 0, 1, 0],
    sliceThickness: 1, intercept: -1024, signedPixels: true, scanOptions: 'AXIAL',
  });
  const replaced = new Map<number, DataElement>(common.map((e) => [e.tag, e]));
  const set = (...elements: DataElement[]) => elements.forEach((e) => replaced.set(e.tag, e));
  set(
    el(tag(0x0008, 0x0021), 'DA', seriesDate), el(tag(0x0008, 0x0031), 'TM', seriesTime),
    el(tag(0x0008, 0x0022), 'DA', acquisitionDate), el(tag(0x0008, 0x002a), 'DT', `${acquisitionDate}${studyTime}`),
    el(tag(0x0008, 0x0050), 'SH', s()), el(tag(0x0008, 0x0080), 'LO', s('', ' HOSPITAL')),
    el(tag(0x0008, 0x0081), 'ST', s('1 MAIN STREET ', ' CITY')), el(tag(0x0008, 0x0090), 'PN', s('', '^REFERRING')),
    el(tag(0x0008, 0x0092), 'ST', s('2 ELM ROAD ')), el(tag(0x0008, 0x0094), 'SH', s()),
    el(tag(0x0008, 0x1010), 'SH', s()), el(tag(0x0008, 0x1040), 'LO', s('DEPT ')),
    el(tag(0x0008, 0x1048), 'PN', s('', '^RECORD')), el(tag(0x0008, 0x1050), 'PN', s('', '^PERFORMING')),
    el(tag(0x0008, 0x1060), 'PN', s('', '^READING')), el(tag(0x0008, 0x1070), 'PN', [s('', '^OPERATOR'), s()]),
    el(tag(0x0008, 0x0014), 'UI', u()), el(tag(0x0008, 0x3010), 'UI', u()),
    el(tag(0x0010, 0x0021), 'LO', issuerOfPatientId), el(tag(0x0010, 0x0030), 'DA', birth), el(tag(0x0010, 0x0032), 'TM', birthTime),
    el(tag(0x0010, 0x1000), 'LO', s()), el(tag(0x0010, 0x1001), 'PN', s()), el(tag(0x0010, 0x1005), 'PN', s()),
    el(tag(0x0010, 0x1010), 'AS', '077Y'), el(tag(0x0010, 0x1040), 'LO', s('3 OAK LANE ')),
    el(tag(0x0010, 0x1060), 'PN', s()), el(tag(0x0010, 0x2154), 'SH', phone), el(tag(0x0010, 0x2180), 'SH', s()),
    el(tag(0x0010, 0x21b0), 'LT', s(LT_TEXT)), el(tag(0x0010, 0x21d0), 'DA', lastMenstrual),
    el(tag(0x0010, 0x4000), 'LT', s(LT_TEXT)),
    el(tag(0x0018, 0x1000), 'LO', s()), el(tag(0x0018, 0x1002), 'UI', u()), el(tag(0x0018, 0x1030), 'LO', s('PROTOCOL ')),
    el(tag(0x0018, 0x4000), 'LT', s(LT_TEXT)),
    el(tag(0x0020, 0x0010), 'SH', s()),
    el(tag(0x0020, 0x4000), 'LT', options.descriptionsMentionPatient ? `HEAD CT for ${familyName} JOHN born ${birth} id ${patientId} phone ${phone} ok` : s(LT_TEXT)),
    el(tag(0x0032, 0x1032), 'PN', s()), el(tag(0x0032, 0x1060), 'LO', s()),
    el(tag(0x0040, 0x0244), 'DA', studyDate), el(tag(0x0040, 0x0245), 'TM', studyTime),
    el(tag(0x0040, 0x0253), 'SH', s()), el(tag(0x0040, 0x0254), 'LO', s()),
    // Other Patient IDs Sequence (PS3.3 C.7.1.1)
    el(tag(0x0010, 0x1002), 'SQ', [[
      el(tag(0x0010, 0x0020), 'LO', s()), el(tag(0x0010, 0x0021), 'LO', s()), el(tag(0x0010, 0x0022), 'CS', 'TEXT'),
    ]]),
    // Referenced Study Sequence, Request Attributes Sequence with a Referenced Study Sequence inside (3 deep)
    el(tag(0x0008, 0x1110), 'SQ', [[
      el(tag(0x0008, 0x1150), 'UI', '1.2.840.10008.3.1.2.3.1'), el(tag(0x0008, 0x1155), 'UI', otherStudyInstanceUids[0]!),
    ]]),
    el(tag(0x0040, 0x0275), 'SQ', [[
      el(tag(0x0040, 0x0007), 'LO', s()), el(tag(0x0040, 0x0009), 'SH', s()), el(tag(0x0040, 0x1001), 'SH', s()),
      el(tag(0x0008, 0x1110), 'SQ', [[
        el(tag(0x0008, 0x1150), 'UI', '1.2.840.10008.3.1.2.3.1'), el(tag(0x0008, 0x1155), 'UI', otherStudyInstanceUids[1]!),
        el(tag(0x0009, 0x0010), 'LO', s()), el(tag(0x0009, 0x1001), 'LO', s()),
      ]]),
    ]]),
    // Kept sequences walked to the third level: Source Image Sequence (X/Z/U*) > item with a UID
    // reference and private elements > Purpose of Reference Code Sequence > item with a private element.
    el(tag(0x0008, 0x2112), 'SQ', [[
      el(tag(0x0008, 0x1150), 'UI', CT_IMAGE_STORAGE), el(tag(0x0008, 0x1155), 'UI', otherImageUid),
      el(tag(0x0019, 0x0010), 'LO', s()), el(tag(0x0019, 0x1001), 'LT', s(LT_TEXT)),
      el(tag(0x0040, 0xa170), 'SQ', [[
        el(tag(0x0008, 0x0100), 'SH', '121320'), el(tag(0x0008, 0x0102), 'SH', 'DCM'),
        el(tag(0x0008, 0x0104), 'LO', 'Uncompressed predecessor'),
        el(tag(0x0021, 0x0010), 'LO', s()), el(tag(0x0021, 0x1001), 'LO', s()),
      ]]),
    ]]),
    // An Overlay Plane (PS3.3 C.9.2) with a comment.
    el(tag(0x6000, 0x0010), 'US', size), el(tag(0x6000, 0x0011), 'US', size), el(tag(0x6000, 0x0040), 'CS', 'G'),
    el(tag(0x6000, 0x0050), 'SS', [1, 1]), el(tag(0x6000, 0x0100), 'US', 1), el(tag(0x6000, 0x0102), 'US', 0),
    el(tag(0x6000, 0x3000), 'OW', Buffer.alloc((size * size) / 8, 0xf0)), el(tag(0x6000, 0x4000), 'LT', s(LT_TEXT)),
    // Private elements: a creator, text, bytes, and a private sequence with text inside.
    el(tag(0x0009, 0x0010), 'LO', s()), el(tag(0x0009, 0x1001), 'LO', s()),
    el(tag(0x0009, 0x1002), 'OB', Buffer.from(s('bytes '), 'latin1')),
    el(tag(0x0011, 0x0010), 'LO', s()),
    el(tag(0x0011, 0x1001), 'SQ', [[el(tag(0x0011, 0x0010), 'LO', s()), el(tag(0x0011, 0x1002), 'LO', s())]]),
  );

  const pixelData = Buffer.alloc(size * size * 2);
  for (let i = 0; i < size * size; i++) pixelData.writeInt16LE(((i * 37) % 2000) - 1000 + 1024, i * 2);
  const files: Buffer[] = [];
  const sopInstanceUids: string[] = [];
  for (let i = 0; i < slices; i++) {
    const sop = u();
    sopInstanceUids.push(sop);
    const elements = [
      ...replaced.values(),
      el(tag(0x0008, 0x0018), 'UI', sop), el(tag(0x0008, 0x0012), 'DA', studyDate), el(tag(0x0008, 0x0013), 'TM', studyTime),
      el(tag(0x0020, 0x0013), 'IS', i + 1), el(tag(0x0020, 0x0032), 'DS', [-8, -8, i]), el(tag(0x0020, 0x1041), 'DS', i),
      el(tag(0x7fe0, 0x0010), 'OW', pixelData),
    ];
    files.push(part10(elements, sop, ts));
  }
  return { files, sentinels, uids, dates, times, studyUid, seriesUid, sopInstanceUids, pixelData, patientId, issuerOfPatientId };
}

/** Deflated Explicit VR LE (PS3.5 A.5): the writer's explicit dataset, raw-deflated after the File Meta. */
function part10(elements: DataElement[], sop: string, ts: string): Buffer {
  const written = ts === TS.DeflatedExplicitVRLittleEndian ? TS.ExplicitVRLittleEndian : (ts as TransferSyntax);
  const meta = buildFileMeta({ mediaStorageSopClassUid: CT_IMAGE_STORAGE, mediaStorageSopInstanceUid: sop, transferSyntaxUid: ts });
  const dataset = writeDataset(elements, written);
  return Buffer.concat([meta, ts === written ? dataset : deflateRawSync(dataset)]);
}
