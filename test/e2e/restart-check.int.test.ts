/**
 * What a start checks of the store (ingest/recover.ts), on a real node and real files: after a
 * crash whose power cut also lost the last index commits, only what changed lately is checked and
 * the lost rows come back; after a clean stop nothing is checked; `--check-store` checks
 * everything and finds a file removed by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, open, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { writeSyntheticCtSeries } from '../../src/dicom/synthetic/ct-series.js';
import { startMedge, type MedgeProcess } from '../helpers/medge-process.js';
import { DCMTK_HINT, requireTool, skipMessage } from '../helpers/peers.js';
import { acknowledgedFiles, runStorescu } from '../helpers/storescu.js';
import { repoRoot } from '../helpers/real-data.js';

const BIN = join(repoRoot(), 'bin', 'medge.js');

interface Repair {
  scope: string;
  reindexed: number;
  danglingRowsRemoved: number;
  filesChecked: number;
}

async function repairOf(node: MedgeProcess): Promise<{ repair: Repair; instances: number }> {
  const health = (await (await fetch(`${node.httpUrl}/api/health`)).json()) as { lastRepair: Repair; index: { instances: number } };
  return { repair: health.lastRepair, instances: health.index.instances };
}

test('a start checks what a crash can have touched, nothing after a clean stop, and everything with --check-store', { timeout: 120_000 }, async (t) => {
  if (!requireTool('storescu', DCMTK_HINT)) return t.skip(skipMessage('storescu', DCMTK_HINT));
  const work = await mkdtemp(join(tmpdir(), 'medge-restart-'));
  let node: MedgeProcess | undefined;
  t.after(async () => {
    await node?.kill();
    await rm(work, { recursive: true, force: true });
  });
  const series = await writeSyntheticCtSeries({ dir: join(work, 'in'), slices: 20, rows: 64, columns: 64, seed: 7 });
  const dataDir = join(work, 'data');
  const args = ['--ae-title', 'MEDGE'];

  node = await startMedge({ dataDir, args });
  assert.equal((await repairOf(node)).repair.scope, 'all', 'a new store has no mark yet');
  const sent = await runStorescu({ host: '127.0.0.1', port: node.dicomPort, aec: 'MEDGE', paths: series.files, verbose: true });
  assert.equal(acknowledgedFiles(sent.output).length, 20, sent.output);
  await node.kill();
  node = undefined;

  // The power cut also took the last five index commits (synchronous=NORMAL keeps them in the page cache).
  const db = new Database(join(dataDir, 'index.sqlite'));
  const lost = db.prepare('SELECT sop_uid FROM instances ORDER BY received_at DESC LIMIT 5').pluck().all() as string[];
  db.prepare(`DELETE FROM instances WHERE sop_uid IN (${lost.map(() => '?').join(',')})`).run(...lost);
  db.close();

  node = await startMedge({ dataDir, args });
  let state = await repairOf(node);
  assert.equal(state.repair.scope, 'changed');
  assert.equal(state.repair.reindexed, 5, 'the files whose rows were lost are indexed again');
  assert.equal(state.instances, 20);
  await node.stop();

  node = await startMedge({ dataDir, args });
  state = await repairOf(node);
  assert.deepEqual([state.repair.scope, state.repair.filesChecked, state.instances], ['none', 0, 20], 'a clean stop: nothing to check');
  await node.stop();

  // Someone removed a file by hand while the node was stopped: only a full check can know.
  const victim = new Database(join(dataDir, 'index.sqlite'), { readonly: true });
  const key = victim.prepare('SELECT blob_key FROM instances LIMIT 1').pluck().get() as string;
  victim.close();
  await unlink(join(dataDir, 'instances', key));
  node = await startMedge({ dataDir, args: [...args, '--check-store'] });
  state = await repairOf(node);
  assert.deepEqual([state.repair.scope, state.repair.filesChecked, state.repair.danglingRowsRemoved, state.instances], ['all', 19, 1, 19]);
  assert.match(node.output(), /"event":"index-row-without-file"/);
  await node.stop();
  node = undefined;
});

test('a damaged index stops the start and says what to do; --rebuild-index moves it aside and indexes every file again', { timeout: 120_000 }, async (t) => {
  if (!requireTool('storescu', DCMTK_HINT)) return t.skip(skipMessage('storescu', DCMTK_HINT));
  const work = await mkdtemp(join(tmpdir(), 'medge-damaged-index-'));
  let node: MedgeProcess | undefined;
  t.after(async () => {
    await node?.kill();
    await rm(work, { recursive: true, force: true });
  });
  const series = await writeSyntheticCtSeries({ dir: join(work, 'in'), slices: 8, rows: 64, columns: 64, seed: 9 });
  const dataDir = join(work, 'data');
  const args = ['--ae-title', 'MEDGE'];
  node = await startMedge({ dataDir, args });
  const sent = await runStorescu({ host: '127.0.0.1', port: node.dicomPort, aec: 'MEDGE', paths: series.files, verbose: true });
  assert.equal(acknowledgedFiles(sent.output).length, 8, sent.output);
  await node.stop();
  node = undefined;

  // A disk error overwrote the index's first page.
  const file = join(dataDir, 'index.sqlite');
  const fd = await open(file, 'r+');
  await fd.write(Buffer.alloc(4096, 0x5a), 0, 4096, 0);
  await fd.close();
  const refused = spawnSync(process.execPath, [BIN, 'start', '--data', dataDir, '--dicom-port', '0', '--http-port', '0'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /index .*index\.sqlite is damaged .*--rebuild-index .*\[MEDGE_ERR_STORE_INDEX_DAMAGED\]/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, 'a message, not a stack trace');

  node = await startMedge({ dataDir, args: [...args, '--rebuild-index'] });
  const { repair, instances } = await repairOf(node);
  assert.deepEqual([repair.scope, repair.reindexed, instances], ['all', 8, 8]);
  assert.match(node.output(), /"event":"index-rebuilt"/);
  assert.equal((await readdir(dataDir)).filter((n) => n.startsWith('index.sqlite.damaged-')).length, 1, 'the damaged index is kept aside');
  await node.stop();
  node = undefined;
});
