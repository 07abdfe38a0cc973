import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './uids.js';

/** PS3.10 7.1: a 128-byte preamble, then the magic "DICM", then the File Meta Information. */
export const PREAMBLE_LENGTH = 128;
export const MAGIC = 'DICM';
const META_START = PREAMBLE_LENGTH + 4;
const META_GROUP = 0x0002;

export interface FileMeta {
  mediaStorageSopClassUid: string;
  mediaStorageSopInstanceUid: string;
  transferSyntaxUid: string;
  sourceAeTitle?: string;
}

export interface ParsedFileMeta extends FileMeta {
  /** Byte offset where the dataset begins. */
  datasetOffset: number;
}

/**
 * Builds preamble + "DICM" + File Meta Information group (PS3.10 7.1, Table 7.1-1), always in
 * Explicit VR Little Endian, with the group length first. Written strictly: UIDs padded with NUL,
 * text with spaces, to even lengths (PS3.5 6.2).
 */
export function buildFileMeta(meta: FileMeta): Buffer {
  const elements: Buffer[] = [
    element(0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 'UI', uid(meta.mediaStorageSopClassUid)),
    element(0x0003, 'UI', uid(meta.mediaStorageSopInstanceUid)),
    element(0x0010, 'UI', uid(meta.transferSyntaxUid)),
    element(0x0012, 'UI', uid(IMPLEMENTATION_CLASS_UID)),
    element(0x0013, 'SH', text(IMPLEMENTATION_VERSION_NAME)),
  ];
  if (meta.sourceAeTitle) elements.push(element(0x0016, 'AE', text(meta.sourceAeTitle.trim())));
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length);
  return Buffer.concat([Buffer.alloc(PREAMBLE_LENGTH), Buffer.from(MAGIC, 'latin1'), element(0x0000, 'UL', groupLength), body]);
}

/**
 * Reads the File Meta Information from the start of a Part 10 file. Returns undefined when more
 * bytes are needed, null when the bytes are not a Part 10 file. Lenient: a missing group length
 * is tolerated by walking group 0002 elements.
 */
export function readFileMeta(buf: Buffer): ParsedFileMeta | undefined | null {
  if (buf.length < META_START) return undefined;
  if (buf.toString('latin1', PREAMBLE_LENGTH, META_START) !== MAGIC) return null;
  const values = new Map<number, Buffer>();
  let pos = META_START;
  let end = Number.POSITIVE_INFINITY;
  while (pos < end) {
    if (pos + 8 > buf.length) return pos >= end ? finish() : undefined;
    const group = buf.readUInt16LE(pos);
    if (group !== META_GROUP) break;
    const elem = buf.readUInt16LE(pos + 2);
    const vr = buf.toString('latin1', pos + 4, pos + 6);
    let length: number;
    let header: number;
    if (LONG_VRS.has(vr)) {
      if (pos + 12 > buf.length) return undefined;
      length = buf.readUInt32LE(pos + 8);
      header = 12;
    } else if (/^[A-Z]{2}$/.test(vr)) {
      length = buf.readUInt16LE(pos + 6);
      header = 8;
    } else {
      return null;
    }
    if (length === 0xffffffff) return null;
    if (pos + header + length > buf.length) return undefined;
    const value = buf.subarray(pos + header, pos + header + length);
    if (elem === 0x0000 && length === 4) end = pos + header + length + value.readUInt32LE(0);
    values.set(elem, value);
    pos += header + length;
  }
  return finish();

  function finish(): ParsedFileMeta | null {
    const ts = values.get(0x0010);
    if (!ts) return null;
    const str = (e: number) => (values.get(e)?.toString('latin1') ?? '').replace(/[\0 ]+$/, '');
    return {
      mediaStorageSopClassUid: str(0x0002),
      mediaStorageSopInstanceUid: str(0x0003),
      transferSyntaxUid: str(0x0010),
      sourceAeTitle: str(0x0016) || undefined,
      datasetOffset: pos,
    };
  }
}

/** PS3.5 7.1.2: VRs with a 2-byte reserved field and a 4-byte length. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

function element(elem: number, vr: string, value: Buffer): Buffer {
  const long = LONG_VRS.has(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(META_GROUP, 0);
  header.writeUInt16LE(elem, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

function uid(value: string): Buffer {
  const b = Buffer.from(value, 'latin1');
  return b.length % 2 ? Buffer.concat([b, Buffer.from([0])]) : b;
}

function text(value: string): Buffer {
  return Buffer.from(value.length % 2 ? `${value} ` : value, 'latin1');
}
