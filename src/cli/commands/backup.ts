import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { MedgeError } from '../../errors.js';
import { parseCommandArgs } from '../parse-args.js';

const HELP = `Usage: medge backup --to FILE [--data DIR]

Copies the node's index (DIR/index.sqlite) to FILE with SQLite's online backup, consistent even
while the node runs and receives, then checks the copy (PRAGMA integrity_check).

The index holds what exists nowhere else: analyses, alerts and who acknowledged them, the upload
outbox, study removal records and the de-identification map. The instance files under
DIR/instances are the source of truth for what is stored; back them up as files (they never
change once written). To restore, stop the node, put the copy in place as DIR/index.sqlite and
start it with --check-store: files received after the backup are indexed again.

Options:
  --to FILE      where the copy goes; must not exist yet
  --data DIR     the node's data directory   [./data]
  -h, --help     this text`;

/** Pages copied per step: the node's own writes wait at most one step. */
const PAGES_PER_STEP = 1000;

/** `medge backup --to FILE`. */
export async function runBackup(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const { values } = parseCommandArgs('backup', argv, {
    to: { type: 'string' },
    data: { type: 'string', default: './data' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    out(HELP);
    return 0;
  }
  if (!values.to) throw new MedgeError('MEDGE_ERR_CLI_USAGE', "--to FILE is required; see 'medge backup --help'", {});
  const source = join(resolve(values.data!), 'index.sqlite');
  const target = resolve(values.to);
  if (!existsSync(source)) throw new MedgeError('MEDGE_ERR_CLI_USAGE', `no index at ${source}: is --data the node's data directory?`, { file: source });
  if (existsSync(target)) throw new MedgeError('MEDGE_ERR_CLI_USAGE', `${target} exists already: give a new file`, { file: target });

  const started = performance.now();
  const db = new Database(source, { readonly: true, fileMustExist: true });
  let last = 0;
  try {
    const { totalPages } = await db.backup(target, {
      progress: ({ totalPages: total, remainingPages }) => {
        const now = performance.now();
        if (now - last > 2000) {
          last = now;
          out(`copied ${total - remainingPages} of ${total} pages`);
        }
        return PAGES_PER_STEP;
      },
    });
    const copy = new Database(target, { readonly: true });
    const check = copy.pragma('integrity_check', { simple: true }) as string;
    const counts = copy.prepare('SELECT (SELECT count(*) FROM studies) AS studies, (SELECT count(*) FROM instances) AS instances, (SELECT count(*) FROM alerts) AS alerts').get() as Record<string, number>;
    copy.close();
    if (check !== 'ok') throw new MedgeError('MEDGE_ERR_STORE_INDEX_DAMAGED', `the copy ${target} fails SQLite's integrity check (${check}): the index itself may be damaged`, { file: target });
    out(`backed up ${source} to ${target}: ${totalPages} pages, ${counts.studies} studies, ${counts.instances} instances, ${counts.alerts} alerts, integrity ok, in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (err) {
    // Nothing half-copied is left to be taken for a backup.
    rmSync(target, { force: true });
    if (err instanceof MedgeError) throw err;
    throw new MedgeError('MEDGE_ERR_STORE_IO', `cannot back up ${source} to ${target}: ${(err as Error).message}`, { file: target }, err);
  } finally {
    db.close();
  }
}
