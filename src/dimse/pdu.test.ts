import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePdu, encodeAbort, encodeAssociateRj, encodeReleaseRp, encodeReleaseRq, fragmentMessage, maxDataPerPdu, type Pdu } from './pdu.js';
import { encodeAssociateAc, encodeAssociateRq, type AssociateRq } from './pdu-associate.js';
import { DICOM_APPLICATION_CONTEXT, ItemType, PDV_HEADER_LENGTH } from './pdu-constants.js';
import { isMedgeError } from '../errors.js';

const rq: AssociateRq = {
  calledAe: 'MEDGE',
  callingAe: 'SCANNER1',
  applicationContext: DICOM_APPLICATION_CONTEXT,
  protocolVersion: 1,
  contexts: [
    { id: 1, abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.1'] },
    { id: 3, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
  ],
  user: { maxPduLength: 16384, implementationClassUid: '1.2.3.4', implementationVersionName: 'TEST_1' },
};

test('A-ASSOCIATE-RQ round trip keeps AEs, contexts and user information (PS3.8 9.3.2)', () => {
  const pdu = decodePdu(encodeAssociateRq(rq));
  assert.equal(pdu.type, 'associate-rq');
  assert.deepEqual((pdu as Extract<Pdu, { type: 'associate-rq' }>).rq, rq);
});

test('A-ASSOCIATE-AC round trip (PS3.8 9.3.3)', () => {
  const ac = { ...rq, contexts: [{ id: 1, result: 0, transferSyntax: '1.2.840.10008.1.2.4.90' }, { id: 3, result: 3, transferSyntax: '1.2.840.10008.1.2' }] };
  const pdu = decodePdu(encodeAssociateAc(ac));
  assert.equal(pdu.type, 'associate-ac');
  assert.deepEqual((pdu as Extract<Pdu, { type: 'associate-ac' }>).ac, ac);
});

test('role selection sub-items (54h) are decoded; unknown ones (async ops 53h) are ignored', () => {
  const buf = encodeAssociateRq(rq);
  // Append a role selection sub-item inside the user information item (the last item).
  const role = Buffer.from([ItemType.RoleSelection, 0, 0, 7, 0, 3, 0x31, 0x2e, 0x32, 1, 0]);
  const asyncOps = Buffer.from([ItemType.AsyncOperations, 0, 0, 4, 0, 1, 0, 1]);
  const extra = Buffer.concat([role, asyncOps]);
  const userStart = buf.lastIndexOf(Buffer.from([ItemType.UserInformation, 0]));
  const patched = Buffer.concat([buf, extra]);
  patched.writeUInt16BE(buf.readUInt16BE(userStart + 2) + extra.length, userStart + 2);
  patched.writeUInt32BE(patched.length - 6, 2);
  const pdu = decodePdu(patched) as Extract<Pdu, { type: 'associate-rq' }>;
  assert.deepEqual(pdu.rq.user, { ...rq.user, roles: [{ sopClassUid: '1.2', scu: true, scp: false }] });
});

test('SCP/SCU role selection round trip (PS3.7 D.3.3.4): the storage commitment SCP role a report association proposes', () => {
  const withRoles: AssociateRq = { ...rq, user: { ...rq.user, roles: [{ sopClassUid: '1.2.840.10008.1.20.1', scu: false, scp: true }] } };
  const encoded = encodeAssociateRq(withRoles);
  // UID-length 20, the UID, SCU-role 0, SCP-role 1 (PS3.7 Table D.3-9).
  const item = Buffer.concat([Buffer.from([ItemType.RoleSelection, 0, 0, 24, 0, 20]), Buffer.from('1.2.840.10008.1.20.1', 'latin1'), Buffer.from([0, 1])]);
  assert.ok(encoded.includes(item));
  assert.deepEqual((decodePdu(encoded) as Extract<Pdu, { type: 'associate-rq' }>).rq, withRoles);
});

test('fixed PDUs: RJ, release, abort (PS3.8 9.3.4, 9.3.6, 9.3.7, 9.3.8)', () => {
  assert.deepEqual(decodePdu(encodeAssociateRj(1, 1, 7)), { type: 'associate-rj', result: 1, source: 1, reason: 7 });
  assert.deepEqual(decodePdu(encodeReleaseRq()), { type: 'release-rq' });
  assert.deepEqual(decodePdu(encodeReleaseRp()), { type: 'release-rp' });
  assert.deepEqual(decodePdu(encodeAbort(2, 6)), { type: 'abort', source: 2, reason: 6 });
});

test('fragmentation respects the peer maximum and reassembles to the same bytes (PS3.8 D.1)', () => {
  const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i & 0xff));
  for (const max of [16, 4096, 9994, 10_006, 0]) {
    const pdus = fragmentMessage(5, false, data, max);
    const parts: Buffer[] = [];
    pdus.forEach((p, i) => {
      if (max) assert.ok(p.length - 6 <= max, `PDU variable field ${p.length - 6} > ${max}`);
      const d = decodePdu(p) as Extract<Pdu, { type: 'p-data' }>;
      assert.equal(d.pdvs.length, 1);
      assert.equal(d.pdvs[0]!.contextId, 5);
      assert.equal(d.pdvs[0]!.command, false);
      assert.equal(d.pdvs[0]!.last, i === pdus.length - 1);
      parts.push(d.pdvs[0]!.data);
    });
    assert.deepEqual(Buffer.concat(parts), data);
  }
  assert.equal(maxDataPerPdu(16384), 16384 - PDV_HEADER_LENGTH);
  assert.equal(maxDataPerPdu(16385), 16384 - PDV_HEADER_LENGTH);
  assert.equal(fragmentMessage(1, true, Buffer.alloc(0), 100).length, 1);
});

test('malformed PDUs throw MEDGE_ERR_DIMSE_PDU with an abort reason', () => {
  const bad = [
    Buffer.from([9, 0, 0, 0, 0, 4, 0, 0, 0, 0]), // unknown type
    Buffer.from([1, 0, 0, 0, 0, 10, 0, 1]), // length does not match
    Buffer.from([4, 0, 0, 0, 0, 6, 0, 0, 0, 99, 1, 0]), // PDV item longer than PDU
    Buffer.from([5, 0, 0, 0, 0, 2, 0, 0]), // release with a 2-byte field
    (() => {
      const b = encodeAssociateRq(rq);
      b.writeUInt16BE(0xffff, 6 + 68 + 2); // application context item length past the end
      return b;
    })(),
  ];
  for (const b of bad) {
    assert.throws(() => decodePdu(b), (err) => isMedgeError(err, 'MEDGE_ERR_DIMSE_PDU') && typeof err.fields.abortReason === 'number');
  }
});
