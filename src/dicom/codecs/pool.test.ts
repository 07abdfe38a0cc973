import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMedgeError } from '../../errors.js';
import { realData } from '../../../test/helpers/real-data.js';
import { createDecoderPool, decodeFrameSync } from './index.js';

const CT = realData('transfer-syntaxes', 'ct');
const skip = CT ? false : 'real data ../shared/data/real/transfer-syntaxes/ct absent (see SOURCES.md)';
const file = (part: string): Buffer => readFileSync(join(CT!, readdirSync(CT!).find((f) => f.includes(part))!));

/** The .80 file with its JPEG-LS scan data overwritten by an EOI marker half-way: charls must refuse it. */
function corruptJpegLs(): Buffer {
  const buf = Buffer.from(file('JPEGLSLossless'));
  const soi = buf.indexOf(Buffer.from([0xff, 0xd8, 0xff]));
  const at = soi + Math.floor((buf.length - soi) / 2);
  for (let i = at; i < at + 64; i += 2) {
    buf[i] = 0xff;
    buf[i + 1] = 0xd9;
  }
  return buf;
}

test('the pool decodes a JPEG-LS frame off the main thread, bit-exact', { skip }, async (t) => {
  const pool = createDecoderPool({ size: 2 });
  try {
    const reference = decodeFrameSync(file('LittleEndianExplicit'), 0);
    // The main event loop keeps turning while the worker decodes (the first decode also starts charls).
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    const frame = await pool.decodeFrame(file('JPEGLSLossless'), 0);
    const ms = performance.now() - t0;
    clearInterval(ticker);
    assert.deepEqual(frame.pixels, reference.pixels);
    assert.ok(ticks >= 3, `the main loop turned ${ticks} times during a ${ms.toFixed(0)} ms decode`);
    t.diagnostic(`pool JPEG-LS 512x512: ${ms.toFixed(1)} ms including worker start, ${ticks} main-loop ticks meanwhile`);
    const all = await pool.decodeAll(file('JPEG2000Lossless'));
    assert.equal(all.length, 1);
    assert.deepEqual(all[0]!.pixels, reference.pixels);
  } finally {
    await pool.close();
  }
});

test('a corrupt frame rejects with MEDGE_ERR_CODEC_DECODE and the pool keeps working', { skip }, async () => {
  const pool = createDecoderPool({ size: 1 });
  try {
    const bad = corruptJpegLs();
    await assert.rejects(pool.decodeFrame(bad, 0), (err: unknown) => {
      assert.ok(isMedgeError(err, 'MEDGE_ERR_CODEC_DECODE'), String(err));
      assert.match(err.message, /1\.2\.840\.10008\.1\.2\.4\.80/);
      assert.match(err.message, /instance [0-9.]+/);
      return true;
    });
    const good = await pool.decodeFrame(file('JPEGLSLossless'), 0);
    assert.equal(good.pixels.length, 512 * 512);
    // The same failure, synchronously, is a MedgeError too.
    assert.throws(() => decodeFrameSync(corruptJpegLs(), 0), (err: unknown) => isMedgeError(err, 'MEDGE_ERR_CODEC_DECODE'));
  } finally {
    await pool.close();
  }
});

test('a frame that overruns the time limit rejects, its worker is replaced, the pool keeps working', { skip }, async () => {
  const pool = createDecoderPool({ size: 1, timeoutMs: 1 });
  try {
    await assert.rejects(pool.decodeFrame(file('JPEG2000Lossless'), 0), (err: unknown) => isMedgeError(err, 'MEDGE_ERR_CODEC_DECODE') && /within 1 ms/.test(err.message));
  } finally {
    await pool.close();
  }
  const pool2 = createDecoderPool({ size: 1 });
  try {
    await assert.rejects(pool2.decodeFrame(file('JPEGLSLossless'), 7), (err: unknown) => isMedgeError(err, 'MEDGE_ERR_CODEC_DECODE') && /frame 7 does not exist/.test(err.message));
    assert.equal((await pool2.decodeFrame(file('JPEGLSLossless'), 0)).pixels.length, 512 * 512);
  } finally {
    await pool2.close();
  }
});

test('closing the pool rejects what is queued; later calls reject', { skip }, async () => {
  const pool = createDecoderPool({ size: 1 });
  const pending = assert.rejects(pool.decodeFrame(file('JPEG2000Lossless'), 0), (err: unknown) => isMedgeError(err, 'MEDGE_ERR_CODEC_DECODE'));
  await pool.close();
  await pending;
  await assert.rejects(pool.decodeFrame(file('JPEGLSLossless'), 0), (err: unknown) => isMedgeError(err, 'MEDGE_ERR_CODEC_DECODE'));
});

test('decodeAll decodes every frame of a multi-frame file in order, across workers', async () => {
  const { rleEncode, syntheticPart10 } = await import('./synthetic-part10.js');
  const rows = 32;
  const columns = 32;
  const frames = Array.from({ length: 6 }, (_, k) => Uint8Array.from({ length: rows * columns }, (_, i) => (i + k * 17) & 0xff));
  const part10 = syntheticPart10({ transferSyntaxUid: '1.2.840.10008.1.2.5', rows, columns, bitsAllocated: 8, numberOfFrames: frames.length, frames: frames.map((f) => [rleEncode([f])]) });
  const pool = createDecoderPool({ size: 3 });
  try {
    const all = await pool.decodeAll(part10);
    assert.equal(all.length, frames.length);
    all.forEach((f, k) => assert.deepEqual(f.pixels, frames[k]));
  } finally {
    await pool.close();
  }
});
