import { test } from 'node:test';
import assert from 'node:assert/strict';
import dicomParser, { type DataSet } from 'dicom-parser';
import { el, tag, writeDataset, type DataElement } from '../dicom/dataset-writer.js';
import { buildFileMeta } from '../dicom/part10.js';
import { TS } from '../dicom/uids.js';
import { isMedgeError } from '../errors.js';
import { createIngest } from '../ingest/ingest.js';
import { NodeEvents } from '../events/node-events.js';
import { createLogger } from '../observability/log.js';
import { MetricsRegistry } from '../observability/metrics.js';
import { createMemoryBlobStore } from '../store/memory-blob-store.js';
import { InstanceIndex, openIndexDb } from '../store/index-db.js';
import { CommandField, STORAGE_COMMITMENT_INSTANCE, STORAGE_COMMITMENT_PUSH } from '../dimse/pdu-constants.js';
import { createCommitmentScp } from './commitment.js';
import { loadRemoteAes } from '../dimse/remote-aes.js';
import { checkCommitment, encodeCommitmentReport, FailureReason } from './report.js';
import { CommitmentReports, REPORT_LIFETIME_MS, type PendingReport } from './reports.js';
import { decodeCommitmentRequest } from './request.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const MR = '1.2.840.10008.5.1.4.1.1.4';
const log = createLogger('silent');

function requestDataset(transactionUid: string | undefined, refs: [string, string][], ts: typeof TS.ExplicitVRLittleEndian | typeof TS.ImplicitVRLittleEndian = TS.ExplicitVRLittleEndian): Buffer {
  const elements: DataElement[] = [];
  if (transactionUid) elements.push(el(tag(0x0008, 0x1195), 'UI', transactionUid));
  elements.push(el(tag(0x0008, 0x1199), 'SQ', refs.map(([cls, sop]) => [el(tag(0x0008, 0x1150), 'UI', cls), el(tag(0x0008, 0x1155), 'UI', sop)])));
  return writeDataset(elements, ts);
}

function parse(bytes: Buffer, implicit: boolean): DataSet {
  const parser = dicomParser.littleEndianByteArrayParser;
  const ds = new (dicomParser as unknown as { DataSet: new (p: unknown, b: Uint8Array, e: object) => DataSet }).DataSet(parser, bytes, {});
  const stream = new dicomParser.ByteStream(parser, bytes, 0);
  if (implicit) dicomParser.parseDicomDataSetImplicit(ds, stream, bytes.length);
  else dicomParser.parseDicomDataSetExplicit(ds, stream, bytes.length);
  return ds;
}

test('a request decodes in Explicit and Implicit VR Little Endian (PS3.4 Table J.3-1)', () => {
  for (const ts of [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] as const) {
    const bytes = requestDataset('2.25.1', [[CT, '1.2.3.1'], [MR, '1.2.3.2']], ts);
    assert.deepEqual(decodeCommitmentRequest(bytes, ts), {
      transactionUid: '2.25.1',
      references: [{ sopClassUid: CT, sopInstanceUid: '1.2.3.1' }, { sopClassUid: MR, sopInstanceUid: '1.2.3.2' }],
    });
  }
});

test('a request without a Transaction UID, without references, with an incomplete item, in another syntax or unparseable is refused with the reason', () => {
  const refused = (bytes: Buffer, ts: string, reason: RegExp) =>
    assert.throws(() => decodeCommitmentRequest(bytes, ts), (err) => isMedgeError(err, 'MEDGE_ERR_COMMITMENT_REQUEST') && reason.test(err.message));
  refused(requestDataset(undefined, [[CT, '1.2.3.1']]), TS.ExplicitVRLittleEndian, /no Transaction UID \(0008,1195\)/);
  refused(requestDataset('2.25.1', []), TS.ExplicitVRLittleEndian, /no item in Referenced SOP Sequence/);
  const halfItem = writeDataset([el(tag(0x0008, 0x1195), 'UI', '2.25.1'), el(tag(0x0008, 0x1199), 'SQ', [[el(tag(0x0008, 0x1150), 'UI', CT)]])]);
  refused(halfItem, TS.ExplicitVRLittleEndian, /item 1 of Referenced SOP Sequence lacks/);
  refused(requestDataset('2.25.1', [[CT, '1.2.3.1']]), TS.ExplicitVRBigEndian, /transfer syntax .* is not one the node negotiates/);
  const lying = requestDataset('2.25.1', [[CT, '1.2.3.1']]);
  lying.writeUInt32LE(0x7fffffff, lying.indexOf(Buffer.from([0x08, 0x00, 0x99, 0x11])) + 8);
  refused(lying, TS.ExplicitVRLittleEndian, /cannot be parsed|no item/);
});

