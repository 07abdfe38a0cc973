import type { DataSet, Element } from 'dicom-parser';
import { attribute, attributeFromString, type DicomJsonAttribute, type DicomJsonDataset } from './dicom-json.js';
import { implicitVr } from './implicit-vr.js';

/** Binary values up to this size are inlined (base64, PS3.18 F.2.7); larger ones are left out. */
const INLINE_BINARY_LIMIT = 1024;
const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const NUMERIC: Record<string, { size: number; read: (ds: DataSet, tag: string, i: number) => number | undefined }> = {
  US: { size: 2, read: (ds, t, i) => ds.uint16(t, i) },
  SS: { size: 2, read: (ds, t, i) => ds.int16(t, i) },
  UL: { size: 4, read: (ds, t, i) => ds.uint32(t, i) },
  SL: { size: 4, read: (ds, t, i) => ds.int32(t, i) },
  FL: { size: 4, read: (ds, t, i) => ds.float(t, i) },
  FD: { size: 8, read: (ds, t, i) => ds.double(t, i) },
};

/**
 * Converts a dataset read by dicom-parser into the DICOM JSON model (PS3.18 F.2), as WADO-RS
 * metadata answers it (10.4.1.1.2): every attribute of the dataset, sequences recursively,
 * numbers as numbers, PN as component groups. File meta information (group 0002) and group
 * lengths are left out. Pixel Data and other binary values over 1 KiB are left out: this node
 * serves no bulk data resources yet, so it gives no BulkDataURI that would not resolve.
 */
export function datasetToJson(ds: DataSet, utf8 = isUtf8(ds)): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const tag of Object.keys(ds.elements).sort()) {
    const e = ds.elements[tag]!;
    if (tag.startsWith('x0002') || tag.endsWith('0000')) continue;
    const attr = attributeOf(ds, e, utf8);
    if (attr) out[tag.slice(1).toUpperCase()] = attr;
  }
  return out;
}

/** Specific Character Set (0008,0005) ISO_IR 192 is UTF-8 (PS3.3 C.12.1.1.2); other sets are read as Latin-1. */
function isUtf8(ds: DataSet): boolean {
  return (ds.string('x00080005') ?? '').includes('ISO_IR 192');
}

function attributeOf(ds: DataSet, e: Element, utf8: boolean): DicomJsonAttribute | undefined {
  const vr = e.vr ?? implicitVr(e.tag) ?? (e.items ? 'SQ' : 'UN');
  if (vr === 'SQ') return attribute('SQ', (e.items ?? []).map((item) => (item.dataSet ? datasetToJson(item.dataSet, utf8) : {})));
  if (e.tag === 'x7fe00010' || e.length === 0xffffffff) return undefined;
  if (e.length === 0) return { vr };
  if (BINARY_VRS.has(vr)) {
    if (e.length > INLINE_BINARY_LIMIT) return undefined;
    const bytes = Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + e.dataOffset, e.length);
    return { vr, InlineBinary: bytes.toString('base64') };
  }
  const numeric = NUMERIC[vr];
  if (numeric) {
    const values: number[] = [];
    for (let i = 0; i < Math.floor(e.length / numeric.size); i++) {
      const v = numeric.read(ds, e.tag, i);
      if (v !== undefined) values.push(v);
    }
    return attribute(vr, values);
  }
  if (vr === 'AT') {
    const values: string[] = [];
    for (let i = 0; i + 4 <= e.length; i += 4) {
      const group = ds.uint16(e.tag, i / 2) ?? 0;
      const element = ds.uint16(e.tag, i / 2 + 1) ?? 0;
      values.push((((group << 16) | element) >>> 0).toString(16).padStart(8, '0').toUpperCase());
    }
    return attribute('AT', values);
  }
  // Text VRs: the raw characters, all values (attributeFromString splits on backslash).
  const raw = Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + e.dataOffset, e.length).toString(utf8 ? 'utf8' : 'latin1');
  return attributeFromString(vr, raw);
}
