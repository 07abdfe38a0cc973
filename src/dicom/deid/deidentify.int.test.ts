import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import type { DataSet } from 'dicom-parser';
import { isMedgeError } from '../../errors.js';
import { parseDataSetHeader } from '../header.js';
import { buildFileMeta, readFileMeta } from '../part10.js';
import { TS } from '../uids.js';
import { DICOM3TOOLS_HINT, requireTool, skipMessage } from '../../../test/helpers/peers.js';
import { realData } from '../../../test/helpers/real-data.js';
import { deidentifyPart10 } from './deidentify.js';
import { buildSentinelStudy } from './sentinel-study.js';

const run = promisify(execFile);
const SECRET = Buffer.alloc(32, 0x42);

/**
 * dciodvfy's Error lines (it exits 0 whatever it finds and writes to stderr). dciodvfy cannot read
 * Deflated datasets (it reads the compressed bytes as tags): those are checked inflated, as
 * Explicit VR LE, which is the dataset the destination reads.
 */
async function dciodvfyErrors(dir: string, name: string, bytes: Buffer): Promise<string[]> {
  const file = join(dir, name);
  await writeFile(file, inflated(bytes));
  const { stdout, stderr } = await run('dciodvfy', ['-new', file]).catch((err: { stdout: string; stderr: string }) => err);
  return `${stdout}\n${stderr}`.split('\n').filter((l) => l.startsWith('Error'));
}

function inflated(part10: Buffer): Buffer {
  const meta = readFileMeta(part10)!;
  if (meta.transferSyntaxUid !== TS.DeflatedExplicitVRLittleEndian) return part10;
  const header = buildFileMeta({ ...meta, transferSyntaxUid: TS.ExplicitVRLittleEndian });
  return Buffer.concat([header, inflateRawSync(part10.subarray(meta.datasetOffset))]);
}

/** No error in the de-identified copy that the original did not have already. */
function newErrors(before: string[], after: string[]): string[] {
  const seen = new Set(before);
  return after.filter((l) => !seen.has(l));
}

function parse(part10: Buffer): DataSet {
  const meta = readFileMeta(part10)!;
  const parsed = parseDataSetHeader(part10, meta.transferSyntaxUid, part10.length);
  assert.equal(parsed.kind, 'ok');
  return (parsed as { dataSet: DataSet }).dataSet;
}

/** Pixel Data's value as dicom-parser finds it: native, or every fragment of encapsulated data. */
function pixelData(ds: DataSet): Buffer {
  const e = ds.elements.x7fe00010!;
  return Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + e.dataOffset, e.length);
}

for (const ts of [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.DeflatedExplicitVRLittleEndian] as const) {
  test(`dciodvfy finds no new error in a de-identified sentinel study (${ts})`, async (t) => {
    if (!requireTool('dciodvfy', DICOM3TOOLS_HINT)) return t.skip(skipMessage('dciodvfy', DICOM3TOOLS_HINT));
    const dir = await mkdtemp(join(tmpdir(), 'medge-deid-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const study = buildSentinelStudy({ transferSyntaxUid: ts, slices: 1 });
    for (const options of [{}, { retainUids: true, dates: 'shift' as const, cleanDescriptors: true }]) {
      const before = await dciodvfyErrors(dir, 'in.dcm', study.files[0]!);
      const after = await dciodvfyErrors(dir, 'out.dcm', deidentifyPart10(study.files[0]!, SECRET, options).part10);
      assert.deepEqual(newErrors(before, after), [], JSON.stringify(options));
    }
  });
}

test('real scanner files in every transfer syntax: no new dciodvfy error, pixel data byte-identical, no original UID left', async (t) => {
  const ge = realData('ge-head-ct');
  const syntaxes = realData('transfer-syntaxes');
  if (!ge || !syntaxes) return t.skip('../shared/data/real is absent (see SOURCES.md)');
  const hasVfy = requireTool('dciodvfy', DICOM3TOOLS_HINT);
  const dir = await mkdtemp(join(tmpdir(), 'medge-deid-real-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files = [
    ...(await readdir(ge)).map((n) => join(ge, n)),
    ...(await readdir(join(syntaxes, 'ct'))).map((n) => join(syntaxes, 'ct', n)),
    ...(await readdir(join(syntaxes, 'mr'))).map((n) => join(syntaxes, 'mr', n)),
  ];
  let checked = 0;
  for (const path of files) {
    const file = await readFile(path);
    if (readFileMeta(file)!.transferSyntaxUid === TS.ExplicitVRBigEndian) {
      assert.throws(() => deidentifyPart10(file, SECRET), (e) => isMedgeError(e) && e.code === 'MEDGE_ERR_DEID_UNSUPPORTED', path);
      continue;
    }
    const result = deidentifyPart10(file, SECRET);
    const original = parse(file);
    const copy = parse(result.part10);
    assert.ok(pixelData(original).equals(pixelData(copy)), `pixel data of ${path}`);
    const text = Buffer.from(copy.byteArray).toString('latin1') + result.part10.toString('latin1');
    for (const t of ['x0020000d', 'x0020000e', 'x00080018', 'x00200052']) {
      const uid = original.string(t);
      if (uid) assert.ok(!text.includes(uid), `${t} of ${path} left in the copy`);
    }
    assert.equal(copy.string('x00120062'), 'YES');
    assert.equal(result.stats.privateRemoved > 0, true, path);
    if (hasVfy) {
      const before = await dciodvfyErrors(dir, 'in.dcm', file);
      const after = await dciodvfyErrors(dir, 'out.dcm', result.part10);
      assert.deepEqual(newErrors(before, after), [], path);
    }
    checked++;
  }
  assert.ok(checked >= 50, `${checked} files checked`);
  if (!hasVfy) t.diagnostic(skipMessage('dciodvfy', DICOM3TOOLS_HINT));
});
