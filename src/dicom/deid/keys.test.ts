import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isValidUid } from '../uids.js';
import { dateShiftDays, deriveUid, loadOrCreateSecret, patientKey, patientPseudonym } from './keys.js';

const SECRET = Buffer.alloc(32, 9);

test('a derived UID is a valid 2.25 UID of a version 8 UUID, stable, and differs by secret and by input', () => {
  const uid = deriveUid(SECRET, '1.2.840.113619.2.55.3.1');
  assert.ok(isValidUid(uid) && uid.startsWith('2.25.') && uid.length <= 44, uid);
  const hex = BigInt(uid.slice(5)).toString(16).padStart(32, '0');
  assert.equal(hex[12], '8'); // version
  assert.ok(['8', '9', 'a', 'b'].includes(hex[16]!)); // RFC 9562 variant
  assert.equal(deriveUid(SECRET, '1.2.840.113619.2.55.3.1'), uid);
  assert.notEqual(deriveUid(Buffer.alloc(32, 8), '1.2.840.113619.2.55.3.1'), uid);
  assert.notEqual(deriveUid(SECRET, '1.2.840.113619.2.55.3.2'), uid);
});

test('pseudonyms are short, valid as LO and PN, and stable; date shifts stay within ten years back', () => {
  const key = patientKey('12345', 'HOSP', 'DOE^JANE', '19700101', '1.2.3');
  assert.equal(key, '12345^^^HOSP');
  assert.equal(patientKey('', '', 'DOE^JANE', '19700101', '1.2.3'), 'name:DOE^JANE|19700101');
  const p = patientPseudonym(SECRET, key);
  assert.match(p, /^ANON-[A-Z2-7]{12}$/);
  assert.equal(patientPseudonym(SECRET, key), p);
  assert.notEqual(patientPseudonym(SECRET, '12346^^^HOSP'), p);
  const shifts = Array.from({ length: 200 }, (_, i) => dateShiftDays(SECRET, String(i)));
  assert.ok(shifts.every((d) => Number.isInteger(d) && d <= -1 && d >= -3650));
  assert.ok(new Set(shifts).size > 150);
});

test('loadOrCreateSecret makes a private 32-byte secret once and reads the same one afterwards', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-deid-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'deid.secret');
  const first = await loadOrCreateSecret(file);
  assert.equal(first.length, 32);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.deepEqual(await loadOrCreateSecret(file), first);
  assert.deepEqual(await readFile(file), Buffer.from(first));
});
