import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCi } from '../../../test/helpers/peers.js';
import { decodeFrameSync } from './index.js';

/**
 * medge's own 12-bit DCT decoder against an independent one: dcmtk's dcmdjpeg (IJG libjpeg 12-bit,
 * integer IDCT) decompresses pydicom's two 12-bit JPEG Extended files. The float IDCT here and the
 * integer one there may round a sample differently: max abs difference 1 is allowed.
 */
const DIR = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const haveDcmtk = spawnSync('dcmdjpeg', ['--version']).status === 0;
const ready = haveDcmtk && existsSync(DIR);
if (!ready && isCi()) throw new Error('dcmtk (dcmdjpeg) and python3-pydicom are required in CI');
const skip = ready ? false : 'needs dcmdjpeg (apt-get install dcmtk) and python3-pydicom';

test('12-bit JPEG Extended decodes within 1 of dcmtk (IJG libjpeg 12-bit)', { skip }, (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'medge-jpeg12-'));
  try {
    for (const name of ['JPEG-lossy.dcm', 'JPGExtended.dcm']) {
      const out = join(tmp, name);
      const r = spawnSync('dcmdjpeg', [join(DIR, name), out]);
      assert.equal(r.status, 0, `dcmdjpeg ${name}: ${r.stderr}`);
      const ours = decodeFrameSync(readFileSync(join(DIR, name)), 0).pixels;
      const theirs = decodeFrameSync(readFileSync(out), 0).pixels;
      assert.equal(ours.length, theirs.length);
      let max = 0;
      let differing = 0;
      for (let i = 0; i < ours.length; i++) {
        const d = Math.abs(ours[i]! - theirs[i]!);
        if (d > 0) differing++;
        if (d > max) max = d;
      }
      t.diagnostic(`${name}: max abs difference ${max}, ${differing} of ${ours.length} samples differ`);
      assert.ok(max <= 1, `${name}: max abs difference ${max}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
