import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeIdentifier, encodeIdentifier, IDENTIFIER_SYNTAXES, type IdentifierElement } from './dataset-codec.js';
import { parseIdentifier } from './scp-find.js';
import { isMedgeError } from '../errors.js';
import { TS } from '../dicom/uids.js';

const elements: IdentifierElement[] = [
  { tag: 0x00080052, vr: 'CS', value: 'SERIES' },
  { tag: 0x00100010, vr: 'PN', value: 'DOE^J*' },
  { tag: 0x0020000d, vr: 'UI', value: '1.2.3' },
  { tag: 0x00280010, vr: 'US', value: '512' },
  { tag: 0x00200011, vr: 'IS', value: '' },
];

test('identifier round trip in every supported transfer syntax (PS3.5 A.1, A.2, A.5)', () => {
  for (const ts of IDENTIFIER_SYNTAXES) {
    const back = decodeIdentifier(encodeIdentifier(elements, ts), ts);
    assert.deepEqual(back, [...elements].sort((a, b) => a.tag - b.tag), ts);
  }
});

test('sequences (undefined and defined length) are skipped on decode', () => {
  const ts = TS.ExplicitVRLittleEndian;
  const head = encodeIdentifier([{ tag: 0x00080052, vr: 'CS', value: 'STUDY' }], ts);
  const inner = encodeIdentifier([{ tag: 0x00080100, vr: 'SH', value: 'X' }], ts);
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
  const tag = (g: number, e: number) => { const b = Buffer.alloc(4); b.writeUInt16LE(g); b.writeUInt16LE(e, 2); return b; };
  const seq = Buffer.concat([
    tag(0x0008, 0x1032), Buffer.from('SQ\0\0'), u32(0xffffffff),
    tag(0xfffe, 0xe000), u32(0xffffffff), inner, tag(0xfffe, 0xe00d), u32(0),
    tag(0xfffe, 0xe000), u32(inner.length), inner,
    tag(0xfffe, 0xe0dd), u32(0),
  ]);
  const tail = encodeIdentifier([{ tag: 0x0020000d, vr: 'UI', value: '9.8' }], ts);
  const back = decodeIdentifier(Buffer.concat([head, seq, tail]), ts);
  assert.deepEqual(back.map((e) => e.value), ['STUDY', '9.8']);
  // Implicit VR: an undefined length marks a sequence.
  const imp = TS.ImplicitVRLittleEndian;
  const impSeq = Buffer.concat([tag(0x0008, 0x1032), u32(0xffffffff), tag(0xfffe, 0xe0dd), u32(0)]);
  assert.equal(decodeIdentifier(Buffer.concat([impSeq, encodeIdentifier([{ tag: 0x00080052, vr: 'CS', value: 'IMAGE' }], imp)]), imp)[0]!.value, 'IMAGE');
});

test('a lying element length is a parse error, not a crash', () => {
  const buf = encodeIdentifier(elements, TS.ExplicitVRLittleEndian);
  buf.writeUInt16LE(0x7fff, 6);
  assert.throws(() => decodeIdentifier(buf, TS.ExplicitVRLittleEndian), (e) => isMedgeError(e, 'MEDGE_ERR_INGEST_PARSE'));
});

test('parseIdentifier: level, keys by keyword, requested tags; bad level is MEDGE_ERR_DIMSE_IDENTIFIER', () => {
  const parsed = parseIdentifier(encodeIdentifier(elements, TS.ImplicitVRLittleEndian), TS.ImplicitVRLittleEndian);
  assert.equal(parsed.level, 'SERIES');
  assert.deepEqual(parsed.keys, { PatientName: 'DOE^J*', StudyInstanceUID: '1.2.3', SeriesNumber: '', Rows: '512' });
  const noLevel = encodeIdentifier([{ tag: 0x00080052, vr: 'CS', value: 'PATIENT' }], TS.ImplicitVRLittleEndian);
  assert.throws(() => parseIdentifier(noLevel, TS.ImplicitVRLittleEndian), (e) => isMedgeError(e, 'MEDGE_ERR_DIMSE_IDENTIFIER'));
});
