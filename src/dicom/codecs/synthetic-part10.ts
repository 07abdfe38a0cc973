/**
 * Builds small PS3.10 files for the codec tests (explicit VR little or big endian dataset): the pixel
 * module, and native or encapsulated Pixel Data (PS3.5 A.4) with or without a Basic Offset Table and
 * with frames split over several fragments. Test support only; medge writes DICOM with dataset-writer.
 */
export interface SyntheticImage {
  transferSyntaxUid: string;
  rows: number;
  columns: number;
  samplesPerPixel?: number;
  bitsAllocated: number;
  bitsStored?: number;
  pixelRepresentation?: 0 | 1;
  photometricInterpretation?: string;
  planarConfiguration?: 0 | 1;
  numberOfFrames?: number;
  /** Native Pixel Data bytes (already in the syntax's byte order). */
  native?: Uint8Array;
  /** Encapsulated: the fragments of each frame. */
  frames?: Uint8Array[][];
  basicOffsetTable?: boolean;
}

export function syntheticPart10(img: SyntheticImage): Buffer {
  const meta = [
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1]), true),
    element(0x0002, 0x0002, 'UI', uid('1.2.840.10008.5.1.4.1.1.7'), true),
    element(0x0002, 0x0003, 'UI', uid('2.25.1234'), true),
    element(0x0002, 0x0010, 'UI', uid(img.transferSyntaxUid), true),
  ];
  const metaBody = Buffer.concat(meta);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(metaBody.length);
  const le = img.transferSyntaxUid !== '1.2.840.10008.1.2.2';
  const us = (v: number): Buffer => {
    const b = Buffer.alloc(2);
    if (le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  };
  const spp = img.samplesPerPixel ?? 1;
  const ds = [
    element(0x0008, 0x0018, 'UI', uid('2.25.5678'), le),
    element(0x0028, 0x0002, 'US', us(spp), le),
    element(0x0028, 0x0004, 'CS', text(img.photometricInterpretation ?? (spp === 3 ? 'RGB' : 'MONOCHROME2')), le),
    ...(spp > 1 ? [element(0x0028, 0x0006, 'US', us(img.planarConfiguration ?? 0), le)] : []),
    element(0x0028, 0x0008, 'IS', text(String(img.numberOfFrames ?? 1)), le),
    element(0x0028, 0x0010, 'US', us(img.rows), le),
    element(0x0028, 0x0011, 'US', us(img.columns), le),
    element(0x0028, 0x0100, 'US', us(img.bitsAllocated), le),
    element(0x0028, 0x0101, 'US', us(img.bitsStored ?? img.bitsAllocated), le),
    element(0x0028, 0x0102, 'US', us((img.bitsStored ?? img.bitsAllocated) - 1), le),
    element(0x0028, 0x0103, 'US', us(img.pixelRepresentation ?? 0), le),
  ];
  let pixel: Buffer;
  if (img.frames) {
    const items: Buffer[] = [];
    const offsets: number[] = [];
    let at = 0;
    for (const frame of img.frames) {
      offsets.push(at);
      for (const f of frame) {
        const padded = f.length % 2 ? Buffer.concat([Buffer.from(f), Buffer.from([0])]) : Buffer.from(f);
        items.push(item(padded));
        at += 8 + padded.length;
      }
    }
    const bot = Buffer.alloc(img.basicOffsetTable ? offsets.length * 4 : 0);
    if (img.basicOffsetTable) offsets.forEach((o, i) => bot.writeUInt32LE(o, i * 4));
    const head = Buffer.alloc(12);
    head.writeUInt16LE(0x7fe0, 0);
    head.writeUInt16LE(0x0010, 2);
    head.write('OB', 4, 'latin1');
    head.writeUInt32LE(0xffffffff, 8);
    const delimiter = Buffer.alloc(8);
    delimiter.writeUInt16LE(0xfffe, 0);
    delimiter.writeUInt16LE(0xe0dd, 2);
    pixel = Buffer.concat([head, item(bot), ...items, delimiter]);
  } else {
    pixel = element(0x7fe0, 0x0010, img.bitsAllocated > 8 ? 'OW' : 'OB', Buffer.from(img.native ?? new Uint8Array()), le);
  }
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), element(0x0002, 0x0000, 'UL', groupLength, true), metaBody, ...ds, pixel]);
}

function item(body: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0xfffe, 0);
  h.writeUInt16LE(0xe000, 2);
  h.writeUInt32LE(body.length, 4);
  return Buffer.concat([h, body]);
}

function uid(v: string): Buffer {
  return v.length % 2 ? Buffer.concat([Buffer.from(v, 'latin1'), Buffer.from([0])]) : Buffer.from(v, 'latin1');
}

function text(v: string): Buffer {
  return Buffer.from(v.length % 2 ? `${v} ` : v, 'latin1');
}

function element(group: number, el: number, vr: string, value: Buffer, le: boolean): Buffer {
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT', 'OF'].includes(vr);
  const h = Buffer.alloc(long ? 12 : 8);
  const w16 = (v: number, o: number): number => (le ? h.writeUInt16LE(v, o) : h.writeUInt16BE(v, o));
  w16(group, 0);
  w16(el, 2);
  h.write(vr, 4, 'latin1');
  if (long) {
    if (le) h.writeUInt32LE(value.length, 8);
    else h.writeUInt32BE(value.length, 8);
  } else w16(value.length, 6);
  return Buffer.concat([h, value]);
}

/** RLE (PS3.5 G.3) of byte planes, literal runs only: valid and simple, for tests. */
export function rleEncode(planes: Uint8Array[]): Uint8Array {
  const segments = planes.map((plane) => {
    const out: number[] = [];
    for (let i = 0; i < plane.length; i += 128) {
      const run = plane.subarray(i, Math.min(plane.length, i + 128));
      out.push(run.length - 1, ...run);
    }
    if (out.length % 2) out.push(0x80); // no-op pad to an even length
    return Uint8Array.from(out);
  });
  const header = Buffer.alloc(64);
  header.writeUInt32LE(segments.length, 0);
  let at = 64;
  segments.forEach((s, i) => {
    header.writeUInt32LE(at, 4 + i * 4);
    at += s.length;
  });
  return Buffer.concat([header, ...segments]);
}