test('the report names the committed instances and each failure with its reason (PS3.4 Table J.3-2)', () => {
  const result = { committed: [{ sopClassUid: CT, sopInstanceUid: '1.2.3.1' }], failed: [{ sopClassUid: MR, sopInstanceUid: '1.2.3.9', reason: FailureReason.NoSuchObjectInstance }] };
  for (const ts of [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] as const) {
    const ds = parse(encodeCommitmentReport('2.25.7', result, ts), ts === TS.ImplicitVRLittleEndian);
    assert.equal(ds.string('x00081195'), '2.25.7');
    const ok = ds.elements.x00081199!.items!.map((i) => [i.dataSet!.string('x00081150'), i.dataSet!.string('x00081155')]);
    assert.deepEqual(ok, [[CT, '1.2.3.1']]);
    const failed = ds.elements.x00081198!.items!.map((i) => [i.dataSet!.string('x00081150'), i.dataSet!.string('x00081155'), i.dataSet!.uint16('x00081197')]);
    assert.deepEqual(failed, [[MR, '1.2.3.9', 0x0112]]);
  }
  const allGood = parse(encodeCommitmentReport('2.25.8', { committed: result.committed, failed: [] }, TS.ExplicitVRLittleEndian), false);
  assert.equal(allGood.elements.x00081198, undefined, 'no Failed SOP Sequence when nothing failed');
});

function part10(sop: string): Buffer {
  const dataset = writeDataset([
    el(tag(0x0008, 0x0016), 'UI', CT),
    el(tag(0x0008, 0x0018), 'UI', sop),
    el(tag(0x0020, 0x000d), 'UI', '1.2.3'),
    el(tag(0x0020, 0x000e), 'UI', '1.2.3.4'),
  ]);
  return Buffer.concat([buildFileMeta({ mediaStorageSopClassUid: CT, mediaStorageSopInstanceUid: sop, transferSyntaxUid: TS.ExplicitVRLittleEndian }), dataset]);
}

async function storedNode() {
  const index = new InstanceIndex(openIndexDb(':memory:'));
  const store = createMemoryBlobStore();
  const ingest = createIngest({ store, index, events: new NodeEvents(), metrics: new MetricsRegistry(), log, minFreeBytes: 0 });
  for (const sop of ['1.2.3.4.1', '1.2.3.4.2']) await ingest.storePart10(part10(sop), { protocol: 'stow' });
  return { index, store };
}

test('an instance is committed when indexed under its class with its file whole; otherwise the failure says why', async () => {
  const { index, store } = await storedNode();
  await store.delete(index.getInstance('1.2.3.4.2')!.blobKey);
  const result = await checkCommitment([
    { sopClassUid: CT, sopInstanceUid: '1.2.3.4.1' },
    { sopClassUid: CT, sopInstanceUid: '1.2.3.4.2' },
    { sopClassUid: CT, sopInstanceUid: '1.2.3.4.9' },
    { sopClassUid: MR, sopInstanceUid: '1.2.3.4.1' },
  ], { index, store });
  assert.deepEqual(result.committed, [{ sopClassUid: CT, sopInstanceUid: '1.2.3.4.1' }]);
  assert.deepEqual(result.failed.map((f) => [f.sopInstanceUid, f.reason]), [
    ['1.2.3.4.2', FailureReason.ProcessingFailure],
    ['1.2.3.4.9', FailureReason.NoSuchObjectInstance],
    ['1.2.3.4.1', FailureReason.ClassInstanceConflict],
  ]);
});

