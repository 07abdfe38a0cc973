import { test } from 'node:test';
import assert from 'node:assert/strict';
import dicomParser from 'dicom-parser';
import { el, tag, writeDataset, writePart10, formatDecimal, type DataElement } from './dataset-writer.js';
import { readFileMeta } from './part10.js';
import { TS } from './uids.js';

const SOP_CLASS = '1.2.840.10008.5.1.4.1.1.7';
const SOP_INSTANCE = '2.25.1234567'; // odd length: NUL-padded

function sample(): DataElement[] {
  return [
    el(tag(0x0028, 0x0010), 'US', 3),
    el(tag(0x0010, 0x0010), 'PN', 'SYNTHETIC^TEST'),
    el(tag(0x0008, 0x0018), 'UI', SOP_INSTANCE),
    el(tag(0x0008, 0x0016), 'UI', SOP_CLASS),
    el(tag(0x0008, 0x0008), 'CS', ['ORIGINAL', 'PRIMARY']),
    el(tag(0x0018, 0x0050), 'DS', 0.625),
    el(tag(0x0020, 0x0013), 'IS', 7),
    el(tag(0x0020, 0x0032), 'DS', [-125, -125.5, 10]),
    el(tag(0x0018, 0x9306), 'FD', 1.5),
    el(tag(0x0008, 0x1140), 'SQ', [
      [el(tag(0x0008, 0x1150), 'UI', SOP_CLASS), el(tag(0x0008, 0x1155), 'UI', '2.25.1')],
      [el(tag(0x0008, 0x1150), 'UI', SOP_CLASS), el(tag(0x0008, 0x1155), 'UI', '2.25.22')],
    ]),
    el(tag(0x0009, 0x0010), 'LO', 'MEDGE'),
    el(tag(0x0009, 0x1001), 'OB', Uint8Array.from([1, 2, 3])),
    el(tag(0x7fe0, 0x0010), 'OW', new Uint8Array(new Uint16Array([1, 2, 3, 4000]).buffer)),
  ];
}

for (const ts of [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] as const) {
  test(`writePart10 (${ts}) is read back by dicom-parser with the same values`, () => {
    const file = writePart10({ mediaStorageSopClassUid: SOP_CLASS, mediaStorageSopInstanceUid: SOP_INSTANCE, transferSyntaxUid: ts }, sample());
    assert.equal(readFileMeta(file)?.transferSyntaxUid, ts);
    const ds = dicomParser.parseDicom(file);
    assert.equal(ds.string('x00080018'), SOP_INSTANCE);
    assert.equal(ds.string('x00100010'), 'SYNTHETIC^TEST');
    assert.equal(ds.string('x00080008'), 'ORIGINAL\\PRIMARY');
    assert.equal(ds.floatString('x00180050'), 0.625);
    assert.equal(ds.intString('x00200013'), 7);
    assert.equal(ds.string('x00200032'), '-125\\-125.5\\10');
    assert.equal(ds.uint16('x00280010'), 3);
    assert.equal(ds.double('x00189306'), 1.5);
    const items = ds.elements.x00081140?.items ?? [];
    assert.equal(items.length, 2);
    assert.equal(items[1]?.dataSet?.string('x00081155'), '2.25.22');
    const ob = ds.elements.x00091001!;
    assert.equal(ob.length, 4, 'OB padded to even length');
    const px = ds.elements.x7fe00010!;
    assert.equal(px.length, 8);
    assert.equal(file.readUInt16LE(px.dataOffset + 6), 4000);
  });
}

test('values are padded to even length: UI with NUL, text with space', () => {
  const buf = writeDataset([el(tag(0x0008, 0x0018), 'UI', '1.2.3'), el(tag(0x0010, 0x0010), 'PN', 'ABC')]);
  // (0008,0018) UI len 6 "1.2.3\0", then (0010,0010) PN len 4 "ABC "
  assert.equal(buf.readUInt16LE(6), 6);
  assert.equal(buf[8 + 5], 0);
  assert.equal(buf.readUInt16LE(14 + 6), 4);
  assert.equal(buf.toString('latin1', 22, 26), 'ABC ');
});

test('elements are sorted by tag, including private groups after standard ones', () => {
  const buf = writeDataset([el(tag(0x0010, 0x0010), 'PN', 'A^B'), el(tag(0x0008, 0x0060), 'CS', 'CT')]);
  assert.equal(buf.readUInt16LE(0), 0x0008);
});

test('strict: rejects duplicates, File Meta elements, bad UIDs, over-long values, backslash in values', () => {
  assert.throws(() => writeDataset([el(tag(0x0008, 0x0060), 'CS', 'CT'), el(tag(0x0008, 0x0060), 'CS', 'MR')]), /duplicate/);
  assert.throws(() => writeDataset([el(tag(0x0002, 0x0010), 'UI', '1.2')]), /File Meta/);
  assert.throws(() => writeDataset([el(tag(0x0008, 0x0018), 'UI', '1.2.x')]), /not a UID/);
  assert.throws(() => writeDataset([el(tag(0x0008, 0x0060), 'CS', 'X'.repeat(17))]), /longer than 16/);
  assert.throws(() => writeDataset([el(tag(0x0008, 0x0060), 'CS', 'A\\B')]), /contains/);
  assert.throws(() => writeDataset([el(tag(0x0008, 0x0060), 'CS', 'Ä€')]), /ISO-IR 100/);
  assert.throws(() => writeDataset([el(tag(0x7fe0, 0x0010), 'OW', Uint8Array.from([1, 2, 3]))]), /multiple of 2/);
  assert.throws(() => writeDataset([el(tag(0x0020, 0x0013), 'IS', 1.5)]), /integer/);
  assert.throws(() => writeDataset([el(tag(0x0008, 0x0018), 'UI', '1.2.3')], '1.2.840.10008.1.2.2' as never), /not written/);
});

test('writePart10 refuses a File Meta that disagrees with the dataset', () => {
  assert.throws(
    () => writePart10({ mediaStorageSopClassUid: SOP_CLASS, mediaStorageSopInstanceUid: '2.25.9', transferSyntaxUid: TS.ExplicitVRLittleEndian }, sample()),
    /Instance UID differs/,
  );
});

test('formatDecimal keeps DS within 16 characters', () => {
  assert.equal(formatDecimal(0.5), '0.5');
  assert.equal(formatDecimal(-1024), '-1024');
  for (const v of [Math.PI * 1e5, -1 / 3, 1e-20, 123456789.123456789]) {
    const s = formatDecimal(v);
    assert.ok(s.length <= 16, s);
    assert.ok(Math.abs(Number(s) - v) <= Math.abs(v) * 1e-6, s);
  }
});
