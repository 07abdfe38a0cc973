/**
 * A node killed (SIGKILL) while retention removes studies, at random points, three times: after
 * each restart every study is either whole (its index rows and all its files) or gone (neither),
 * no removal is left half done, and no removed file is indexed again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { writeSyntheticCtSeries } from '../../src/dicom/synthetic/ct-series.js';
import { startMedge, type MedgeProcess } from '../helpers/medge-process.js';
import { DCMTK_HINT, requireTool, skipMessage } from '../helpers/peers.js';
import { acknowledgedFiles, runStorescu } from '../helpers/storescu.js';

const STUDIES = 60;
const DAY = 86_400_000;

test('SIGKILL while retention removes studies: every study whole or gone, nothing indexed again, no removal left open', { timeout: 240_000 }, async (t) => {
  if (!requireTool('storescu', DCMTK_HINT)) return t.skip(skipMessage('storescu', DCMTK_HINT));
  const work = await mkdtemp(join(tmpdir(), 'medge-retention-crash-'));
  let node: MedgeProcess | undefined;
  t.after(async () => {
    await node?.kill();
    await rm(work, { recursive: true, force: true });
  });
  const files: string[] = [];
  for (let i = 0; i < STUDIES; i++) files.push(...(await writeSyntheticCtSeries({ dir: join(work, `in${i}`), slices: 2, rows: 32, columns: 32, seed: i + 1 })).files);
  const dataDir = join(work, 'data');
  const args = ['--ae-title', 'MEDGE'];
  node = await startMedge({ dataDir, args });
  const sent = await runStorescu({ host: '127.0.0.1', port: node.dicomPort, aec: 'MEDGE', paths: files, verbose: true });
  assert.equal(acknowledgedFiles(sent.output).length, files.length, sent.output);
  // Every series analysed (a series in the pipeline holds its study), then a clean stop.
  for (let i = 0; i < 300; i++) {
    const health = (await (await fetch(`${node.httpUrl}/api/health`)).json()) as { pipeline: { queue: { receiving: number; queued: number; running: number } } };
    const q = health.pipeline.queue;
    if (q.receiving + q.queued + q.running === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await node.stop();
  node = undefined;

  const open = () => new Database(join(dataDir, 'index.sqlite'));
  const db = open();
  const keysOf = new Map<string, string[]>();
  for (const row of db.prepare('SELECT se.study_uid AS study, i.blob_key AS key FROM instances i JOIN series se ON se.series_uid = i.series_uid').all() as { study: string; key: string }[]) {
    keysOf.set(row.study, [...(keysOf.get(row.study) ?? []), row.key]);
  }
  assert.equal(keysOf.size, STUDIES);
  // Received 40 days ago, as far as the index knows; the node restarts with a 30-day retention.
  db.prepare('UPDATE studies SET first_received_at = ?, last_received_at = ?').run(Date.now() - 40 * DAY, Date.now() - 40 * DAY);
  db.close();

  let killsMidPass = 0;
  for (let round = 0; round < 3; round++) {
    node = await startMedge({ dataDir, args, env: { MEDGE_STORE_RETENTION_DAYS: '30' } });
    // Kill once the pass has removed a study or two, a random few milliseconds later.
    const seen = () => (node!.output().match(/"event":"study-removed"/g) ?? []).length;
    for (let i = 0; i < 5000 && seen() < 1 + round; i++) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 8)));
    await node.kill();
    const removedBeforeKill = seen();
    node = undefined;

    // The state a restart finds, before anything else runs.
    node = await startMedge({ dataDir, args });
    const health = (await (await fetch(`${node.httpUrl}/api/health`)).json()) as { lastRepair: { reindexed: number } };
    assert.equal(health.lastRepair.reindexed, 0, 'no file of a removed study is indexed again');
    const resumed = (node.output().match(/"event":"study-removal-resumed"/g) ?? []).length;
    await node.stop();
    node = undefined;
    const check = open();
    const count = check.prepare('SELECT count(*) FROM instances i JOIN series se ON se.series_uid = i.series_uid WHERE se.study_uid = ?').pluck();
    let gone = 0;
    for (const [study, keys] of keysOf) {
      const rows = count.get(study) as number;
      const onDisk = keys.filter((k) => existsSync(join(dataDir, 'instances', k))).length;
      assert.ok((rows === keys.length && onDisk === keys.length) || (rows === 0 && onDisk === 0), `study ${study}: ${rows} rows, ${onDisk} of ${keys.length} files after kill ${round + 1}`);
      if (rows === 0) gone++;
    }
    assert.equal(check.prepare('SELECT count(*) FROM study_removals WHERE finished_at IS NULL').pluck().get(), 0, 'every removal finished');
    assert.equal(check.prepare('SELECT count(*) FROM removal_files').pluck().get(), 0);
    check.close();
    t.diagnostic(`kill ${round + 1}: ${removedBeforeKill} removals logged before it, ${resumed} finished by the restart, ${gone} of ${STUDIES} studies gone`);
    if (gone < STUDIES) killsMidPass++;
    assert.ok(gone >= removedBeforeKill, `${gone} studies gone, ${removedBeforeKill} logged as removed before the kill`);
  }
  assert.ok(killsMidPass >= 1, 'at least one kill interrupted the pass');
});