function clock(start = 1_800_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const REPORT: PendingReport = { transactionUid: '2.25.5', requesterAe: 'CT1', host: '10.0.0.9', port: 104, refs: [{ sopClassUid: CT, sopInstanceUid: '1.2.3.4.1' }] };

test('a report that cannot be delivered is retried with growing delays, survives a restart, and is delivered once', async () => {
  const { index, store } = await storedNode();
  const c = clock();
  const calls: { at: number; committed: number }[] = [];
  let failures = 2;
  const send = async (_r: PendingReport, result: { committed: unknown[] }) => {
    calls.push({ at: c.now(), committed: result.committed.length });
    if (failures-- > 0) throw new Error('ECONNREFUSED');
  };
  const metrics = new MetricsRegistry();
  const reports = new CommitmentReports({ db: index.db, index, store, nodeAe: 'MEDGE', log, metrics, send, now: c.now });
  reports.start();
  reports.add(REPORT);
  reports.kick();
  await reports.settled();
  await reports.stop();
  assert.deepEqual(reports.status(), { pending: 1, delivered: 0, expired: 0 });
  assert.equal(calls.length, 1);
  const row = () => index.db.prepare('SELECT attempts, due_at - ? AS wait, last_error FROM commitment_reports').get(c.now()) as { attempts: number; wait: number; last_error: string };
  assert.deepEqual([row().attempts, row().wait], [1, 2_000]);
  assert.match(row().last_error, /ECONNREFUSED/);

  // A restart: a new instance on the same database takes the report up when it is due.
  const again = new CommitmentReports({ db: index.db, index, store, nodeAe: 'MEDGE', log, metrics: new MetricsRegistry(), send, now: c.now });
  again.start();
  await again.settled();
  await again.stop();
  assert.equal(calls.length, 1, 'not due yet');
  c.advance(2_000);
  again.start();
  await again.settled();
  await again.stop();
  assert.deepEqual([row().attempts, row().wait], [2, 4_000], 'the delay doubles');
  c.advance(4_000);
  again.start();
  await again.settled();
  await again.stop();
  assert.equal(calls.length, 3);
  assert.deepEqual(again.status(), { pending: 0, delivered: 1, expired: 0 });
  c.advance(60_000);
  again.start();
  await again.settled();
  await again.stop();
  assert.equal(calls.length, 3, 'a delivered report is not sent again');
  assert.equal(metrics.value('medge_commitment_reports_total', { outcome: 'retry' }), 1);
});

test('a report still undelivered a day after its request expires, logged, and is not retried', async () => {
  const { index, store } = await storedNode();
  const c = clock();
  let calls = 0;
  const reports = new CommitmentReports({ db: index.db, index, store, nodeAe: 'MEDGE', log, metrics: new MetricsRegistry(), send: async () => {
    calls++;
    throw new Error('EHOSTUNREACH');
  }, now: c.now });
  reports.add(REPORT);
  c.advance(REPORT_LIFETIME_MS);
  reports.start();
  await reports.settled();
  await reports.stop();
  assert.equal(calls, 1);
  assert.deepEqual(reports.status(), { pending: 0, delivered: 0, expired: 1 });
});

test('N-ACTION: the well-known instance, Action Type 1 and a known requester are required; an accepted request is recorded before its answer and reported after it', async () => {
  const { index, store } = await storedNode();
  const sent: PendingReport[] = [];
  const reports = new CommitmentReports({ db: index.db, index, store, nodeAe: 'MEDGE', log, metrics: new MetricsRegistry(), send: async (r) => void sent.push(r) });
  reports.start();
  const metrics = new MetricsRegistry();
  const scp = createCommitmentScp({ remoteAes: await loadRemoteAes([{ aeTitle: 'CT1', port: 104 }]), reports, log, metrics });
  const command = { commandField: CommandField.NActionRq, messageId: 3, requestedSopClassUid: STORAGE_COMMITMENT_PUSH, requestedSopInstanceUid: STORAGE_COMMITMENT_INSTANCE, actionTypeId: 1, hasDataset: true };
  const action = { command, dataset: requestDataset('2.25.9', [[CT, '1.2.3.4.1']]), transferSyntaxUid: TS.ExplicitVRLittleEndian, callingAe: 'CT1', remoteAddress: '::ffff:10.0.0.7' };

  const answer = (over: Partial<typeof action>) => scp.onAction({ ...action, ...over });
  assert.equal(answer({ command: { ...command, requestedSopInstanceUid: '1.2.3' } }).status, 0x0112);
  assert.equal(answer({ command: { ...command, actionTypeId: 2 } }).status, 0x0123);
  const stranger = answer({ callingAe: 'CT9' });
  assert.deepEqual([stranger.status, stranger.errorComment], [0x0110, 'AE CT9 has no entry in dicom.remoteAes']);
  assert.equal(answer({ dataset: Buffer.alloc(0) }).status, 0x0110);
  assert.equal(reports.status().pending, 0, 'nothing refused is recorded');

  const ok = answer({});
  assert.deepEqual(ok, { commandField: CommandField.NActionRsp, messageIdBeingRespondedTo: 3, affectedSopClassUid: STORAGE_COMMITMENT_PUSH, affectedSopInstanceUid: STORAGE_COMMITMENT_INSTANCE, actionTypeId: 1, hasDataset: false, status: 0, errorComment: undefined });
  assert.equal(reports.status().pending, 1, 'recorded before the answer goes out');
  assert.equal(sent.length, 0, 'the report waits for the answer');
  scp.answered();
  await reports.settled();
  await reports.stop();
  assert.deepEqual(sent, [{ transactionUid: '2.25.9', requesterAe: 'CT1', host: '10.0.0.7', port: 104, refs: [{ sopClassUid: CT, sopInstanceUid: '1.2.3.4.1' }] }]);
  assert.equal(metrics.value('medge_commitment_requests_total', { result: 'refused' }), 4);
  assert.equal(metrics.value('medge_commitment_requests_total', { result: 'accepted' }), 1);
});
