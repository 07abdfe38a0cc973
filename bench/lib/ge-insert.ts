import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Bleeds inserted into the real GE head CT, each a series of its own. `medge phantom --insert-into`
 * inserts intraparenchymal bleeds only (for now), so the volumes and places vary instead.
 */
export const GE_INSERTIONS: readonly { subtype: string; volumeMl: number; location: string; side: 'left' | 'right' }[] = [
  { subtype: 'intraparenchymal', volumeMl: 0.5, location: 'frontal', side: 'right' },
  { subtype: 'intraparenchymal', volumeMl: 2, location: 'thalamus', side: 'left' },
  { subtype: 'intraparenchymal', volumeMl: 6, location: 'parietal', side: 'left' },
  { subtype: 'intraparenchymal', volumeMl: 15, location: 'basal-ganglia', side: 'right' },
  { subtype: 'intraparenchymal', volumeMl: 40, location: 'temporal', side: 'left' },
];

export interface GeInsertCase {
  label: string;
  dir: string;
  truthFile: string;
}

/**
 * Writes each insertion with `medge phantom --insert-into GE --out DIR --bleed SUBTYPE:ML:PLACE:SIDE`
 * (the phantom CLI of issue 3). When the CLI is not there yet, or refuses the arguments, the cases
 * are skipped with the reason, loudly, instead of failing the whole benchmark.
 */
export async function insertIntoGeCases(medge: string, ge: string, workDir: string): Promise<{ cases: GeInsertCase[]; skipped?: string }> {
  try {
    const { stdout } = await run(process.execPath, [medge, 'phantom', '--help']);
    if (!stdout.includes('--insert-into')) return { cases: [], skipped: "'medge phantom --help' does not offer --insert-into" };
  } catch {
    return { cases: [], skipped: "'medge phantom' is not available yet" };
  }
  const cases: GeInsertCase[] = [];
  for (const [i, b] of GE_INSERTIONS.entries()) {
    const dir = join(workDir, `ge-insert-${i}`);
    try {
      await run(process.execPath, [medge, 'phantom', '--insert-into', ge, '--out', dir, '--bleed', `${b.subtype}:${b.volumeMl}:${b.location}:${b.side}`, '--seed', String(i + 1)], {
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (err) {
      return { cases, skipped: `medge phantom --insert-into failed: ${((err as { stderr?: string }).stderr ?? String(err)).trim().split('\n')[0]}` };
    }
    const truthFile = join(dir, 'truth.json');
    if (!existsSync(truthFile)) return { cases, skipped: `medge phantom --insert-into wrote no ${truthFile}` };
    cases.push({ label: `${b.subtype} ${b.volumeMl} mL ${b.location} ${b.side}`, dir, truthFile });
  }
  return { cases };
}
