import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOGUE, MedgeError, toMedgeError } from './errors.js';

test('docs/errors.md lists exactly the codes of the catalogue', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^\| `(MEDGE_ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, Object.keys(ERROR_CATALOGUE).sort());
});

test('codes follow MEDGE_ERR_<AREA>_<WHAT>', () => {
  for (const code of Object.keys(ERROR_CATALOGUE)) assert.match(code, /^MEDGE_ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/);
});

test('causes are chained and non-medge errors wrapped', () => {
  const cause = new Error('EIO');
  const err = new MedgeError('MEDGE_ERR_STORE_IO', 'cannot write', { path: 'x' }, cause);
  assert.equal(err.cause, cause);
  assert.equal(toMedgeError(err), err);
  assert.equal(toMedgeError(cause).code, 'MEDGE_ERR_INTERNAL');
});
