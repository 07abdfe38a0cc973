import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticateUser, userIdentityResponse } from './user-identity.js';
import { decodeAssociateAc, decodeAssociateRq, encodeAssociateAc, encodeAssociateRq, type UserIdentity } from './pdu-associate.js';
import { DICOM_APPLICATION_CONTEXT, PDU_HEADER_LENGTH, UserIdentityType } from './pdu-constants.js';

const id = (type: number, primary: string, secondary = '', positiveResponseRequested = true): UserIdentity =>
  ({ type, positiveResponseRequested, primary: Buffer.from(primary, 'utf8'), secondary: Buffer.from(secondary, 'utf8') });
const users = [{ username: 'ct-room-1', passcode: 's3cret' }, { username: 'router' }, { username: 'Zoë' }];

test('user identity: username and passcode against dicom.users; types 3 to 5 never authenticated', () => {
  assert.equal(authenticateUser(id(UserIdentityType.UsernameAndPasscode, 'ct-room-1', 's3cret'), users), 'ct-room-1');
  assert.equal(authenticateUser(id(UserIdentityType.UsernameAndPasscode, 'ct-room-1', 's3creT'), users), undefined);
  assert.equal(authenticateUser(id(UserIdentityType.UsernameAndPasscode, 'ct-room-1', ''), users), undefined);
  assert.equal(authenticateUser(id(UserIdentityType.Username, 'ct-room-1'), users), undefined, 'a user with a passcode must give it');
  assert.equal(authenticateUser(id(UserIdentityType.Username, 'router'), users), 'router');
  assert.equal(authenticateUser(id(UserIdentityType.UsernameAndPasscode, 'router', 'anything'), users), 'router');
  assert.equal(authenticateUser(id(UserIdentityType.Username, 'Zoë'), users), 'Zoë', 'usernames are UTF-8 (PS3.7 Table D.3-14)');
  assert.equal(authenticateUser(id(UserIdentityType.Username, 'nobody'), users), undefined);
  assert.equal(authenticateUser(id(UserIdentityType.Saml, 'router'), users), undefined);
  assert.equal(authenticateUser(id(UserIdentityType.Username, 'router'), []), undefined, 'no users: nothing is authenticated');
  assert.equal(authenticateUser(undefined, users), undefined);
});

test('user identity: a positive response only when asked for and authenticated (PS3.7 D.3.3.7)', () => {
  assert.deepEqual(userIdentityResponse(id(UserIdentityType.Username, 'router'), 'router'), Buffer.alloc(0));
  assert.equal(userIdentityResponse(id(UserIdentityType.Username, 'router', '', false), 'router'), undefined);
  assert.equal(userIdentityResponse(id(UserIdentityType.Username, 'nobody'), undefined), undefined);
});

test('user identity sub-items 58H and 59H round-trip through A-ASSOCIATE-RQ and -AC', () => {
  const common = { calledAe: 'MEDGE', callingAe: 'CT1', applicationContext: DICOM_APPLICATION_CONTEXT, protocolVersion: 1 };
  const identity = id(UserIdentityType.UsernameAndPasscode, 'ct-room-1', 's3cret');
  const rq = decodeAssociateRq(encodeAssociateRq({ ...common, contexts: [], user: { maxPduLength: 16384, userIdentity: identity } }).subarray(PDU_HEADER_LENGTH));
  assert.deepEqual(rq.user.userIdentity, identity);
  const ac = decodeAssociateAc(encodeAssociateAc({ ...common, contexts: [], user: { maxPduLength: 16384, userIdentityResponse: Buffer.alloc(0) } }).subarray(PDU_HEADER_LENGTH));
  assert.deepEqual(ac.user.userIdentityResponse, Buffer.alloc(0));
  const none = decodeAssociateAc(encodeAssociateAc({ ...common, contexts: [], user: { maxPduLength: 16384 } }).subarray(PDU_HEADER_LENGTH));
  assert.equal(none.user.userIdentityResponse, undefined);
});
