import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildVolume } from './build-volume.js';
import { groupSeries, readFolder } from './group-series.js';
import { syntheticSeries } from './synthetic-slices.js';

test('a folder of mixed files is split by Series Instance UID; non-DICOM files are set aside', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'medge-group-'));
  try {
    const a = syntheticSeries({ slices: 3 });
    const b = syntheticSeries({ slices: 2 });
    mkdirSync(join(dir, 'sub'));
    [...a.instances, ...b.instances].forEach((inst, i) => writeFileSync(join(dir, i % 2 ? 'sub' : '', `f${i}.dcm`), inst.part10));
    writeFileSync(join(dir, 'README.txt'), 'not dicom');
    const files = await readFolder(dir);
    assert.equal(files.length, 6);
    const { series, other } = groupSeries(files.reverse());
    assert.deepEqual(series.map((s) => s.files.length).sort(), [2, 3]);
    assert.deepEqual(new Set(series.map((s) => s.seriesInstanceUid)), new Set([a.seriesUid, b.seriesUid]));
    assert.equal(other.length, 1);
    assert.match(other[0]!.file.path, /README/);
    for (const s of series) assert.equal((await buildVolume(s.files)).meta.seriesInstanceUid, s.seriesInstanceUid);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
