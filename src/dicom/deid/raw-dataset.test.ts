import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isMedgeError } from '../../errors.js';
import { el, tag, writeDataset } from '../dataset-writer.js';
import { buildFileMeta } from '../part10.js';
import { TS } from '../uids.js';
import { deidentifyPart10 } from './deidentify.js';
import { readRawDataset, type RawElement } from './raw-dataset.js';
import { encodeRawDataset } from './raw-encoder.js';

const noVr = () => undefined;
const SECRET = Buffer.alloc(32, 3);

/** One element by hand (the project's writer writes only defined lengths). */
function element(group: number, elem: number, vr: string, value: Buffer, explicit = true, length = value.length): Buffer {
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
  const h = Buffer.alloc(explicit && long ? 12 : 8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(elem, 2);
  if (!explicit) h.writeUInt32LE(length, 4);
  else if (long) {
    h.write(vr, 4, 'latin1');
    h.writeUInt32LE(length, 8);
  } else {
    h.write(vr, 4, 'latin1');
    h.writeUInt16LE(length, 6);
  }
  return Buffer.concat([h, value]);
}
const UNDEFINED = 0xffffffff;
function marker(elem: number, length: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(0xfffe, 0);
  b.writeUInt16LE(elem, 2);
  b.writeUInt32LE(length, 4);
  return b;
}
const item = (body: Buffer) => Buffer.concat([marker(0xe000, UNDEFINED), body, marker(0xe00d, 0)]);
const undefinedSequence = (group: number, elem: number, vr: string, items: Buffer[], explicit = true) =>
  Buffer.concat([element(group, elem, vr, Buffer.alloc(0), explicit, UNDEFINED), ...items, marker(0xe0dd, 0)]);

for (const ts of [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] as const) {
  test(`read then encode gives back the writer's bytes exactly (${ts})`, () => {
    const written = writeDataset([
      el(tag(0x0008, 0x0016), 'UI', '1.2.840.10008.5.1.4.1.1.2'),
      el(tag(0x0008, 0x1140), 'SQ', [[el(tag(0x0008, 0x1155), 'UI', '2.25.9'), el(tag(0x0040, 0xa170), 'SQ', [[el(tag(0x0008, 0x0100), 'SH', '121320')], []])]]),
      el(tag(0x0010, 0x0010), 'PN', 'DOE^JANE'),
      el(tag(0x0028, 0x0010), 'US', 4),
      el(tag(0x7fe0, 0x0010), 'OW', new Uint8Array(8).fill(7)),
    ], ts);
    const elements = readRawDataset(written, ts === TS.ExplicitVRLittleEndian, noVr);
    assert.equal(elements.find((e) => e.tag === 0x00081140)!.items![0]!.find((e) => e.tag === 0x0040a170)!.items!.length, 2);
    assert.deepEqual(Buffer.concat(encodeRawDataset(elements, ts === TS.ExplicitVRLittleEndian)), written);
  });
}

test('undefined-length sequences and items are read and written back with defined lengths', () => {
  const pn = element(0x0040, 0xa123, 'PN', Buffer.from('SECRET^NAME ', 'latin1'));
  const nested = undefinedSequence(0x0040, 0xa730, 'SQ', [item(pn)]);
  const dataset = Buffer.concat([undefinedSequence(0x0008, 0x1140, 'SQ', [item(nested), item(Buffer.alloc(0))])]);
  const elements = readRawDataset(dataset, true, noVr);
  const outer = elements[0]!;
  assert.equal(outer.items!.length, 2);
  assert.equal(outer.items![0]![0]!.items![0]![0]!.value!.toString('latin1'), 'SECRET^NAME ');
  const again = readRawDataset(Buffer.concat(encodeRawDataset(elements, true)), true, noVr);
  assert.deepEqual(strip(again), strip(elements));
});

test('a sequence stored as UN (PS3.5 6.2.2) is walked: its identifying content goes, its UIDs are replaced, it stays UN', () => {
  const implicitItem = (body: Buffer) => Buffer.concat([marker(0xe000, body.length), body]);
  // Source Image Sequence as UN of undefined length, items in Implicit VR LE.
  const sourceImage = undefinedSequence(0x0008, 0x2112, 'UN', [implicitItem(Buffer.concat([
    element(0x0008, 0x1150, 'UI', Buffer.from('1.2.840.10008.5.1.4.1.1.2\0', 'latin1'), false),
    element(0x0008, 0x1155, 'UI', Buffer.from('1.2.3.4.5.6.7.8.9\0', 'latin1'), false),
    element(0x0009, 0x1001, 'LO', Buffer.from('PRIVATESECRET ', 'latin1'), false),
  ]))]);
  // Request Attributes Sequence as UN of defined length: a SQ tag, so read as items; X removes it.
  const requestBody = implicitItem(element(0x0040, 0x1001, 'SH', Buffer.from('REQSECRET ', 'latin1'), false));
  const request = element(0x0040, 0x0275, 'UN', requestBody);
  const file = part10([
    element(0x0008, 0x0016, 'UI', Buffer.from('1.2.840.10008.5.1.4.1.1.2\0', 'latin1')),
    element(0x0008, 0x0018, 'UI', Buffer.from('1.2.3.4.5.6.7.8.10', 'latin1')),
    sourceImage,
    element(0x0010, 0x0010, 'PN', Buffer.from('SECRET^PERSON ', 'latin1')),
    request,
  ]);
  const out = deidentifyPart10(file, SECRET).part10;
  const text = out.toString('latin1');
  for (const secret of ['PRIVATESECRET', 'REQSECRET', 'SECRET^PERSON', '1.2.3.4.5.6.7.8.9', '1.2.3.4.5.6.7.8.10']) assert.ok(!text.includes(secret), secret);
  const elements = readRawDataset(out.subarray(out.indexOf('DICM') + 4 + metaLength(out)), true, noVr);
  const source = elements.find((e) => e.tag === 0x00082112)!;
  assert.equal(source.vr, 'UN');
  assert.equal(source.implicitItems, true);
  assert.deepEqual(source.items![0]!.map((e) => e.tag), [0x00081150, 0x00081155]);
  assert.match(source.items![0]![1]!.value!.toString('latin1'), /^2\.25\.\d+\0?$/);
  assert.equal(elements.some((e) => e.tag === 0x00400275), false);
});

test('encapsulated pixel data is copied fragment for fragment', () => {
  const fragments = Buffer.concat([marker(0xe000, 0), marker(0xe000, 6), Buffer.from([1, 2, 3, 4, 5, 6]), marker(0xe0dd, 0)]);
  const pixel = Buffer.concat([element(0x7fe0, 0x0010, 'OB', Buffer.alloc(0), true, UNDEFINED), fragments]);
  const elements = readRawDataset(pixel, true, noVr);
  assert.deepEqual(elements[0]!.encapsulated, fragments);
  assert.deepEqual(Buffer.concat(encodeRawDataset(elements, true)), pixel);
});

test('lengths that run past their container are MEDGE_ERR_DEID_MALFORMED, never read past the end', () => {
  const bad = element(0x0010, 0x0010, 'PN', Buffer.from('AB', 'latin1'), true, 40);
  assert.throws(() => readRawDataset(bad, true, noVr), (e) => isMedgeError(e) && e.code === 'MEDGE_ERR_DEID_MALFORMED');
  const open = Buffer.concat([element(0x0040, 0xa730, 'SQ', Buffer.alloc(0), true, UNDEFINED), marker(0xe000, UNDEFINED)]);
  assert.throws(() => readRawDataset(open, true, noVr), (e) => isMedgeError(e) && e.code === 'MEDGE_ERR_DEID_MALFORMED');
});

function part10(elements: Buffer[]): Buffer {
  return Buffer.concat([buildFileMeta({ mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.2', mediaStorageSopInstanceUid: '1.2.3.4.5.6.7.8.10', transferSyntaxUid: TS.ExplicitVRLittleEndian }), ...elements]);
}

/** The File Meta's length after "DICM": its group length element (12 bytes) plus its value. */
function metaLength(file: Buffer): number {
  return 12 + file.readUInt32LE(132 + 8);
}

function strip(elements: RawElement[]): unknown {
  return elements.map((e) => ({ tag: e.tag, vr: e.vr, value: e.value?.toString('hex'), items: e.items?.map(strip) }));
}
