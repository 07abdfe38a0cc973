/**
 * Bad input with raw sockets (PS3.8 9.2: invalid PDUs are answered with A-ABORT): after each case
 * the SCP still serves a fresh echoscu association. Also a C-STORE whose dataset lies about an
 * element length fails with C000 and an error comment, and the association carries on.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { readFileMeta } from '../dicom/part10.js';
import { DCMTK_HINT, requireTool, skipMessage } from '../../test/helpers/peers.js';
import { realData } from '../../test/helpers/real-data.js';
import { decodeCommand, encodeCommand } from './command.js';
import { RawPeer, runTool, startTestScp, type TestScp } from './int-test-harness.js';
import { encodeAssociateRq, type PresentationContextRq } from './pdu-associate.js';
import { decodePdu, fragmentMessage, type Pdu } from './pdu.js';
import { CommandField, DICOM_APPLICATION_CONTEXT } from './pdu-constants.js';

const skip = requireTool('echoscu', DCMTK_HINT) ? false : skipMessage('echoscu', DCMTK_HINT);
const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';
let scp: TestScp;

before(async () => {
  if (!skip) scp = await startTestScp({ aeTitle: 'MEDGE', maxPduLength: 16384, artimTimeoutMs: 2000 });
});
after(async () => {
  if (!skip) await scp.close();
});

async function echoStillWorks(): Promise<void> {
  const r = await runTool('echoscu', ['-aec', 'MEDGE', '127.0.0.1', String(scp.port)]);
  assert.equal(r.code, 0, r.output);
}

async function associate(contexts: PresentationContextRq[]): Promise<{ peer: RawPeer; ac: Extract<Pdu, { type: 'associate-ac' }>['ac'] }> {
  const peer = await RawPeer.connect(scp.port);
  peer.send(encodeAssociateRq({ calledAe: 'MEDGE', callingAe: 'RAW', applicationContext: DICOM_APPLICATION_CONTEXT, protocolVersion: 1, contexts, user: { maxPduLength: 32768 } }));
  const pdu = decodePdu((await peer.next())!);
  assert.equal(pdu.type, 'associate-ac');
  return { peer, ac: (pdu as Extract<Pdu, { type: 'associate-ac' }>).ac };
}

async function expectAbort(peer: RawPeer): Promise<void> {
  const pdu = await peer.next();
  assert.ok(pdu, 'expected an A-ABORT before the close');
  assert.equal(decodePdu(pdu).type, 'abort');
  await peer.closed;
}

test('garbage bytes get A-ABORT (unrecognized PDU) and a close', { skip }, async () => {
  const peer = await RawPeer.connect(scp.port);
  peer.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await expectAbort(peer);
  await echoStillWorks();
});

test('a PDU shorter than its fixed part gets A-ABORT', { skip }, async () => {
  const peer = await RawPeer.connect(scp.port);
  peer.send(Buffer.from([1, 0, 0, 0, 0, 4, 0, 1, 0, 0]));
  await expectAbort(peer);
  await echoStillWorks();
});

test('a truncated PDU followed by a half-close does not hang the server', { skip }, async () => {
  const peer = await RawPeer.connect(scp.port);
  peer.send(Buffer.from([1, 0, 0, 0, 0, 200, 0, 1, 0, 0]));
  peer.end();
  await peer.closed;
  await echoStillWorks();
});

test('a peer that connects and says nothing is closed by ARTIM (PS3.8 9.1.5)', { skip }, async () => {
  const peer = await RawPeer.connect(scp.port);
  await peer.closed;
  await echoStillWorks();
});

test('an oversized P-DATA-TF length gets A-ABORT', { skip }, async () => {
  const { peer } = await associate([{ id: 1, abstractSyntax: CT, transferSyntaxes: [EXPLICIT] }]);
  const header = Buffer.from([4, 0, 0, 0, 0, 0]);
  header.writeUInt32BE(0x7fffffff, 2);
  peer.send(header);
  await expectAbort(peer);
  await echoStillWorks();
});

test('an unknown SOP class context is rejected with result 3; the association still works', { skip }, async () => {
  const { peer, ac } = await associate([
    { id: 1, abstractSyntax: '1.2.3.4.5.999', transferSyntaxes: [EXPLICIT] },
    { id: 3, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: [EXPLICIT] },
  ]);
  assert.deepEqual(ac.contexts.map((c) => [c.id, c.result]), [[1, 3], [3, 0]]);
  for (const pdu of fragmentMessage(3, true, encodeCommand({ commandField: CommandField.CEchoRq, messageId: 1, affectedSopClassUid: '1.2.840.10008.1.1', hasDataset: false }), 32768)) peer.send(pdu);
  const rsp = decodePdu((await peer.next())!) as Extract<Pdu, { type: 'p-data' }>;
  assert.equal(decodeCommand(rsp.pdvs[0]!.data).status, 0);
  // Data on the rejected context is a protocol error: A-ABORT.
  for (const pdu of fragmentMessage(1, true, encodeCommand({ commandField: CommandField.CEchoRq, messageId: 2, hasDataset: false }), 32768)) peer.send(pdu);
  await expectAbort(peer);
  await echoStillWorks();
});

test('C-STORE with a lying element length: C000 with error comment, then the next C-STORE succeeds', { skip: skip || (!realData('transfer-syntaxes') && 'real data missing') }, async () => {
  const file = await readFile(realData('transfer-syntaxes', 'ct', 'CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm')!);
  const meta = readFileMeta(file)!;
  const good = file.subarray(meta.datasetOffset);
  // Pixel Data (7FE0,0010) OW: claim 1000 bytes more than there are.
  const bad = Buffer.from(good);
  const at = bad.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  bad.writeUInt32LE(bad.readUInt32LE(at + 8) + 1000, at + 8);
  const { peer } = await associate([{ id: 1, abstractSyntax: CT, transferSyntaxes: [EXPLICIT] }]);
  const store = async (dataset: Buffer, messageId: number) => {
    const cmd = encodeCommand({ commandField: CommandField.CStoreRq, messageId, affectedSopClassUid: CT, affectedSopInstanceUid: meta.mediaStorageSopInstanceUid, priority: 0, hasDataset: true });
    for (const pdu of [...fragmentMessage(1, true, cmd, 32768), ...fragmentMessage(1, false, dataset, 16384)]) peer.send(pdu);
    const rsp = decodePdu((await peer.next())!) as Extract<Pdu, { type: 'p-data' }>;
    return decodeCommand(rsp.pdvs[0]!.data);
  };
  const failed = await store(bad, 1);
  assert.equal(failed.commandField, CommandField.CStoreRsp);
  assert.equal(failed.messageIdBeingRespondedTo, 1);
  assert.equal(failed.status, 0xc000);
  assert.ok(failed.errorComment && failed.errorComment.length > 0 && failed.errorComment.length <= 64, failed.errorComment);
  const ok = await store(good, 2);
  assert.equal(ok.status, 0x0000);
  assert.ok(scp.index.getInstance(meta.mediaStorageSopInstanceUid));
  peer.send(Buffer.from([5, 0, 0, 0, 0, 4, 0, 0, 0, 0]));
  assert.equal(decodePdu((await peer.next())!).type, 'release-rp');
  peer.end();
  await peer.closed;
  await echoStillWorks();
});
