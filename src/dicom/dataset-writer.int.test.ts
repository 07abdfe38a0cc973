import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { el, tag, writePart10 } from './dataset-writer.js';
import { TS } from './uids.js';
import { requireTool, skipMessage, DCMTK_HINT } from '../../test/helpers/peers.js';

const run = promisify(execFile);

for (const ts of [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] as const) {
  test(`dcmdump reads back what writePart10 wrote (${ts}), sequences included`, async (t) => {
    if (!requireTool('dcmdump', DCMTK_HINT)) return t.skip(skipMessage('dcmdump', DCMTK_HINT));
    const dir = await mkdtemp(join(tmpdir(), 'medge-writer-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'x.dcm');
    const sopClass = '1.2.840.10008.5.1.4.1.1.7';
    await writeFile(
      file,
      writePart10({ mediaStorageSopClassUid: sopClass, mediaStorageSopInstanceUid: '2.25.77', transferSyntaxUid: ts }, [
        el(tag(0x0008, 0x0016), 'UI', sopClass),
        el(tag(0x0008, 0x0018), 'UI', '2.25.77'),
        el(tag(0x0010, 0x0010), 'PN', 'SYNTHETIC^WRITER'),
        el(tag(0x0018, 0x0050), 'DS', 0.5),
        el(tag(0x0028, 0x0010), 'US', 2),
        el(tag(0x0008, 0x1115), 'SQ', [[el(tag(0x0020, 0x000e), 'UI', '2.25.5'), el(tag(0x0008, 0x1199), 'SQ', [[el(tag(0x0008, 0x1155), 'UI', '2.25.6')]])]]),
        el(tag(0x7fe0, 0x0010), 'OW', new Uint8Array(8)),
      ]),
    );
    // +E: report parser errors; -E would ignore them. dcmdump exits non-zero on a malformed file.
    const { stdout, stderr } = await run('dcmdump', ['+E', file]);
    assert.equal(stderr, '');
    assert.match(stdout, new RegExp(`\\(0002,0010\\) UI =${ts === TS.ExplicitVRLittleEndian ? 'LittleEndianExplicit' : 'LittleEndianImplicit'}`));
    assert.match(stdout, /\(0010,0010\) PN \[SYNTHETIC\^WRITER\]/);
    assert.match(stdout, /\(0018,0050\) DS \[0\.5\]/);
    assert.match(stdout, /\(0008,1155\) UI \[2\.25\.6\]/);
    assert.match(stdout, /\(7fe0,0010\) OW 0000\\0000\\0000\\0000/);
  });
}
