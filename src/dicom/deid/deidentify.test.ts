import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateRawSync } from 'node:zlib';
import type { DataSet } from 'dicom-parser';
import { isMedgeError } from '../../errors.js';
import { parseDataSetHeader } from '../header.js';
import { readFileMeta } from '../part10.js';
import { TS } from '../uids.js';
import { createMemoryDeidMap } from './deid-map.js';
import { createDeidentifier } from './deidentifier.js';
import { deidentifyPart10 } from './deidentify.js';
import { buildSentinelStudy, type SentinelStudy } from './sentinel-study.js';

const SECRET = Buffer.alloc(32, 0x5a);
const SYNTAXES = [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.DeflatedExplicitVRLittleEndian] as const;

/** The bytes to scan: the file as sent and, for Deflated, its dataset inflated too. */
function scannable(part10: Buffer): string {
  const meta = readFileMeta(part10)!;
  const inflated = meta.transferSyntaxUid === TS.DeflatedExplicitVRLittleEndian ? inflateRawSync(part10.subarray(meta.datasetOffset)) : Buffer.alloc(0);
  return Buffer.concat([part10, inflated]).toString('latin1');
}

function leaks(part10: Buffer, study: SentinelStudy): string[] {
  const text = scannable(part10);
  return [...study.sentinels, ...study.uids, ...study.dates, ...study.times].filter((v) => text.includes(v));
}

/** dicom-parser, an independent reader, over the whole file. */
function parse(part10: Buffer): DataSet {
  const meta = readFileMeta(part10)!;
  const parsed = parseDataSetHeader(part10, meta.transferSyntaxUid, part10.length);
  assert.equal(parsed.kind, 'ok');
  return (parsed as { dataSet: DataSet }).dataSet;
}

function pixelBytes(ds: DataSet): Buffer {
  const e = ds.elements.x7fe00010!;
  return Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + e.dataOffset, e.length);
}

for (const ts of SYNTAXES) {
  test(`no byte of a de-identified sentinel study holds a sentinel, an original UID, date or time (${ts})`, () => {
    const study = buildSentinelStudy({ transferSyntaxUid: ts });
    // The study really carries them: the scan would find each in the original.
    assert.deepEqual(leaks(study.files[0]!, study).length, study.sentinels.length + study.uids.length - 1 + study.dates.length + study.times.length);
    for (const file of study.files) {
      const result = deidentifyPart10(file, SECRET);
      assert.deepEqual(leaks(result.part10, study), []);
      const ds = parse(result.part10);
      for (const t of ['x00080016', 'x00080018', 'x0020000d', 'x0020000e', 'x00200052', 'x00080060', 'x00280004']) {
        assert.ok(ds.string(t), `${t} present`);
      }
      assert.equal(ds.uint16('x00280010'), 32);
      assert.equal(ds.string('x00080018'), result.sopInstanceUid);
      assert.equal(readFileMeta(result.part10)!.mediaStorageSopInstanceUid, result.sopInstanceUid);
      assert.equal(readFileMeta(result.part10)!.transferSyntaxUid, ts);
      assert.equal(ds.string('x00100020'), result.patientPseudonym);
      assert.equal(ds.string('x00100010'), result.patientPseudonym);
      assert.equal(ds.string('x00120062'), 'YES');
      assert.match(ds.string('x00120063') ?? '', /PS3\.15 2024b/);
      assert.equal(ds.elements.x00120064!.items![0]!.dataSet!.string('x00080100'), '113100');
      assert.deepEqual(pixelBytes(ds), study.pixelData);
      assert.ok(result.stats.privateRemoved >= 7 && result.stats.removed > 20 && result.stats.uidsReplaced >= 6);
    }
  });
}

test('the same original UID maps to the same replacement in every instance, and the patient to one pseudonym', () => {
  const study = buildSentinelStudy({ slices: 3 });
  const results = study.files.map((f) => deidentifyPart10(f, SECRET));
  assert.equal(new Set(results.map((r) => r.studyInstanceUid)).size, 1);
  assert.equal(new Set(results.map((r) => r.seriesInstanceUid)).size, 1);
  assert.equal(new Set(results.map((r) => r.sopInstanceUid)).size, 3);
  assert.equal(new Set(results.map((r) => r.patientPseudonym)).size, 1);
  const frames = results.map((r) => parse(r.part10).string('x00200052'));
  assert.equal(new Set(frames).size, 1);
  // The referenced image UID nested two deep is replaced by the same derivation as a top-level one.
  const nested = results.map((r) => parse(r.part10).elements.x00082112!.items![0]!.dataSet!.string('x00081155'));
  assert.equal(new Set(nested).size, 1);
  // Deterministic: across calls (a restart), and different under another secret.
  assert.deepEqual(deidentifyPart10(study.files[0]!, SECRET).part10, results[0]!.part10);
  assert.notEqual(deidentifyPart10(study.files[0]!, Buffer.alloc(32, 1)).studyInstanceUid, results[0]!.studyInstanceUid);
});

