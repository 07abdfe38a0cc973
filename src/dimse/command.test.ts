import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommand, encodeCommand, type DimseCommand } from './command.js';
import { CommandField } from './pdu-constants.js';
import { isMedgeError } from '../errors.js';

test('C-STORE-RQ round trip; group length first and equal to the rest (PS3.7 6.3.1, E.1)', () => {
  const cmd: DimseCommand = {
    commandField: CommandField.CStoreRq,
    messageId: 7,
    affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    affectedSopInstanceUid: '1.2.3.4.5',
    priority: 0,
    hasDataset: true,
  };
  const buf = encodeCommand(cmd);
  assert.equal(buf.readUInt32LE(0), 0x00000000);
  assert.equal(buf.readUInt32LE(8), buf.length - 12);
  assert.equal(buf.length % 2, 0);
  assert.deepEqual(decodeCommand(buf), cmd);
});

test('C-STORE-RSP with error comment truncated to 64 characters; no dataset (0101H)', () => {
  const cmd: DimseCommand = {
    commandField: CommandField.CStoreRsp,
    messageIdBeingRespondedTo: 7,
    hasDataset: false,
    status: 0xc000,
    errorComment: 'x'.repeat(80),
  };
  const back = decodeCommand(encodeCommand(cmd));
  assert.equal(back.hasDataset, false);
  assert.equal(back.status, 0xc000);
  assert.equal(back.errorComment, 'x'.repeat(64));
});

test('unknown command elements are skipped; missing command field is an error', () => {
  const extra = Buffer.alloc(10);
  extra.writeUInt16LE(0x0000, 0);
  extra.writeUInt16LE(0x5010, 2); // retired Message Set ID
  extra.writeUInt32LE(2, 4);
  const buf = Buffer.concat([encodeCommand({ commandField: CommandField.CEchoRq, messageId: 1, hasDataset: false }), extra]);
  assert.equal(decodeCommand(buf).commandField, CommandField.CEchoRq);
  assert.throws(() => decodeCommand(Buffer.alloc(0)), (e) => isMedgeError(e, 'MEDGE_ERR_DIMSE_PDU'));
  const truncated = encodeCommand({ commandField: 1, hasDataset: false }).subarray(0, 15);
  assert.throws(() => decodeCommand(truncated), (e) => isMedgeError(e, 'MEDGE_ERR_DIMSE_PDU'));
});

test('N-ACTION-RQ and N-EVENT-REPORT-RQ carry Action Type ID (0000,1008) and Event Type ID (0000,1002) (PS3.7 E.1-1)', () => {
  const action = { commandField: 0x0130, messageId: 7, requestedSopClassUid: '1.2.840.10008.1.20.1', requestedSopInstanceUid: '1.2.840.10008.1.20.1.1', actionTypeId: 1, hasDataset: true };
  assert.deepEqual(decodeCommand(encodeCommand(action)), action);
  const report = { commandField: 0x0100, messageId: 8, affectedSopClassUid: '1.2.840.10008.1.20.1', affectedSopInstanceUid: '1.2.840.10008.1.20.1.1', eventTypeId: 2, hasDataset: true };
  const bytes = encodeCommand(report);
  assert.deepEqual(decodeCommand(bytes), report);
  // Ascending tag order: (0000,1000), then (0000,1002).
  assert.ok(bytes.indexOf(Buffer.from([0, 0, 0x00, 0x10])) < bytes.indexOf(Buffer.from([0, 0, 0x02, 0x10])));
});
