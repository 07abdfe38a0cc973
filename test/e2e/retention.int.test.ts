/**
 * Removing studies on a real node with real peers (store/study-removal.ts, store/retention.ts): a
 * person removes a study over the API and C-FIND, QIDO-RS and the disk no longer have it, while the
 * other study is untouched; the study sent again is stored afresh; after a restart with
 * store.retentionDays the study that has grown old is removed by retention, the recent one kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { writeSyntheticCtSeries } from '../../src/dicom/synthetic/ct-series.js';
import { startMedge, type MedgeProcess } from '../helpers/medge-process.js';
import { DCMTK_HINT, requireTool, skipMessage } from '../helpers/peers.js';
import { acknowledgedFiles, runStorescu } from '../helpers/storescu.js';

const DAY = 86_400_000;

/** Study Instance UIDs C-FIND finds at STUDY level (findscu, dcmtk, which prints an odd-length UID's NUL padding as a space). */
function findStudies(node: MedgeProcess): string[] {
  const run = spawnSync('findscu', ['-v', '-S', '-aec', 'MEDGE', '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID', '127.0.0.1', String(node.dicomPort)], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return [...`${run.stdout}${run.stderr}`.matchAll(/\(0020,000d\) UI \[([0-9.]+)[ \0]*\]/g)].map((m) => m[1]!).sort();
}

async function qidoStudies(node: MedgeProcess): Promise<string[]> {
  const res = await fetch(`${node.httpUrl}/dicom-web/studies`);
  if (res.status === 204) return [];
  const body = (await res.json()) as { '0020000D': { Value: string[] } }[];
  return body.map((s) => s['0020000D'].Value[0]!).sort();
}

/** Waits until every series of the study is analysed (a series in the pipeline holds its study). */
async function analysed(node: MedgeProcess, study: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${node.httpUrl}/api/studies/${study}`);
    if (res.ok) {
      const detail = (await res.json()) as { series: { pipeline: { state: string } | null }[] };
      if (detail.series.every((s) => s.pipeline?.state === 'done')) return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`study ${study} was not analysed within 20 s`);
}

test('a person removes a study, a re-sent study is stored afresh, and retention removes the study that grew old', { timeout: 180_000 }, async (t) => {
  for (const tool of ['storescu', 'findscu']) if (!requireTool(tool, DCMTK_HINT)) return t.skip(skipMessage(tool, DCMTK_HINT));
  const work = await mkdtemp(join(tmpdir(), 'medge-retention-e2e-'));
  let node: MedgeProcess | undefined;
  t.after(async () => {
    await node?.kill();
    await rm(work, { recursive: true, force: true });
  });
  const a = await writeSyntheticCtSeries({ dir: join(work, 'a'), slices: 12, rows: 64, columns: 64, seed: 3 });
  const b = await writeSyntheticCtSeries({ dir: join(work, 'b'), slices: 12, rows: 64, columns: 64, seed: 4 });
  const [studyA, studyB] = [a.studyUid, b.studyUid];
  const dataDir = join(work, 'data');
  const args = ['--ae-title', 'MEDGE'];
  const send = async (files: string[]) => {
    const sent = await runStorescu({ host: '127.0.0.1', port: node!.dicomPort, aec: 'MEDGE', paths: files, verbose: true });
    assert.equal(acknowledgedFiles(sent.output).length, files.length, sent.output);
  };

  node = await startMedge({ dataDir, args });
  await send(a.files);
  await send(b.files);
  await analysed(node, studyA);
  await analysed(node, studyB);
  assert.deepEqual(findStudies(node), [studyA, studyB].sort());
  const filesOf = (study: string) => {
    const db = new Database(join(dataDir, 'index.sqlite'), { readonly: true });
    const keys = db.prepare('SELECT i.blob_key FROM instances i JOIN series se ON se.series_uid = i.series_uid WHERE se.study_uid = ?').pluck().all(study) as string[];
    db.close();
    return keys.map((k) => join(dataDir, 'instances', k));
  };
  const filesA = filesOf(studyA);
  assert.equal(filesA.length, 12);

  const removal = await fetch(`${node.httpUrl}/api/studies/${studyA}`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: 'PACS admin' }) });
  assert.equal(removal.status, 200, await removal.clone().text());
  const removed = (await removal.json()) as { instances: number; reason: string };
  assert.deepEqual([removed.instances, removed.reason], [12, 'operator']);
  assert.deepEqual(findStudies(node), [studyB], 'C-FIND no longer finds it');
  assert.deepEqual(await qidoStudies(node), [studyB], 'QIDO-RS no longer finds it');
  for (const f of filesA) assert.equal(existsSync(f), false, f);
  assert.equal(filesOf(studyB).every((f) => existsSync(f)), true, 'the other study is untouched');
  const gone = await fetch(`${node.httpUrl}/api/studies/${studyA}`);
  assert.equal(gone.status, 404);
  assert.match(((await gone.json()) as { error: { message: string } }).error.message, /removed by PACS admin/);
  assert.match(await (await fetch(`${node.httpUrl}/metrics`)).text(), /medge_studies_removed_total\{reason="operator"\} 1/);
  assert.match(node.output(), /"event":"study-removed"/);

  // The scanner sends it again: stored and indexed afresh.
  await send(a.files);
  await analysed(node, studyA);
  assert.deepEqual(findStudies(node), [studyA, studyB].sort());
  await node.stop();

  // B was last received 40 days ago (as far as the index knows); the node restarts with a 30-day retention.
  const db = new Database(join(dataDir, 'index.sqlite'));
  db.prepare('UPDATE studies SET first_received_at = ?, last_received_at = ? WHERE study_uid = ?').run(Date.now() - 40 * DAY, Date.now() - 40 * DAY, studyB);
  db.close();
  const filesB = filesOf(studyB);
  node = await startMedge({ dataDir, args, env: { MEDGE_STORE_RETENTION_DAYS: '30' } });
  for (let i = 0; i < 100 && findStudies(node).length > 1; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(findStudies(node), [studyA], 'the old study is removed, the recent one kept');
  for (const f of filesB) assert.equal(existsSync(f), false, f);
  const health = (await (await fetch(`${node.httpUrl}/api/health`)).json()) as { retention: { enabled: boolean; removedLastDay: { studies: number } } };
  assert.equal(health.retention.enabled, true);
  assert.equal(health.retention.removedLastDay.studies, 2, 'the removal by the person and by retention');
  await node.stop();
  node = undefined;
});
