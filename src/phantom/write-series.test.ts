import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderHeadPhantom } from './render.js';
import { writePhantomSeries } from './write-series.js';

const hasTool = (p: string) => existsSync(p);

test('written series passes dciodvfy and parses back with dcmdump, both intercepts, tilted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'medge-phantom-'));
  try {
    const { volume, truth } = renderHeadPhantom({ rows: 96, columns: 96, pixelSpacing: 2.4, sliceThickness: 5, tiltDegrees: 15, bleeds: [{ subtype: 'epidural', volumeMl: 6 }] });
    for (const intercept of [-1024, 0] as const) {
      const out = await writePhantomSeries(volume, truth, { dir: join(dir, String(intercept)), intercept });
      assert.equal(out.files.length, volume.dims[2]);
      const doc = JSON.parse(readFileSync(out.truthPath, 'utf8'));
      assert.equal(doc.bleeds[0].subtype, 'epidural');
      assert.equal(doc.seed, 1);
      assert.equal(doc.seriesInstanceUid, out.seriesInstanceUid);
      const file = out.files[10]!;
      if (hasTool('/usr/bin/dciodvfy')) {
        const report = execFileSync('/usr/bin/dciodvfy', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        const errors = report.split('\n').filter((l) => l.startsWith('Error'));
        assert.deepEqual(errors, []);
      }
      if (hasTool('/usr/bin/dcmdump')) {
        const dump = execFileSync('/usr/bin/dcmdump', ['+P', '0028,1052', '+P', '0018,1120', '+P', '0020,0032', file], { encoding: 'utf8' });
        assert.match(dump, new RegExp(`RescaleIntercept.*|\\[${intercept}\\]`));
        assert.match(dump, /\[15\]/);
      }
      // Stored value round trip at the centre of slice 10.
      const bytes = readFileSync(file);
      const px = bytes.subarray(bytes.length - 96 * 96 * 2);
      const centre = (96 * 48 + 48) * 2;
      const stored = intercept === 0 ? px.readInt16LE(centre) : px.readUInt16LE(centre);
      assert.equal(stored + intercept, volume.data[10 * 96 * 96 + 96 * 48 + 48]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
