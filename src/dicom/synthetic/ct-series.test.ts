import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { writeSyntheticCtSeries, CT_IMAGE_STORAGE } from './ct-series.js';
import { TS } from '../uids.js';

test('writeSyntheticCtSeries writes a parseable CT series with z stepping and HU in the expected ranges', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-ct-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const series = await writeSyntheticCtSeries({ dir, slices: 5, rows: 64, columns: 64, sliceThickness: 2, seed: 3 });
  assert.equal(series.files.length, 5);
  assert.equal(new Set(series.sopInstanceUids).size, 5);
  assert.match(series.studyUid, /^2\.25\.\d+$/);
  let bytes = 0;
  const zs: number[] = [];
  for (const [i, file] of series.files.entries()) {
    const buf = await readFile(file);
    bytes += buf.length;
    const ds = dicomParser.parseDicom(buf);
    assert.equal(ds.string('x00020010'), TS.ExplicitVRLittleEndian);
    assert.equal(ds.string('x00080016'), CT_IMAGE_STORAGE);
    assert.equal(ds.string('x00080018'), series.sopInstanceUids[i]);
    assert.equal(ds.string('x0020000e'), series.seriesUid);
    assert.equal(ds.intString('x00200013'), i + 1);
    assert.equal(ds.string('x00100010'), 'SYNTHETIC^CT');
    zs.push(Number(ds.string('x00200032')!.split('\\')[2]));
    const px = ds.elements.x7fe00010!;
    assert.equal(px.length, 64 * 64 * 2);
    const pixels = new Int16Array(buf.buffer.slice(buf.byteOffset + px.dataOffset, buf.byteOffset + px.dataOffset + px.length));
    const hu = (r: number, c: number) => pixels[r * 64 + c]! - 1024;
    assert.ok(Math.abs(hu(0, 0) - -1000) < 40, `corner is air: ${hu(0, 0)}`);
    assert.ok(Math.abs(hu(32, 32) - 40) < 40, `centre is brain: ${hu(32, 32)}`);
  }
  assert.equal(bytes, series.bytes);
  assert.deepEqual(zs.map((z, i) => (i ? z - zs[i - 1]! : 2)), [2, 2, 2, 2, 2]);
});

test('the same seed gives the same pixels; Implicit VR is written on request', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-ct-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = await writeSyntheticCtSeries({ dir: join(dir, 'a'), slices: 1, rows: 32, columns: 32, seed: 9 });
  const b = await writeSyntheticCtSeries({ dir: join(dir, 'b'), slices: 1, rows: 32, columns: 32, seed: 9, transferSyntaxUid: TS.ImplicitVRLittleEndian });
  const pa = dicomParser.parseDicom(await readFile(a.files[0]!));
  const bufB = await readFile(b.files[0]!);
  const pb = dicomParser.parseDicom(bufB);
  assert.equal(pb.string('x00020010'), TS.ImplicitVRLittleEndian);
  const ea = pa.elements.x7fe00010!;
  const eb = pb.elements.x7fe00010!;
  const bufA = await readFile(a.files[0]!);
  assert.ok(bufA.subarray(ea.dataOffset, ea.dataOffset + ea.length).equals(bufB.subarray(eb.dataOffset, eb.dataOffset + eb.length)));
});
