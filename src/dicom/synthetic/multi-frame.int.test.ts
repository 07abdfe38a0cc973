import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import dicomParser from 'dicom-parser';
import { writeSyntheticMultiFrame } from './multi-frame.js';
import { requireTool, skipMessage, DICOM3TOOLS_HINT } from '../../../test/helpers/peers.js';

const run = promisify(execFile);

test('a synthetic multi-frame instance has NumberOfFrames frames and passes dciodvfy with no errors', async (t) => {
  if (!requireTool('dciodvfy', DICOM3TOOLS_HINT)) return t.skip(skipMessage('dciodvfy', DICOM3TOOLS_HINT));
  const dir = await mkdtemp(join(tmpdir(), 'medge-mf-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const r = await writeSyntheticMultiFrame({ file: join(dir, 'mf.dcm'), frames: 4, rows: 32, columns: 48 });
  const buf = await readFile(r.file);
  assert.equal(buf.length, r.bytes);
  const ds = dicomParser.parseDicom(buf);
  assert.equal(ds.intString('x00280008'), 4);
  assert.equal(ds.elements.x7fe00010?.length, 4 * 32 * 48 * 2);
  const vfy = await run('dciodvfy', ['-new', r.file]).catch((err: { stdout: string; stderr: string }) => err);
  const findings = `${vfy.stdout}\n${vfy.stderr}`;
  assert.deepEqual(findings.split('\n').filter((l) => /^Error/.test(l)), [], findings);
});
