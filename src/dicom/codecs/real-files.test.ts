import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { realData } from '../../../test/helpers/real-data.js';
import { decodeFrameSync, initCodecs, readPixelInfo, type PixelArray } from './index.js';
import { syntheticPart10 } from './synthetic-part10.js';
import { wasmCodecModule } from './wasm-loader.js';

/**
 * The real files of ../shared/data/real/transfer-syntaxes/: one GE CT slice in 15 syntaxes and one
 * Siemens MR slice in 9 lossless syntaxes. Every lossless file must decode bit-exact to the explicit
 * VR little endian reference (whole arrays compared). Lossy files are held to tolerances measured on
 * these files and stated here, with a little headroom:
 *
 * | syntax | compared as | measured max / RMSE | limit max / RMSE |
 * | .4.91 JPEG 2000 (irreversible) | stored values | 5 / 0.89 | 8 / 1.5 |
 * | .4.81 JPEG-LS near-lossless (NEAR 1) | stored values | 1 / 0.83 | 1 / 1 |
 * | .4.51 JPEG extended 12-bit, retired .53/.55 progressive | HU: the files were requantised to 12 bits (slope 2.0002, intercept -4047) | 35.6 / 5.19 HU | 60 / 8 HU |
 * | .4.50 JPEG baseline 8-bit | HU: requantised to 8 bits (slope 32.12, about 32 HU a step) | 64.2 / 22.7 HU | 100 / 30 HU |
 *
 * The 12-bit files decode identically whether sequential (.51) or progressive (.53, .55).
 */
const CT = realData('transfer-syntaxes', 'ct');
const MR = realData('transfer-syntaxes', 'mr');
const SKIP_CT = CT ? false : 'real data ../shared/data/real/transfer-syntaxes/ct absent (see SOURCES.md)';
const SKIP_MR = MR ? false : 'real data ../shared/data/real/transfer-syntaxes/mr absent (see SOURCES.md)';

interface Tolerance {
  maxAbs: number;
  rmse: number;
  /** Compare modality values (rescale slope and intercept of each file) instead of stored values. */
  rescaled?: boolean;
}
const LOSSY: Record<string, Tolerance> = {
  '1.2.840.10008.1.2.4.91': { maxAbs: 8, rmse: 1.5 },
  '1.2.840.10008.1.2.4.81': { maxAbs: 1, rmse: 1 },
  '1.2.840.10008.1.2.4.51': { maxAbs: 60, rmse: 8, rescaled: true },
  '1.2.840.10008.1.2.4.53': { maxAbs: 60, rmse: 8, rescaled: true },
  '1.2.840.10008.1.2.4.55': { maxAbs: 60, rmse: 8, rescaled: true },
  '1.2.840.10008.1.2.4.50': { maxAbs: 100, rmse: 30, rescaled: true },
};

function files(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(dir, f));
}

function rescale(part10: Buffer): { slope: number; intercept: number } {
  const ds = dicomParser.parseDicom(part10);
  return { slope: Number(ds.string('x00281053') ?? 1), intercept: Number(ds.string('x00281052') ?? 0) };
}

function errors(a: PixelArray, b: PixelArray, fa = { slope: 1, intercept: 0 }, fb = fa): { maxAbs: number; rmse: number } {
  assert.equal(a.length, b.length);
  let maxAbs = 0;
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! * fa.slope + fa.intercept - (b[i]! * fb.slope + fb.intercept));
    if (e > maxAbs) maxAbs = e;
    se += e * e;
  }
  return { maxAbs, rmse: Math.sqrt(se / a.length) };
}

function medianMs(fn: () => void, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((x, y) => x - y)[Math.floor(runs / 2)]!;
}

