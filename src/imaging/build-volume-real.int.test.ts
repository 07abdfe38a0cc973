import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { realData } from '../../test/helpers/real-data.js';
import { DCMTK_HINT, requireTool, skipMessage } from '../../test/helpers/peers.js';
import { buildVolume } from './build-volume.js';
import { groupSeries } from './group-series.js';
import { OUTSIDE_HU } from './rescale.js';

/**
 * Volumes of real scanner series checked against dcmtk: the expected geometry is computed here from
 * dcmdump's text output (not from medge's parser), then compared with what buildVolume found.
 */

type V3 = [number, number, number];

function dump(file: string, tags: string[]): Map<string, string> {
  const out = execFileSync('dcmdump', [...tags.flatMap((t) => ['+P', t]), file], { encoding: 'latin1' });
  const values = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^\((\w{4},\w{4})\) \w\w (?:\[([^\]]*)\]|(\S+))/.exec(line);
    if (m) values.set(m[1]!.toLowerCase(), m[2] ?? m[3]!);
  }
  return values;
}

const nums = (s: string | undefined) => (s ?? '').split('\\').map(Number);
const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dotp = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

function readDir(dir: string) {
  return readdirSync(dir).map((f) => ({ name: f, part10: readFileSync(join(dir, f)) }));
}

test('GE head CT (gantry tilt, uneven spacing) against dcmdump', async (t) => {
  const dir = realData('ge-head-ct');
  if (!dir) return t.skip('real data ../shared/data/real/ge-head-ct is absent (see SOURCES.md)');
  if (!requireTool('dcmdump', DCMTK_HINT)) return t.skip(skipMessage('dcmdump', DCMTK_HINT));

  // Expected, from dcmdump: normal = row x column, slice location = IPP . normal, sorted.
  const files = readdirSync(dir).sort();
  const rows = files.map((f) => {
    const d = dump(join(dir, f), ['0020,0032', '0020,0037', '0018,1120', '0018,0050']);
    return { ipp: nums(d.get('0020,0032')) as V3, iop: nums(d.get('0020,0037')), tilt: Number(d.get('0018,1120')), thickness: Number(d.get('0018,0050')) };
  });
  const [r0, r1, r2, c0, c1, c2] = rows[0]!.iop as [number, number, number, number, number, number];
  const cross: V3 = [r1 * c2 - r2 * c1, r2 * c0 - r0 * c2, r0 * c1 - r1 * c0];
  const normal = cross.map((x) => x / Math.hypot(...cross)) as V3;
  const sorted = rows.map((r) => ({ ...r, loc: dotp(r.ipp, normal) })).sort((a, b) => a.loc - b.loc);
  const stack = sub(sorted.at(-1)!.ipp, sorted[0]!.ipp);
  const expectedTilt = (Math.acos(Math.abs(dotp(stack, normal)) / Math.hypot(...stack)) * 180) / Math.PI;
  const steps = sorted.slice(1).map((s, i) => s.loc - sorted[i]!.loc);

  const instances = readDir(dir).reverse();
  const t0 = performance.now();
  const v = await buildVolume(instances);
  t.diagnostic(`GE head CT: ${v.dims.join('x')} built in ${(performance.now() - t0).toFixed(1)} ms`);

  assert.deepEqual(v.dims, [512, 512, 28]);
  assert.deepEqual(v.excluded, []);
  for (let k = 0; k < 28; k++) {
    assert.ok(Math.abs(v.sliceLocations[k]! - sorted[k]!.loc) < 1e-6, `slice ${k} location`);
    assert.deepEqual(v.slicePositions[k], sorted[k]!.ipp);
  }
  // The tilt the geometry shows agrees with the header's Gantry/Detector Tilt and with dcmdump.
  assert.ok(Math.abs(v.tiltDegrees - expectedTilt) < 1e-6);
  assert.ok(Math.abs(v.tiltDegrees - Math.abs(rows[0]!.tilt)) < 0.01, `tilt ${v.tiltDegrees} vs header ${rows[0]!.tilt}`);
  assert.equal(v.headerTiltDegrees, 18.5);
  // Uneven spacing: 13 steps of 4.0 mm along the normal (4.22 mm in z), one of 1.08, 13 of 7.0.
  t.diagnostic(`GE spacing along the normal: ${steps.map((s) => s.toFixed(2)).join(' ')}`);
  assert.equal(steps.filter((s) => Math.abs(s - 4.0) < 0.01).length, 13);
  assert.equal(steps.filter((s) => Math.abs(s - 1.08) < 0.01).length, 1);
  assert.equal(steps.filter((s) => Math.abs(s - 7.0) < 0.01).length, 13);
  // Spans: half the distance to each neighbour; ends the neighbour distance; total = extent + half an end step each side.
  for (let k = 1; k < 27; k++) assert.ok(Math.abs(v.sliceSpan[k]! - (steps[k - 1]! + steps[k]!) / 2) < 1e-6);
  assert.ok(Math.abs(v.sliceSpan[0]! - steps[0]!) < 1e-6 && Math.abs(v.sliceSpan[27]! - steps[26]!) < 1e-6);
  // Spans match the nominal thicknesses (4 then 7 mm) except at the junction.
  for (let k = 0; k < 28; k++) if (k !== 13 && k !== 14) assert.ok(Math.abs(v.sliceSpan[k]! - sorted[k]!.thickness) < 0.01, `span ${k}`);
  assert.deepEqual(v.sliceThicknesses, sorted.map((s) => s.thickness));
  // Two acquisitions with different spacing are not gaps.
  assert.deepEqual(v.gaps, []);
  // Pixel Padding Value -1500 (stored as HU) outside the reconstruction circle.
  const outside = v.outside.reduce((s, x) => s + x, 0) / v.outside.length;
  t.diagnostic(`GE outside fraction ${outside.toFixed(4)} (a disc inscribed in the square leaves ${(1 - Math.PI / 4).toFixed(4)})`);
  assert.ok(outside > 0.2 && outside < 0.3);
  assert.equal(v.data[0], OUTSIDE_HU);
  assert.equal(v.outside[0], 1);
  assert.equal(v.meta.modality, 'CT');
  assert.equal(v.meta.bodyPart, 'HEAD');
  assert.equal(v.hounsfield, true);
});