test('re-identification returns the originals of the UIDs and of the pseudonym that were sent', () => {
  const study = buildSentinelStudy({ slices: 2 });
  const map = createMemoryDeidMap();
  const deid = createDeidentifier({ secret: SECRET, map });
  const [a, b] = study.files.map((f) => deid.deidentify(f));
  assert.equal(deid.reidentifyUid(a!.studyInstanceUid), study.studyUid);
  assert.equal(deid.reidentifyUid(b!.seriesInstanceUid), study.seriesUid);
  assert.equal(deid.reidentifyUid(b!.sopInstanceUid), study.sopInstanceUids[1]);
  assert.equal(deid.reidentifyPatient(a!.patientPseudonym), `${study.patientId}^^^${study.issuerOfPatientId}`);
  assert.equal(map.entries().filter((e) => e.kind === 'uid' && e.original === study.studyUid).length, 1);
  assert.equal(deid.reidentifyUid('2.25.1'), undefined);
});

test('Retain UIDs keeps every UID; full dates keep dates and say UNMODIFIED', () => {
  const study = buildSentinelStudy({ slices: 1 });
  const result = deidentifyPart10(study.files[0]!, SECRET, { retainUids: true, dates: 'keep' });
  const ds = parse(result.part10);
  assert.equal(result.studyInstanceUid, study.studyUid);
  assert.equal(result.sopInstanceUid, study.sopInstanceUids[0]);
  assert.equal(ds.string('x00080020'), study.dates[1]);
  assert.equal(ds.string('x00280303'), 'UNMODIFIED');
  // The birth date is no longitudinal information: Z whatever the option (Table E.1-1).
  assert.equal(ds.string('x00100030'), undefined);
  const codes = ds.elements.x00120064!.items!.map((i) => i.dataSet!.string('x00080100'));
  assert.deepEqual(codes, ['113100', '113106', '113110']);
  // Names and IDs are still gone.
  const text = scannable(result.part10);
  assert.deepEqual(study.sentinels.filter((s) => text.includes(s)), []);
});

test('Modified Dates moves every date of a patient back by the same number of days', () => {
  const study = buildSentinelStudy({ slices: 2 });
  const results = study.files.map((f) => deidentifyPart10(f, SECRET, { dates: 'shift' }));
  const days = (a: string, b: string) => (Date.UTC(+a.slice(0, 4), +a.slice(4, 6) - 1, +a.slice(6, 8)) - Date.UTC(+b.slice(0, 4), +b.slice(4, 6) - 1, +b.slice(6, 8))) / 86_400_000;
  const shifts = results.flatMap((r) => {
    const ds = parse(r.part10);
    return [
      days(ds.string('x00080020')!, study.dates[1]!),
      days(ds.string('x00080021')!, study.dates[2]!),
      days(ds.string('x001021d0')!, study.dates[4]!),
      days(ds.string('x0008002a')!.slice(0, 8), study.dates[3]!),
    ];
  });
  assert.equal(new Set(shifts).size, 1);
  assert.ok(shifts[0]! <= -1 && shifts[0]! >= -3650);
  assert.equal(parse(results[0]!.part10).string('x00280303'), 'MODIFIED');
  assert.equal(parse(results[0]!.part10).string('x00080030'), study.times[0], 'times are kept with moved dates');
});

test('Clean Descriptors keeps descriptions without the names, IDs and dates found elsewhere in the dataset', () => {
  const study = buildSentinelStudy({ slices: 1, descriptionsMentionPatient: true });
  const result = deidentifyPart10(study.files[0]!, SECRET, { cleanDescriptors: true });
  const ds = parse(result.part10);
  assert.equal(ds.string('x00204000'), 'HEAD CT for * * born * id * phone * ok');
  assert.equal(result.stats.cleaned > 0, true);
  // Everything the profile removes is still gone; the descriptions' own sentinels are what remains.
  const text = scannable(result.part10);
  assert.deepEqual([...study.uids, ...study.dates].filter((v) => text.includes(v)), []);
});

test('Explicit VR Big Endian is refused with MEDGE_ERR_DEID_UNSUPPORTED, a truncated file with MEDGE_ERR_DEID_MALFORMED', () => {
  const file = buildSentinelStudy({ slices: 1 }).files[0]!;
  const meta = readFileMeta(file)!;
  const bigEndian = Buffer.from(file);
  // Same length as the Explicit VR LE UID, so the File Meta stays well formed.
  const at = bigEndian.indexOf(Buffer.from(TS.ExplicitVRLittleEndian, 'latin1'), 132);
  bigEndian.write(TS.ExplicitVRBigEndian, at, 'latin1');
  assert.throws(() => deidentifyPart10(bigEndian, SECRET), (e) => isMedgeError(e) && e.code === 'MEDGE_ERR_DEID_UNSUPPORTED');
  const truncated = file.subarray(0, meta.datasetOffset + 300);
  assert.throws(() => deidentifyPart10(truncated, SECRET), (e) => isMedgeError(e) && e.code === 'MEDGE_ERR_DEID_MALFORMED');
  assert.throws(() => deidentifyPart10(Buffer.from('not dicom'), SECRET), (e) => isMedgeError(e) && e.code === 'MEDGE_ERR_DEID_MALFORMED');
  assert.throws(() => deidentifyPart10(file, Buffer.alloc(8)), (e) => isMedgeError(e) && e.code === 'MEDGE_ERR_DEID_SECRET');
});
