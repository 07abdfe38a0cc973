import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIngest } from './ingest.js';
import { createMemoryBlobStore } from '../store/memory-blob-store.js';
import { createFsBlobStore } from '../store/fs-blob-store.js';
import { InstanceIndex, openIndexDb } from '../store/index-db.js';
import { NodeEvents } from '../events/node-events.js';
import { MetricsRegistry } from '../observability/metrics.js';
import { createLogger } from '../observability/log.js';
import { buildFileMeta, readFileMeta } from '../dicom/part10.js';
import { isMedgeError } from '../errors.js';
import { runQuery } from '../store/query.js';
import type { BlobStore } from '../store/blob-store.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** A small Explicit VR LE dataset; elements in tag order (PS3.5 7.1.2). */
function dataset(sop: string, opts: { study?: string; series?: string; sopClass?: string; pixelLie?: boolean; privateBytes?: number; pixelBytes?: number } = {}): Buffer {
  const el = (group: number, elem: number, vr: string, value: Buffer) => {
    const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
    const h = Buffer.alloc(long ? 12 : 8);
    h.writeUInt16LE(group, 0);
    h.writeUInt16LE(elem, 2);
    h.write(vr, 4, 'latin1');
    if (long) h.writeUInt32LE(opts.pixelLie && group === 0x7fe0 ? value.length + 1000 : value.length, 8);
    else h.writeUInt16LE(value.length, 6);
    return Buffer.concat([h, value]);
  };
  const str = (s: string, pad = ' ') => Buffer.from(s.length % 2 ? s + pad : s, 'latin1');
  const us = (n: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(n);
    return b;
  };
  return Buffer.concat([
    el(0x0008, 0x0016, 'UI', str(opts.sopClass ?? CT, '\0')),
    el(0x0008, 0x0018, 'UI', str(sop, '\0')),
    el(0x0008, 0x0060, 'CS', str('CT')),
    el(0x0010, 0x0010, 'PN', str('TEST^PATIENT')),
    el(0x0010, 0x0020, 'LO', str('PID1')),
    el(0x0020, 0x000d, 'UI', str(opts.study ?? '1.2.3.4', '\0')),
    el(0x0020, 0x000e, 'UI', str(opts.series ?? '1.2.3.4.5', '\0')),
    el(0x0020, 0x0013, 'IS', str('7')),
    ...(opts.privateBytes ? [el(0x0027, 0x0010, 'LO', str('MEDGE TEST')), el(0x0027, 0x1001, 'OB', Buffer.alloc(opts.privateBytes, 3))] : []),
    el(0x0028, 0x0010, 'US', us(2)),
    el(0x0028, 0x0011, 'US', us(2)),
    el(0x7fe0, 0x0010, 'OW', Buffer.alloc(opts.pixelBytes ?? 8, 1)),
  ]);
}

function part10(sop: string, opts: Parameters<typeof dataset>[1] = {}): Buffer {
  return Buffer.concat([buildFileMeta({ mediaStorageSopClassUid: CT, mediaStorageSopInstanceUid: sop, transferSyntaxUid: EXPLICIT_LE }), dataset(sop, opts)]);
}

function setup(store: BlobStore = createMemoryBlobStore(), minFreeBytes = 0) {
  const index = new InstanceIndex(openIndexDb(':memory:'));
  const events = new NodeEvents();
  const metrics = new MetricsRegistry();
  const ingest = createIngest({ store, index, events, metrics, log: createLogger('silent'), minFreeBytes, now: () => 1_700_000_000_000 });
  return { ingest, index, events, metrics, store };
}

test('a Part 10 file is stored, indexed, and announced', async () => {
  const { ingest, index, events, metrics, store } = setup();
  const seen: string[] = [];
  events.on('instance-stored', (o) => seen.push(o.sopInstanceUid));
  const outcome = await ingest.storePart10(part10('1.2.3.4.5.6'), { protocol: 'stow' });
  assert.equal(outcome.status, 'stored');
  assert.equal(outcome.studyInstanceUid, '1.2.3.4');
  const row = index.getInstance('1.2.3.4.5.6');
  assert.ok(row);
  assert.equal(row.receivedAt, 1_700_000_000_000);
  assert.deepEqual(await store.read(row.blobKey), part10('1.2.3.4.5.6'));
  assert.deepEqual(seen, ['1.2.3.4.5.6']);
  assert.equal(metrics.value('medge_instances_received_total', { protocol: 'stow', outcome: 'stored' }), 1);
  const studies = runQuery(index.db, 'STUDY', { PatientID: 'PID1' });
  assert.equal(studies.length, 1);
  assert.equal(studies[0]!.NumberOfStudyRelatedInstances, '1');
});

test('a re-sent identical instance is a duplicate that stores nothing new, even across protocols', async () => {
  const { ingest, index, store } = setup();
  await ingest.storePart10(part10('1.2.3.9'), { protocol: 'stow' });
  const session = await ingest.beginDataset({ sopClassUid: CT, sopInstanceUid: '1.2.3.9', transferSyntaxUid: EXPLICIT_LE }, { protocol: 'dimse', callingAe: 'SCANNER' });
  const ds = dataset('1.2.3.9');
  await session.write(ds.subarray(0, 10));
  await session.write(ds.subarray(10));
  const outcome = await session.finish();
  assert.equal(outcome.status, 'duplicate');
  const keys: string[] = [];
  for await (const k of store.list()) keys.push(k);
  assert.equal(keys.length, 1);
  assert.equal(index.counts().instances, 1);
});

