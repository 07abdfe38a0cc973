import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isMedgeError } from '../../errors.js';
import { openIndexDb } from '../../store/index-db.js';
import { seedSeries } from '../../alerts/test-support.js';
import { runBackup } from './backup.js';

test('medge backup copies a live index (commits still in its WAL included), checks the copy, and refuses to overwrite', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-backup-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // The node's own connection stays open, its last commits in the WAL, as while it runs.
  const live = openIndexDb(join(dir, 'index.sqlite'));
  t.after(() => live.close());
  live.pragma('wal_autocheckpoint = 0');
  seedSeries(live, { study: '1.2.3', series: '1.2.3.1', at: Date.now(), instances: 40 });
  seedSeries(live, { study: '1.2.4', series: '1.2.4.1', at: Date.now(), instances: 2 });

  const lines: string[] = [];
  const to = join(dir, 'copy.sqlite');
  assert.equal(await runBackup(['--data', dir, '--to', to], (l) => lines.push(l)), 0);
  assert.match(lines.at(-1)!, /: \d+ pages, 2 studies, 42 instances, 0 alerts, integrity ok, in [\d.]+ s$/);
  const copy = new Database(to, { readonly: true });
  assert.equal(copy.prepare('SELECT count(*) FROM instances').pluck().get(), 42);
  assert.equal(copy.pragma('user_version', { simple: true }), live.pragma('user_version', { simple: true }), 'the schema version goes with it');
  copy.close();

  await assert.rejects(runBackup(['--data', dir, '--to', to], () => undefined), (err) => isMedgeError(err, 'MEDGE_ERR_CLI_USAGE') && /exists already/.test(err.message));
  await assert.rejects(runBackup(['--data', join(dir, 'nope'), '--to', join(dir, 'b.sqlite')], () => undefined), /no index at/);
  await assert.rejects(runBackup(['--data', dir], () => undefined), /--to FILE is required/);
});
