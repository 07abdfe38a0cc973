import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIndexDb } from '../../store/index-db.js';
import { createSqliteDeidMap } from './deid-map.js';
import { createDeidentifier } from './deidentifier.js';
import { buildSentinelStudy } from './sentinel-study.js';

test('the SQLite mapping re-identifies after the node restarts, and recording twice changes nothing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-deid-map-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'index.db');
  const secret = Buffer.alloc(32, 0x11);
  const study = buildSentinelStudy({ slices: 2 });

  const db = openIndexDb(file);
  const deid = createDeidentifier({ secret, map: createSqliteDeidMap(db, () => 1_700_000_000_000) });
  const sent = study.files.map((f) => deid.deidentify(f));
  deid.deidentify(study.files[0]!);
  const rows = db.prepare('SELECT COUNT(*) FROM deid_map').pluck().get() as number;
  // Study, series, frame of reference, the other UIDs of the study, 2 SOP instances, 1 patient.
  assert.equal(rows, new Set(sent.flatMap((r) => r.mappings.map((m) => `${m.kind}:${m.deidentified}`))).size);
  db.close();

  const reopened = openIndexDb(file);
  t.after(() => reopened.close());
  const map = createSqliteDeidMap(reopened);
  assert.equal(map.reidentifyUid(sent[0]!.studyInstanceUid), study.studyUid);
  assert.equal(map.reidentifyUid(sent[1]!.sopInstanceUid), study.sopInstanceUids[1]);
  assert.equal(map.reidentifyPatient(sent[0]!.patientPseudonym), `${study.patientId}^^^${study.issuerOfPatientId}`);
  assert.equal(map.reidentifyUid(study.studyUid), undefined, 'an original is not a replacement');
});