test('Philips head phantom: DIRFILE left out as a non-image, intercept -1024 applied (checked on raw pixels from dcmdump)', async (t) => {
  const dir = realData('philips-head-phantom-5mm');
  if (!dir) return t.skip('real data ../shared/data/real/philips-head-phantom-5mm is absent (see SOURCES.md)');
  if (!requireTool('dcmdump', DCMTK_HINT)) return t.skip(skipMessage('dcmdump', DCMTK_HINT));
  const v = await buildVolume(readDir(dir));
  assert.deepEqual(v.dims, [512, 512, 28]);
  assert.equal(v.excluded.length, 1);
  assert.match(v.excluded[0]!.reason, /non-image/);
  assert.deepEqual(v.gaps, []);
  assert.ok(v.sliceSpan.every((s) => Math.abs(s - 5) < 1e-6));
  assert.equal(v.tiltDegrees, 0);
  assert.deepEqual(v.meta.convolutionKernel, 'UB');
  assert.deepEqual(v.meta.seriesDescription, 'STD BRAIN 5MM');

  // dcmdump +W writes the raw Pixel Data; HU = stored + intercept (slope 1).
  const file = join(dir, 'I10');
  const d = dump(file, ['0008,0018', '0028,1052', '0028,1053']);
  assert.equal(Number(d.get('0028,1052')), -1024);
  const tmp = mkdtempSync(join(tmpdir(), 'medge-raw-'));
  try {
    execFileSync('dcmdump', ['+W', tmp, file], { encoding: 'latin1' });
    const rawFile = readdirSync(tmp).find((f) => f.endsWith('.raw'))!;
    const raw = readFileSync(join(tmp, rawFile));
    const stored = new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2);
    const k = v.sources.findIndex((s) => s.sopInstanceUid === d.get('0008,0018'));
    assert.ok(k >= 0);
    const slice = v.data.subarray(k * 512 * 512, (k + 1) * 512 * 512);
    let mismatches = 0;
    for (let i = 0; i < stored.length; i++) if (slice[i] !== stored[i]! - 1024 && v.outside[k * 512 * 512 + i] === 0) mismatches++;
    assert.equal(mismatches, 0);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('one CT slice in Explicit/Implicit Little Endian, Deflated and Big Endian gives the same HU', async (t) => {
  const dir = realData('transfer-syntaxes', 'ct');
  if (!dir) return t.skip('real data ../shared/data/real/transfer-syntaxes is absent (see SOURCES.md)');
  const names = ['LittleEndianExplicit', 'LittleEndianImplicit', 'DeflatedExplicitVRLittleEndian', 'BigEndianExplicit'];
  const volumes = [];
  for (const n of names) {
    const f = readdirSync(dir).find((x) => x.includes(`_${n}TransferSyntax`))!;
    volumes.push(await buildVolume([{ part10: readFileSync(join(dir, f)) }]));
  }
  for (const v of volumes.slice(1)) assert.deepEqual(Buffer.from(v.data.buffer).equals(Buffer.from(volumes[0]!.data.buffer)), true);
});

test('the same CT slice in every lossless compressed syntax builds to the same HU as the uncompressed one (codecs of src/dicom/codecs)', async (t) => {
  const dir = realData('transfer-syntaxes', 'ct');
  if (!dir) return t.skip('real data ../shared/data/real/transfer-syntaxes is absent (see SOURCES.md)');
  const files = readdirSync(dir);
  const reference = await buildVolume([{ part10: readFileSync(join(dir, files.find((f) => f.includes('_LittleEndianExplicit'))!)) }]);
  for (const name of ['RLELossless', 'JPEGLSLossless', 'JPEG2000LosslessOnly', 'JPEGProcess14SV1', 'JPEGProcess14']) {
    const f = files.find((x) => x.includes(`_${name}TransferSyntax`))!;
    const v = await buildVolume([{ part10: readFileSync(join(dir, f)) }]);
    assert.ok(Buffer.from(v.data.buffer).equals(Buffer.from(reference.data.buffer)), name);
  }
});

test('groupSeries on the Philips folder: one series of 28 images, the DIRFILE set aside', async (t) => {
  const dir = realData('philips-head-phantom-5mm');
  if (!dir) return t.skip('real data ../shared/data/real/philips-head-phantom-5mm is absent (see SOURCES.md)');
  const { series, other } = groupSeries(readDir(dir));
  assert.equal(series.length, 1);
  assert.equal(series[0]!.files.length, 28);
  assert.deepEqual(other.map((o) => [o.file.name, o.reason]), [['DIRFILE', 'no Series Instance UID']]);
});
