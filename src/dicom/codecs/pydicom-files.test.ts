import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMedgeError } from '../../errors.js';
import { isCi } from '../../../test/helpers/peers.js';
import { createDecoderPool, decodeFrameSync, readPixelInfo } from './index.js';

/**
 * Every .dcm of the test files that Debian's python3-pydicom installs either decodes (every frame) or
 * fails with a MedgeError whose message names the transfer syntax and instance: no crash, no hang, no
 * other exception type. Frames are decoded in the pool first, with a per-frame time limit, so that a
 * codec that loops cannot hang the test; then again synchronously in this thread, which must throw
 * nothing but MedgeError.
 */
const DIR = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const PER_FRAME_MS = 20_000;
const present = existsSync(DIR);
if (!present && isCi()) throw new Error(`${DIR} is required in CI (apt-get install python3-pydicom)`);
const skip = present ? false : `${DIR} absent: apt-get install python3-pydicom`;

function dcmFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return dcmFiles(path);
    return name.endsWith('.dcm') ? [path] : [];
  });
}

test('pydicom test files: each decodes or fails with a clear MedgeError, within a time limit', { skip, timeout: 600_000 }, async (t) => {
  const pool = createDecoderPool({ size: 2, timeoutMs: PER_FRAME_MS });
  const outcomes = new Map<string, string[]>();
  const note = (category: string, name: string): void => {
    outcomes.set(category, [...(outcomes.get(category) ?? []), name]);
  };
  try {
    const files = dcmFiles(DIR).sort();
    assert.ok(files.length > 50, `only ${files.length} .dcm files under ${DIR}`);
    for (const path of files) {
      const name = path.slice(DIR.length + 1);
      const part10 = readFileSync(path);
      let frames = 1;
      let ts = '?';
      try {
        const info = readPixelInfo(part10);
        frames = info.numberOfFrames;
        ts = info.transferSyntaxUid;
        // Every frame in the pool (a hang there is a timeout, which fails the test), then synchronously.
        for (let f = 0; f < frames; f++) {
          const fromPool = await pool.decodeFrame(part10, f);
          const direct = decodeFrameSync(part10, f);
          assert.deepEqual(direct.pixels, fromPool.pixels, `${name} frame ${f}: pool and direct decode differ`);
          assert.equal(direct.pixels.length, info.rows * info.columns * info.samplesPerPixel, `${name} frame ${f}: sample count`);
        }
        note(`decoded ${ts}`, `${name} (${frames} frame${frames > 1 ? 's' : ''})`);
      } catch (err) {
        assert.ok(isMedgeError(err), `${name}: threw ${String(err)} (${(err as Error)?.constructor?.name}), not a MedgeError`);
        assert.doesNotMatch(err.message, /no result within/, `${name}: a decode hung (${err.message})`);
        assert.ok(err.message.length > 20, `${name}: message too terse: ${err.message}`);
        if (err.code.startsWith('MEDGE_ERR_CODEC')) assert.match(err.message, /transfer syntax|instance/, `${name}: ${err.message}`);
        // The synchronous path must fail the same way.
        assert.throws(() => {
          for (let f = 0; f < frames; f++) decodeFrameSync(part10, f);
        }, (e: unknown) => isMedgeError(e));
        note(`${err.code} ${ts}`, `${name}: ${err.message.replace(/instance [0-9.]+(, transfer syntax [0-9.]+)?(, frame \d+)?:? ?/, '')}`);
      }
    }
  } finally {
    await pool.close();
  }
  for (const [category, names] of [...outcomes].sort()) {
    t.diagnostic(`${category}: ${names.length}`);
    for (const n of names) t.diagnostic(`    ${n}`);
  }
});