test('a changed dataset under the same SOP Instance UID replaces the old file', async () => {
  const { ingest, index, store } = setup();
  await ingest.storePart10(part10('1.2.3.10'), { protocol: 'stow' });
  const before = index.getInstance('1.2.3.10')!.blobKey;
  const outcome = await ingest.storePart10(part10('1.2.3.10', { series: '1.2.3.4.6' }), { protocol: 'stow' });
  assert.equal(outcome.status, 'replaced');
  assert.equal(await store.stat(before), undefined);
  assert.equal(index.getInstance('1.2.3.10')!.seriesInstanceUid, '1.2.3.4.6');
});

test('DIMSE datasets get a PS3.10 meta header naming the negotiated syntax and the calling AE', async () => {
  const { ingest, index, store } = setup();
  const session = await ingest.beginDataset({ sopClassUid: CT, sopInstanceUid: '1.2.3.11', transferSyntaxUid: EXPLICIT_LE }, { protocol: 'dimse', callingAe: 'CT01', associationId: 'a1' });
  await session.write(dataset('1.2.3.11'));
  await session.finish();
  const file = await store.read(index.getInstance('1.2.3.11')!.blobKey);
  const meta = readFileMeta(file);
  assert.ok(meta);
  assert.equal(meta.transferSyntaxUid, EXPLICIT_LE);
  assert.equal(meta.sourceAeTitle, 'CT01');
  assert.deepEqual(file.subarray(meta.datasetOffset), dataset('1.2.3.11'));
});

test('bad input is refused with a catalogued error and leaves nothing behind', async (t) => {
  const cases: [string, Buffer, string][] = [
    ['empty', Buffer.alloc(0), 'MEDGE_ERR_INGEST_NOT_DICOM'],
    ['garbage', Buffer.alloc(500, 0x41), 'MEDGE_ERR_INGEST_NOT_DICOM'],
    ['lying length', part10('1.2.3.12', { pixelLie: true }), 'MEDGE_ERR_INGEST_PARSE'],
    ['not a storage class', part10('1.2.3.13', { sopClass: '1.2.840.10008.1.1' }), 'MEDGE_ERR_INGEST_SOP_CLASS'],
  ];
  for (const [name, bytes, code] of cases) {
    await t.test(name, async () => {
      const { ingest, index, store } = setup();
      await assert.rejects(ingest.storePart10(bytes, { protocol: 'stow' }), (err) => isMedgeError(err) && err.code === code);
      assert.equal(index.counts().instances, 0);
      const keys: string[] = [];
      for await (const k of store.list()) keys.push(k);
      assert.deepEqual(keys, []);
    });
  }
});

test('a C-STORE whose dataset names another SOP instance is refused', async () => {
  const { ingest } = setup();
  const session = await ingest.beginDataset({ sopClassUid: CT, sopInstanceUid: '1.2.3.99', transferSyntaxUid: EXPLICIT_LE }, { protocol: 'dimse' });
  await session.write(dataset('1.2.3.14'));
  await assert.rejects(session.finish(), (err) => isMedgeError(err, 'MEDGE_ERR_INGEST_UID_MISMATCH'));
});

test('below the free-space floor new instances are refused as disk full, nothing written (fs store)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-ingest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { ingest, index } = setup(createFsBlobStore(dir), Number.MAX_SAFE_INTEGER);
  await assert.rejects(ingest.storePart10(part10('1.2.3.15'), { protocol: 'stow' }), (err) => isMedgeError(err, 'MEDGE_ERR_STORE_DISK_FULL'));
  assert.equal(index.counts().instances, 0);
  const tmp = await readdir(join(dir, 'tmp')).catch(() => []);
  assert.deepEqual(tmp, []);
});

test('the fs store leaves only committed files and nothing in tmp/', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-ingest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { ingest, index, store } = setup(createFsBlobStore(dir));
  await ingest.storePart10(part10('1.2.3.16'), { protocol: 'stow' });
  await assert.rejects(ingest.storePart10(Buffer.alloc(300, 1), { protocol: 'stow' }));
  const keys: string[] = [];
  for await (const k of store.list()) keys.push(k);
  assert.deepEqual(keys, [index.getInstance('1.2.3.16')!.blobKey]);
  assert.deepEqual(await readdir(join(dir, 'tmp')), []);
});

test('a header longer than what is kept in memory is read back from the temporary file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-ingest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { ingest, index } = setup(createFsBlobStore(dir));
  const file = part10('1.2.3.17', { privateBytes: 3_000_000 });
  const session = await ingest.beginPart10({ protocol: 'stow' });
  for (let o = 0; o < file.length; o += 16384) await session.write(file.subarray(o, o + 16384));
  const outcome = await session.finish();
  assert.equal(outcome.status, 'stored');
  assert.equal(index.getInstance('1.2.3.17')!.instanceNumber, '7');
});

test('a lying Pixel Data length is caught in a large file without reading the pixels', async () => {
  const { ingest } = setup();
  const file = part10('1.2.3.18', { pixelBytes: 2_000_000, pixelLie: true });
  await assert.rejects(ingest.storePart10(file, { protocol: 'stow' }), (err) => isMedgeError(err, 'MEDGE_ERR_INGEST_PARSE') && /7fe0,0010/.test(err.message));
});