for (const [name, dir, skip, reference] of [
  ['CT', CT, SKIP_CT, 'LittleEndianExplicit'],
  ['MR', MR, SKIP_MR, '1.dcm'],
] as const) {
  test(`${name}: every transfer syntax decodes, lossless bit-exact, lossy within tolerance; time per frame`, { skip }, async (t) => {
    await initCodecs();
    const all = files(dir!);
    const refPath = all.find((f) => f.includes(reference))!;
    const refBuf = readFileSync(refPath);
    const ref = decodeFrameSync(refBuf, 0);
    const refScale = rescale(refBuf);
    const timings: string[] = [];
    for (const path of all) {
      const buf = readFileSync(path);
      const info = readPixelInfo(buf);
      const ts = info.transferSyntaxUid;
      const got = decodeFrameSync(buf, 0);
      const label = `${path.slice(path.lastIndexOf('/') + 1)} (${ts})`;
      assert.equal(got.info.rows, ref.info.rows, label);
      assert.equal(got.info.columns, ref.info.columns, label);
      const tol = LOSSY[ts];
      if (!tol) {
        assert.equal(got.pixels.constructor, ref.pixels.constructor, label);
        assert.deepEqual(got.pixels, ref.pixels, `${label} must be bit-exact`);
      } else {
        const e = tol.rescaled ? errors(got.pixels, ref.pixels, rescale(buf), refScale) : errors(got.pixels, ref.pixels);
        t.diagnostic(`${label}: max abs error ${e.maxAbs.toFixed(1)}, RMSE ${e.rmse.toFixed(2)}${tol.rescaled ? ' HU' : ''} (limits ${tol.maxAbs}, ${tol.rmse})`);
        assert.ok(e.maxAbs <= tol.maxAbs, `${label}: max abs error ${e.maxAbs} > ${tol.maxAbs}`);
        assert.ok(e.rmse <= tol.rmse, `${label}: RMSE ${e.rmse} > ${tol.rmse}`);
      }
      // A new Buffer over the same bytes defeats the per-Buffer parse cache: the time includes parsing.
      const ms = medianMs(() => decodeFrameSync(Buffer.from(buf.buffer, buf.byteOffset, buf.length), 0), 5);
      timings.push(`${ts.padEnd(24)} ${ms.toFixed(2).padStart(7)} ms`);
    }
    // No real HTJ2K file exists here: the reference is encoded with OpenJPH's encoder (lossless) and
    // wrapped in a synthetic Part 10 file, for a bit-exact check and a timing on real pixels.
    const ht = syntheticPart10({
      transferSyntaxUid: '1.2.840.10008.1.2.4.201',
      rows: ref.info.rows,
      columns: ref.info.columns,
      bitsAllocated: ref.info.bitsAllocated,
      bitsStored: ref.info.bitsStored,
      pixelRepresentation: ref.info.pixelRepresentation,
      frames: [[htj2kEncode(ref.pixels, ref.info.columns, ref.info.rows, ref.info.pixelRepresentation === 1)]],
    });
    assert.deepEqual(decodeFrameSync(ht, 0).pixels, ref.pixels, 'HTJ2K of the reference must be bit-exact');
    const htMs = medianMs(() => decodeFrameSync(Buffer.from(ht.buffer, ht.byteOffset, ht.length), 0), 5);
    timings.push(`${'1.2.840.10008.1.2.4.201'.padEnd(24)} ${htMs.toFixed(2).padStart(7)} ms (reference re-encoded with OpenJPH)`);
    t.diagnostic(`decode time per ${ref.info.columns}x${ref.info.rows} frame, median of 5, one thread:`);
    for (const line of timings) t.diagnostic(line);
  });
}

interface HtEncoder {
  getDecodedBuffer(info: object): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
}

function htj2kEncode(pixels: PixelArray, width: number, height: number, isSigned: boolean): Uint8Array {
  const Encoder = wasmCodecModule('openjph').HTJ2KEncoder as new () => HtEncoder;
  const enc = new Encoder();
  try {
    const bitsPerSample = pixels.BYTES_PER_ELEMENT * 8;
    enc.getDecodedBuffer({ width, height, bitsPerSample, componentCount: 1, isSigned, isUsingColorTransform: false }).set(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength));
    enc.encode();
    return enc.getEncodedBuffer().slice();
  } finally {
    enc.delete();
  }
}
