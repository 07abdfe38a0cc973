import { test } from 'node:test';
import assert from 'node:assert/strict';
import dicomParser from 'dicom-parser';
import { attribute, attributeFromString, personName, sortByTag } from './dicom-json.js';
import { datasetToJson } from './dataset-json.js';
import { writePart10, el, tag } from '../dicom/dataset-writer.js';

test('strings become typed values (PS3.18 F.2)', () => {
  assert.deepEqual(attributeFromString('UI', '1.2.3\0'), { vr: 'UI', Value: ['1.2.3'] });
  assert.deepEqual(attributeFromString('IS', ' 12 '), { vr: 'IS', Value: [12] });
  assert.deepEqual(attributeFromString('DS', '0.5\\-1.25e2'), { vr: 'DS', Value: [0.5, -125] });
  assert.deepEqual(attributeFromString('US', '512'), { vr: 'US', Value: [512] });
  assert.deepEqual(attributeFromString('CS', 'CT\\MR'), { vr: 'CS', Value: ['CT', 'MR'] });
  assert.deepEqual(attributeFromString('CS', 'A\\\\B'), { vr: 'CS', Value: ['A', null, 'B'] }, 'an empty value among several is null');
  assert.deepEqual(attributeFromString('LT', 'a\\b '), { vr: 'LT', Value: ['a\\b'] }, 'LT is single-valued');
  assert.deepEqual(attributeFromString('DS', 'n/a'), { vr: 'DS', Value: ['n/a'] }, 'a bad number is kept, not lost');
});

test('empty and absent values give the attribute without Value', () => {
  assert.deepEqual(attributeFromString('PN', ''), { vr: 'PN' });
  assert.deepEqual(attributeFromString('DA', null), { vr: 'DA' });
  assert.deepEqual(attributeFromString('LO', '   '), { vr: 'LO' });
  assert.deepEqual(attribute('SQ', []), { vr: 'SQ' });
});

test('person names as component groups (F.2.2)', () => {
  assert.deepEqual(attributeFromString('PN', 'Doe^John'), { vr: 'PN', Value: [{ Alphabetic: 'Doe^John' }] });
  assert.deepEqual(personName('Yamada^Tarou=山田^太郎=やまだ^たろう'), { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' });
  assert.deepEqual(personName('=X'), { Ideographic: 'X' });
});

test('sortByTag orders keys by tag', () => {
  assert.deepEqual(Object.keys(sortByTag({ '00200010': { vr: 'SH' }, '00080020': { vr: 'DA' }, '7FE00010': { vr: 'OW' } })), ['00080020', '00200010', '7FE00010']);
});

for (const ts of ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] as const) {
  test(`a whole dataset in ${ts}: sequences, numbers, binary, no pixel data`, () => {
    const file = writePart10({ mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.2', mediaStorageSopInstanceUid: '1.2.3.4', transferSyntaxUid: ts }, [
      el(tag(0x0008, 0x0016), 'UI', '1.2.840.10008.5.1.4.1.1.2'),
      el(tag(0x0008, 0x0018), 'UI', '1.2.3.4'),
      el(tag(0x0008, 0x1140), 'SQ', [[el(tag(0x0008, 0x1150), 'UI', '1.2.9'), el(tag(0x0008, 0x1155), 'UI', '1.2.10')]]),
      el(tag(0x0010, 0x0010), 'PN', 'Test^Phantom'),
      el(tag(0x0020, 0x0032), 'DS', [-125, 0.5, 10]),
      el(tag(0x0028, 0x0010), 'US', 2),
      el(tag(0x0028, 0x0011), 'US', 2),
      el(tag(0x7fe0, 0x0010), 'OW', new Uint8Array(8)),
    ]);
    const json = datasetToJson(dicomParser.parseDicom(file));
    assert.equal(json['00020010'], undefined);
    assert.equal(json['7FE00010'], undefined);
    assert.deepEqual(json['00080018'], { vr: 'UI', Value: ['1.2.3.4'] });
    assert.deepEqual(json['00100010'], { vr: 'PN', Value: [{ Alphabetic: 'Test^Phantom' }] });
    assert.deepEqual(json['00200032'], { vr: 'DS', Value: [-125, 0.5, 10] });
    assert.deepEqual(json['00280010'], { vr: 'US', Value: [2] });
    assert.deepEqual(json['00081140'], { vr: 'SQ', Value: [{ '00081150': { vr: 'UI', Value: ['1.2.9'] }, '00081155': { vr: 'UI', Value: ['1.2.10'] } }] });
  });
}
