import { test } from 'node:test';
import assert from 'node:assert/strict';
import { methodCodes, methodDescription, resolveAction } from './profile.js';
import { PROFILE_TABLE } from './profile-table.js';
import { SEQUENCE_TAGS } from './sequence-tags.js';

test('the table is the whole of PS3.15 Table E.1-1 (2024b), one row per attribute, with valid actions', () => {
  assert.equal(PROFILE_TABLE.length, 621);
  assert.equal(new Set(PROFILE_TABLE.map((r) => r[0])).size, PROFILE_TABLE.length);
  const basic = new Set(['D', 'Z', 'X', 'K', 'C', 'U', 'Z/D', 'X/Z', 'X/D', 'X/Z/D', 'X/Z/U*']);
  for (const [tag, , action, options] of PROFILE_TABLE) {
    assert.match(tag, /^([0-9a-f]{8}|50xxxxxx|60xx[0-9a-f]{4}|private)$/);
    assert.ok(basic.has(action), `${tag} ${action}`);
    for (const o of Object.values(options)) assert.ok(o === 'K' || o === 'C', `${tag} option ${o}`);
  }
  // Every U is a UI, so that a replacement UID is always valid for its VR.
  for (const [tag, vr, action] of PROFILE_TABLE) if (action === 'U') assert.equal(vr, 'UI', tag);
  assert.ok(SEQUENCE_TAGS.has(0x00400275) && SEQUENCE_TAGS.has(0x00082112) && !SEQUENCE_TAGS.has(0x00100010));
});

test('actions of well-known attributes, repeating groups and private tags', () => {
  const action = (tag: number, o = {}) => resolveAction(tag, o)?.action;
  assert.equal(action(0x00100010), 'zero'); // Patient's Name Z
  assert.equal(action(0x0020000d), 'uid'); // Study Instance UID U
  assert.equal(action(0x00080080), 'zero-or-dummy'); // Institution Name X/Z/D
  assert.equal(action(0x00081030), 'remove'); // Study Description X
  assert.equal(action(0x00081140), 'walk'); // Referenced Image Sequence X/Z/U*
  assert.equal(action(0x00080022), 'remove-or-zero'); // Acquisition Date X/Z
  assert.equal(action(0x60024000), 'remove'); // Overlay Comments of the second overlay group
  assert.equal(action(0x501e0010), 'remove'); // Curve data
  assert.equal(action(0x00291010), 'remove'); // any private element
  assert.equal(action(0x00280010), undefined); // Rows: not in the table, kept
});

test('options relax exactly their column', () => {
  const action = (tag: number, o: object) => resolveAction(tag, o)?.action;
  assert.equal(action(0x0020000d, { retainUids: true }), 'keep');
  assert.equal(action(0x00080020, { dates: 'keep' }), 'keep');
  assert.equal(action(0x00080020, { dates: 'shift' }), 'shift');
  assert.equal(action(0x00100030, { dates: 'keep' }), 'zero'); // birth date is not in the dates column
  assert.equal(action(0x00081030, { cleanDescriptors: true }), 'clean');
  assert.equal(action(0x00181000, { retainDeviceIdentity: true }), 'keep');
  assert.equal(action(0x00080080, { retainInstitutionIdentity: true }), 'keep');
  assert.equal(action(0x00100040, { retainPatientCharacteristics: true }), 'keep');
  // Allergies: C in both Patient Characteristics and Clean Descriptors; retained Patient Characteristics cleans.
  assert.equal(action(0x00102110, { retainPatientCharacteristics: true }), 'clean');
});

test('CID 7050 codes and the method description name the profile and each option used', () => {
  assert.deepEqual(methodCodes({}).map((c) => c.value), ['113100']);
  const all = { cleanDescriptors: true, dates: 'shift' as const, retainPatientCharacteristics: true, retainDeviceIdentity: true, retainUids: true, retainInstitutionIdentity: true };
  assert.deepEqual(methodCodes(all).map((c) => c.value), ['113100', '113105', '113107', '113108', '113109', '113110', '113112']);
  for (const v of methodDescription(all)) assert.ok(v.length <= 64 && !v.includes('\\'), v);
});
