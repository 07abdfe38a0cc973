import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestApp } from './test-support.js';
import { createStowClient } from './stow-client.js';

/**
 * The client streams a file from disk into the request: sending a 315 MB instance must not
 * grow this process by anything like its size. medge's own STOW-RS server, which streams too
 * (stow-memory.int.test.ts: under 100 MB), runs in this process as the destination, so the
 * bound covers both ends; the file is written by a child process so that its pixels are never
 * in this one.
 */
const FRAMES = 600;
const MAX_GROWTH = 120 * 1024 * 1024;
const run = promisify(execFile);

test('a 315 MB instance is sent from disk with bounded memory', async (ctx) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-stow-client-mem-'));
  const app = await startTestApp();
  const client = createStowClient({ baseUrl: `${app.baseUrl}/dicom-web` });
  try {
    const file = join(dir, 'large.dcm');
    const script = fileURLToPath(new URL('../../scripts/make-synthetic-ct.js', import.meta.url));
    await run(process.execPath, [script, '--multi-frame', file, String(FRAMES)]);
    const size = (await stat(file)).size;
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    let result;
    try {
      result = await client.store({ part10: { path: file } });
    } finally {
      clearInterval(sampler);
    }
    assert.equal(result.outcomes[0]!.status, 'stored');
    const growth = peak - baseline;
    ctx.diagnostic(`${(size / 1e6).toFixed(0)} MB sent in ${(result.ms / 1000).toFixed(1)} s; RSS of client and server grew ${(growth / 1e6).toFixed(1)} MB (limit ${(MAX_GROWTH / 1e6).toFixed(0)} MB)`);
    assert.ok(growth < MAX_GROWTH, `RSS grew ${(growth / 1e6).toFixed(1)} MB while sending ${(size / 1e6).toFixed(0)} MB`);
  } finally {
    client.close();
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
});
