import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAssociation, negotiateContexts, negotiateRoles } from './negotiation.js';
import type { AssociateRq } from './pdu-associate.js';
import { DICOM_APPLICATION_CONTEXT, PcResult } from './pdu-constants.js';

const base: AssociateRq = {
  calledAe: 'MEDGE', callingAe: 'CT1', applicationContext: DICOM_APPLICATION_CONTEXT, protocolVersion: 1, contexts: [], user: { maxPduLength: 0 },
};
const policy = { aeTitle: 'MEDGE', aePolicy: 'open' as const, allowedPeers: [], maxAssociations: 2, requireUserIdentity: false };

test('called AE, calling AE allow-list, limit and application context (PS3.8 Table 9-21)', () => {
  assert.equal(checkAssociation(base, policy, '127.0.0.1', 0), undefined);
  assert.deepEqual(checkAssociation({ ...base, calledAe: 'OTHER' }, policy, '127.0.0.1', 0), { result: 1, source: 1, reason: 7, why: 'called-ae' });
  const allow = { ...policy, aePolicy: 'allow-list' as const, allowedPeers: [{ aeTitle: 'CT1', hosts: ['10.0.0.5'] }, { aeTitle: 'MR1' }] };
  assert.equal(checkAssociation(base, allow, '::ffff:10.0.0.5', 0), undefined);
  assert.equal(checkAssociation(base, allow, '10.0.0.6', 0)?.reason, 3);
  assert.equal(checkAssociation({ ...base, callingAe: 'MR1' }, allow, '192.168.1.1', 0), undefined);
  assert.equal(checkAssociation({ ...base, callingAe: 'XX' }, allow, '10.0.0.5', 0)?.why, 'calling-ae');
  assert.deepEqual(checkAssociation(base, policy, '127.0.0.1', 2), { result: 2, source: 3, reason: 2, why: 'limit' });
  assert.equal(checkAssociation({ ...base, applicationContext: '1.2.3' }, policy, '127.0.0.1', 0)?.reason, 2);
  const required = { ...policy, requireUserIdentity: true };
  assert.deepEqual(checkAssociation(base, required, '127.0.0.1', 0), { result: 1, source: 1, reason: 1, why: 'user-identity' });
  assert.equal(checkAssociation(base, required, '127.0.0.1', 0, 'modality1'), undefined);
});

test('contexts: first supported transfer syntax wins; unknown abstract syntax 3, no syntax 4 (PS3.8 Table 9-18)', () => {
  const rq: AssociateRq = {
    ...base,
    contexts: [
      { id: 1, abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: ['1.2.840.10008.1.2.4.999', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2'] },
      { id: 3, abstractSyntax: '1.2.3.4.5.6', transferSyntaxes: ['1.2.840.10008.1.2'] },
      { id: 5, abstractSyntax: '1.2.840.10008.5.1.4.1.1.4', transferSyntaxes: ['1.2.826.0.1.3680043.99.1'] },
      { id: 7, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
      { id: 9, abstractSyntax: '1.2.840.10008.5.1.4.1.2.2.1', transferSyntaxes: ['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.1'] },
    ],
  };
  const { answers, accepted } = negotiateContexts(rq);
  assert.deepEqual(answers.map((a) => [a.id, a.result]), [[1, PcResult.Acceptance], [3, 3], [5, 4], [7, 0], [9, 0]]);
  assert.equal(accepted.get(1)!.transferSyntax, '1.2.840.10008.1.2.4.90');
  assert.equal(accepted.get(9)!.transferSyntax, '1.2.840.10008.1.2.1');
  assert.equal(accepted.size, 3);
});

test('role selection answers (PS3.7 D.3.3.4): the SCU role as proposed, the SCP role only for storage SOP classes of accepted contexts', () => {
  const accepted = new Map([
    [1, { id: 1, abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntax: '1.2.840.10008.1.2.1' }],
    [3, { id: 3, abstractSyntax: '1.2.840.10008.5.1.4.1.2.2.3', transferSyntax: '1.2.840.10008.1.2.1' }],
  ]);
  assert.deepEqual(negotiateRoles([
    { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scu: false, scp: true },
    { sopClassUid: '1.2.840.10008.5.1.4.1.2.2.3', scu: true, scp: true },
    { sopClassUid: '1.2.840.10008.5.1.4.1.1.4', scu: false, scp: true },
  ], accepted), [
    { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scu: false, scp: true },
    { sopClassUid: '1.2.840.10008.5.1.4.1.2.2.3', scu: true, scp: false },
  ]);
  assert.deepEqual(negotiateRoles(undefined, accepted), []);
});
