import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { buildSentinelStudy, type SentinelStudy } from '../../dicom/deid/sentinel-study.js';
import { TS } from '../../dicom/uids.js';
import { repoRoot } from '../../../test/helpers/real-data.js';

const run = promisify(execFile);
const MEDGE = join(repoRoot(), 'bin', 'medge.js');

async function deid(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MEDGE, 'deid', ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath ?? e.path, e.name));
  return out;
}

let dir: string;
let study: SentinelStudy;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medge-deid-cli-'));
  study = buildSentinelStudy({ slices: 3, transferSyntaxUid: TS.ImplicitVRLittleEndian });
  // Folder and file names that name the patient, as exported studies often do.
  await mkdir(join(dir, 'in', study.sentinels[0]!, 'CT'), { recursive: true });
  for (const [i, f] of study.files.entries()) await writeFile(join(dir, 'in', study.sentinels[0]!, 'CT', `${study.sentinels[0]}-${i}.dcm`), f);
  await writeFile(join(dir, 'in', 'notes.txt'), 'not DICOM');
  const broken = Buffer.from(study.files[0]!.subarray(0, 600));
  await writeFile(join(dir, 'in', 'truncated.dcm'), broken);
  await writeFile(join(dir, 'secret'), Buffer.alloc(32, 0x77));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('medge deid writes one de-identified copy per instance under new UIDs, none holding a sentinel, and sums up', async () => {
  const out = join(dir, 'out');
  const { code, stdout, stderr } = await deid(join(dir, 'in'), '--out', out, '--secret-file', join(dir, 'secret'), '--map', join(dir, 'map.jsonl'));
  assert.equal(code, 1, 'the truncated file failed'); // and is named with its code
  assert.match(stderr, /truncated\.dcm: .*\[MEDGE_ERR_DEID_MALFORMED\]/);
  assert.match(stdout, /3 file\(s\) de-identified, 1 failed, 1 not DICOM skipped/);
  assert.match(stdout, /1 study\(ies\) of 1 patient\(s\)/);
  assert.match(stdout, /ms per instance/);
  const written = await filesUnder(out);
  assert.equal(written.length, 3);
  for (const path of written) {
    assert.match(path, /\/2\.25\.\d+\/2\.25\.\d+\/2\.25\.\d+\.dcm$/);
    const text = (await readFile(path)).toString('latin1');
    const leaks = [...study.sentinels, ...study.uids, ...study.dates, ...study.times].filter((v) => text.includes(v));
    assert.deepEqual(leaks, []);
  }
  const map = (await readFile(join(dir, 'map.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { kind: string; original: string; deidentified: string });
  const studyMapping = map.find((m) => m.original === study.studyUid)!;
  assert.ok(written.every((p) => p.includes(`/${studyMapping.deidentified}/`)));

  // Same secret, same replacements: a second run lands on the same paths.
  const again = join(dir, 'again');
  await deid(join(dir, 'in'), '--out', again, '--secret-file', join(dir, 'secret'));
  assert.deepEqual((await filesUnder(again)).map((p) => p.slice(again.length)).sort(), written.map((p) => p.slice(out.length)).sort());
});

test('medge deid usage errors exit 2', async () => {
  assert.equal((await deid(join(dir, 'in'))).code, 2);
  assert.equal((await deid(join(dir, 'in'), '--out', join(dir, 'x'), '--retain-dates', '--shift-dates')).code, 2);
  const short = join(dir, 'short-secret');
  await writeFile(short, 'short');
  const r = await deid(join(dir, 'in'), '--out', join(dir, 'y'), '--secret-file', short);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /MEDGE_ERR_DEID_SECRET/);
});
