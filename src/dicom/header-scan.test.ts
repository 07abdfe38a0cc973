import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMedgeError } from '../errors.js';
import { realData } from '../../test/helpers/real-data.js';
import { readFileMeta } from './part10.js';
import { parseHeaderWithDicomParser, parseImageHeaderEarly, parseInstanceHeader } from './header.js';
import { el, tag, writePart10 } from './dataset-writer.js';
import { TS } from './uids.js';

/** Every real file the project has: the transfer-syntax set (CT and MR) and two head CT series. */
async function realFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const dir of [realData('transfer-syntaxes', 'ct'), realData('transfer-syntaxes', 'mr'), realData('ge-head-ct'), realData('philips-head-phantom-5mm')]) {
    if (!dir) continue;
    for (const name of (await readdir(dir)).sort()) out.push(join(dir, name));
  }
  return out;
}

test('the lean scanner reads the same header as dicom-parser from every real file, whole and from a 16 KB prefix', { skip: !realData('transfer-syntaxes') && 'real data missing' }, async () => {
  const files = await realFiles();
  assert.ok(files.length >= 60, `${files.length} files`);
  for (const file of files) {
    const bytes = await readFile(file);
    const ts = readFileMeta(bytes)!.transferSyntaxUid;
    const oracle = parseHeaderWithDicomParser(bytes, ts, bytes.length);
    assert.equal(oracle.kind, 'ok', file);
    assert.deepEqual(parseInstanceHeader(bytes, ts, bytes.length), oracle, file);
    const early = parseImageHeaderEarly(bytes.subarray(0, 16 * 1024), ts);
    if (early.kind === 'ok') {
      assert.deepEqual(early.header, oracle.kind === 'ok' && oracle.header, `${file} (prefix)`);
      early.verify(bytes.length);
      // Native pixel data has a length to check; encapsulated has none (PS3.5 A.4).
      if (NATIVE.has(ts)) assert.throws(() => early.verify(bytes.length - 2), (err) => isMedgeError(err, 'MEDGE_ERR_INGEST_PARSE') && /\(7fe0,0010\) claims/.test(err.message), file);
    }
  }
});

const sopClass = '1.2.840.10008.5.1.4.1.1.2';
const NATIVE: ReadonlySet<string> = new Set([TS.ImplicitVRLittleEndian, TS.ExplicitVRLittleEndian, TS.ExplicitVRBigEndian]);
function dataset(ts: string, extra: ReturnType<typeof el>[] = [], pixels = Buffer.alloc(8)): Buffer {
  return writePart10({ mediaStorageSopClassUid: sopClass, mediaStorageSopInstanceUid: '1.2.3.4', transferSyntaxUid: ts }, [
    el(tag(0x0008, 0x0005), 'CS', 'ISO_IR 100'),
    el(tag(0x0008, 0x0016), 'UI', sopClass),
    el(tag(0x0008, 0x0018), 'UI', '1.2.3.4'),
    el(tag(0x0010, 0x0010), 'PN', 'Müller^Jörg'),
    el(tag(0x0020, 0x000d), 'UI', '1.2.3'),
    el(tag(0x0020, 0x000e), 'UI', '1.2.3.1'),
    el(tag(0x0020, 0x0032), 'DS', ['-125', '-125', '10.5']),
    el(tag(0x0028, 0x0010), 'US', 2),
    el(tag(0x0028, 0x0011), 'US', 2),
    ...extra,
    el(tag(0x7fe0, 0x0010), 'OW', pixels),
  ]);
}

/** A sequence of undefined length with an item of undefined length (PS3.5 7.5.2), nested one level deeper, as raw bytes. */
function undefinedLengthSequence(explicit: boolean): Buffer {
  const u16 = (n: number) => Buffer.from([n & 0xff, n >> 8]);
  const u32 = (n: number) => Buffer.from([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff]);
  const head = (group: number, element: number, vr: string, length: number) =>
    explicit
      ? vr === 'SQ' ? Buffer.concat([u16(group), u16(element), Buffer.from('SQ\0\0', 'latin1'), u32(length)]) : Buffer.concat([u16(group), u16(element), Buffer.from(vr, 'latin1'), u16(length)])
      : Buffer.concat([u16(group), u16(element), u32(length)]);
  const item = (body: Buffer[]) => Buffer.concat([u16(0xfffe), u16(0xe000), u32(0xffffffff), ...body, u16(0xfffe), u16(0xe00d), u32(0)]);
  const seqEnd = Buffer.concat([u16(0xfffe), u16(0xe0dd), u32(0)]);
  const uid = Buffer.from('1.2.3.9\0', 'latin1');
  const inner = Buffer.concat([head(0x0008, 0x1199, 'SQ', 0xffffffff), item([head(0x0008, 0x1155, 'UI', uid.length), uid]), seqEnd]);
  return Buffer.concat([head(0x0008, 0x1140, 'SQ', 0xffffffff), item([head(0x0008, 0x1155, 'UI', uid.length), uid, inner]), item([]), seqEnd]);
}

test('the scanner and dicom-parser agree on Explicit and Implicit VR, Latin-1 text, and nested sequences of undefined length', () => {
  for (const ts of [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian]) {
    const plain = dataset(ts);
    // Spliced in before Pixel Data: elements need not be sorted for either reader.
    const at = plain.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
    const bytes = Buffer.concat([plain.subarray(0, at), undefinedLengthSequence(ts === TS.ExplicitVRLittleEndian), plain.subarray(at)]);
    const oracle = parseHeaderWithDicomParser(bytes, ts, bytes.length);
    assert.equal(oracle.kind, 'ok', ts);
    assert.deepEqual(parseInstanceHeader(bytes, ts, bytes.length), oracle, ts);
    assert.equal(oracle.kind === 'ok' && oracle.header.patientName, 'Müller^Jörg');
    assert.equal(oracle.kind === 'ok' && oracle.header.rows, 2);
    const early = parseImageHeaderEarly(bytes.subarray(0, bytes.length - 4), ts);
    assert.equal(early.kind, 'ok', `${ts}: the prefix reaches Pixel Data`);
    // A truncated sequence in the whole file is malformed, in a prefix a reason to wait.
    const cut = Buffer.concat([plain.subarray(0, at), undefinedLengthSequence(true).subarray(0, 30)]);
    assert.throws(() => parseInstanceHeader(cut, ts, cut.length), (err) => isMedgeError(err, 'MEDGE_ERR_INGEST_PARSE'));
    assert.deepEqual(parseInstanceHeader(cut, ts, cut.length + 1000), { kind: 'need-more' });
  }
});

test('a lying length is the same MEDGE_ERR_INGEST_PARSE as before, naming the element; a prefix asks for more', () => {
  const bytes = dataset(TS.ExplicitVRLittleEndian);
  // Patient Name's 2-byte length, raised past the end of the file.
  const at = bytes.indexOf(Buffer.from([0x10, 0x00, 0x10, 0x00, 0x50, 0x4e]));
  const lying = Buffer.from(bytes);
  lying.writeUInt16LE(0xfff0, at + 6);
  assert.throws(() => parseInstanceHeader(lying, TS.ExplicitVRLittleEndian, lying.length), (err) => isMedgeError(err, 'MEDGE_ERR_INGEST_PARSE'));
  assert.deepEqual(parseInstanceHeader(bytes.subarray(0, 200), TS.ExplicitVRLittleEndian, bytes.length), { kind: 'need-more' });
  assert.deepEqual(parseImageHeaderEarly(bytes.subarray(0, 200), TS.ExplicitVRLittleEndian), { kind: 'need-more' });
});
