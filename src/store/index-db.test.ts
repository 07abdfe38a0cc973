import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMedgeError } from '../errors.js';
import { InstanceIndex, moveIndexAside, openIndexDb } from './index-db.js';
import type { InstanceRecord } from './instance-record.js';

function rec(sop: string, receivedAt: number, over: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    sopInstanceUid: sop, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4',
    transferSyntaxUid: '1.2.840.10008.1.2.1', blobKey: `k/${sop}.dcm`, size: 100, datasetOffset: 10, receivedAt,
    protocol: 'dimse', callingAe: 'CT', associationId: 'a', remoteAddress: null,
    patientId: 'P1', issuerOfPatientId: null, patientName: 'A^B', patientBirthDate: null, patientSex: null,
    studyDate: '20240101', studyTime: null, accessionNumber: null, studyId: null, studyDescription: null, referringPhysicianName: null,
    modality: 'CT', seriesNumber: '1', seriesDescription: null, bodyPartExamined: null, seriesDate: null,
    instanceNumber: sop.split('.').at(-1)!, rows: 2, columns: 2, numberOfFrames: null, imagePosition: null, imageOrientation: null,
    ...over,
  };
}

test('later instances of a known series move last_received_at; changed attributes are still upserted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medge-index-'));
  const index = new InstanceIndex(openIndexDb(join(dir, 'index.db')));
  try {
    index.record(rec('1.2.3.4.1', 1000));
    index.record(rec('1.2.3.4.2', 2000));
    index.record(rec('1.2.3.4.3', 1500)); // out of order: the latest time stays
    const times = () => index.db.prepare(`SELECT st.first_received_at AS sf, st.last_received_at AS sl, se.first_received_at AS ef, se.last_received_at AS el
      FROM series se JOIN studies st ON st.study_uid = se.study_uid`).get();
    assert.deepEqual(times(), { sf: 1000, sl: 2000, ef: 1000, el: 2000 });
    index.record(rec('1.2.3.4.4', 3000, { patientBirthDate: '19700101', seriesDescription: 'AX' }));
    assert.deepEqual(times(), { sf: 1000, sl: 3000, ef: 1000, el: 3000 });
    assert.equal(index.db.prepare(`SELECT birth_date FROM patients`).pluck().get(), '19700101');
    assert.deepEqual(index.counts(), { studies: 1, series: 1, instances: 4 });
  } finally {
    index.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged index file: MEDGE_ERR_STORE_INDEX_DAMAGED naming --rebuild-index; moveIndexAside moves it and its WAL aside', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-index-damaged-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'index.sqlite');
  await writeFile(file, Buffer.alloc(8192, 0x5a));
  assert.throws(() => openIndexDb(file), (err) => isMedgeError(err, 'MEDGE_ERR_STORE_INDEX_DAMAGED') && /--rebuild-index/.test(err.message));
  await writeFile(`${file}-wal`, Buffer.alloc(100));
  const aside = await moveIndexAside(file, new Date('2026-11-29T10:00:00.000Z'));
  assert.equal(aside, join(dir, 'index.sqlite.damaged-2026-11-29T10-00-00-000Z'));
  assert.deepEqual((await readdir(dir)).sort(), ['index.sqlite.damaged-2026-11-29T10-00-00-000Z', 'index.sqlite.damaged-2026-11-29T10-00-00-000Z-wal']);
  const db = openIndexDb(file);
  db.close();
  assert.equal(await moveIndexAside(join(dir, 'none.sqlite')), undefined);
});
