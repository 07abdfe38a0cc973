import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { STORAGE_SOP_CLASSES } from '../dicom/sop-classes.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, STORABLE_TRANSFER_SYNTAXES } from '../dicom/uids.js';
import { acceptableSyntaxes } from './negotiation.js';
import * as C from './pdu-constants.js';

test('docs/conformance.md names every non-storage SOP class the node accepts, the storage class count and its implementation identity', () => {
  const doc = readFileSync(new URL('../../../docs/conformance.md', import.meta.url), 'utf8');
  const services = [C.VERIFICATION_SOP_CLASS, C.PATIENT_ROOT_FIND, C.STUDY_ROOT_FIND, C.PATIENT_ROOT_MOVE, C.STUDY_ROOT_MOVE, C.PATIENT_ROOT_GET, C.STUDY_ROOT_GET, C.STORAGE_COMMITMENT_PUSH];
  for (const uid of services) {
    assert.ok(acceptableSyntaxes(uid), `${uid} is negotiated`);
    assert.ok(doc.includes(`| ${uid} |`), `${uid} is in the services table`);
  }
  assert.ok(doc.includes(`every standard storage SOP class (${STORAGE_SOP_CLASSES.size},`), 'the storage class count is current');
  assert.ok(doc.includes(IMPLEMENTATION_CLASS_UID) && doc.includes(IMPLEMENTATION_VERSION_NAME));
  assert.equal(STORABLE_TRANSFER_SYNTAXES.size, 41, 'a new storable transfer syntax: list it in docs/conformance.md, then update this count');
});
