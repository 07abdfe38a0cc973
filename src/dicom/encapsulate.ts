/**
 * Encapsulated Pixel Data (PS3.5 A.4): the value of an undefined-length (7FE0,0010) OB element, as
 * the items that follow its header: a Basic Offset Table item holding, per frame, the offset of
 * the frame's first fragment item from the first byte after the table (Table A.4-1); then one
 * fragment per frame, each of even length (a codestream of odd length is padded with one trailing
 * NUL, PS3.5 A.4 and 8.2); then the Sequence Delimitation Item.
 */

/** Item and Sequence Delimitation Item tags (PS3.5 7.5), group FFFE. */
const ITEM_ELEMENT = 0xe000;
const SEQUENCE_DELIMITATION_ELEMENT = 0xe0dd;
const ITEM_GROUP = 0xfffe;

function itemHeader(element: number, length: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(ITEM_GROUP, 0);
  b.writeUInt16LE(element, 2);
  b.writeUInt32LE(length, 4);
  return b;
}

/** The items of encapsulated Pixel Data for these frames' codestreams, one fragment each. */
export function encapsulateFrames(frames: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  const table = Buffer.alloc(4 * frames.length);
  parts.push(itemHeader(ITEM_ELEMENT, table.length), table);
  let offset = 0;
  frames.forEach((frame, i) => {
    const padded = frame.length + (frame.length % 2);
    table.writeUInt32LE(offset, 4 * i);
    parts.push(itemHeader(ITEM_ELEMENT, padded), Buffer.from(frame.buffer, frame.byteOffset, frame.length));
    if (padded !== frame.length) parts.push(Buffer.alloc(1));
    offset += 8 + padded;
  });
  parts.push(itemHeader(SEQUENCE_DELIMITATION_ELEMENT, 0));
  return Buffer.concat(parts);
}
