import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeSyntheticCtSeries } from './ct-series.js';
import { TS } from '../uids.js';
import { requireTool, skipMessage, DCMTK_HINT, DICOM3TOOLS_HINT } from '../../../test/helpers/peers.js';

const run = promisify(execFile);

for (const ts of [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] as const) {
  test(`a synthetic CT slice (${ts}) passes dciodvfy with no errors and dcmdump reads it`, async (t) => {
    if (!requireTool('dciodvfy', DICOM3TOOLS_HINT)) return t.skip(skipMessage('dciodvfy', DICOM3TOOLS_HINT));
    if (!requireTool('dcmdump', DCMTK_HINT)) return t.skip(skipMessage('dcmdump', DCMTK_HINT));
    const dir = await mkdtemp(join(tmpdir(), 'medge-ct-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const series = await writeSyntheticCtSeries({ dir, slices: 3, rows: 128, columns: 128, transferSyntaxUid: ts });
    const file = series.files[1]!;
    // dciodvfy writes its findings to stderr and exits 0 even with errors.
    const vfy = await run('dciodvfy', ['-new', file]).catch((err: { stdout: string; stderr: string }) => err);
    const findings = `${vfy.stdout}\n${vfy.stderr}`;
    const errors = findings.split('\n').filter((l) => /^Error/.test(l));
    assert.deepEqual(errors, [], findings);
    const dump = await run('dcmdump', ['-q', '+P', '0020,0032', '+P', '0028,0010', '+P', '0010,0010', file]);
    assert.match(dump.stdout, /\(0028,0010\) US 128/);
    assert.match(dump.stdout, /\(0010,0010\) PN \[SYNTHETIC\^CT\]/);
    assert.match(dump.stdout, /\(0020,0032\) DS \[[-0-9.]+\\[-0-9.]+\\[-0-9.]+\]/);
  });
}
