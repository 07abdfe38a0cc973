import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { generateUid } from '../dicom/uids.js';
import { curl, startTestApp, stowArgs, writeLargeStowBody, type TestApp } from './test-support.js';

/**
 * STOW-RS must stream (PS3.18 10.5 gives no size limit; a multi-frame instance can be GBs): a
 * 300 MB instance goes through with the server's resident memory growing by well under the
 * instance's size. The server runs in this process; curl, the client, in its own.
 */
const PIXEL_BYTES = 300 * 1024 * 1024;
const MAX_GROWTH = 100 * 1024 * 1024;

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(async () => {
  await t?.close();
});

test('a 300 MB instance is stored with bounded memory', async (ctx) => {
  const boundary = 'large-instance-boundary';
  const body = join(t.dir, 'large.bin');
  const uids = { study: generateUid(), series: generateUid(), sop: generateUid() };
  await writeLargeStowBody(body, boundary, PIXEL_BYTES, uids);
  const bodySize = (await stat(body)).size;

  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const started = Date.now();
  let r;
  try {
    r = await curl(stowArgs(`${t.baseUrl}/dicom-web/studies/${uids.study}`, body, boundary), t.dir);
  } finally {
    clearInterval(sampler);
  }
  const seconds = (Date.now() - started) / 1000;
  assert.equal(r.status, 200, r.body.toString());
  assert.equal(r.json()['00081199'].Value[0]['00081155'].Value[0], uids.sop);
  const stored = t.index.getInstance(uids.sop)!;
  assert.ok(stored.size > PIXEL_BYTES && stored.size < bodySize);
  assert.equal((await t.store.stat(stored.blobKey))?.size, stored.size);
  const growth = peak - baseline;
  ctx.diagnostic(`${(bodySize / 1e6).toFixed(0)} MB body in ${seconds.toFixed(1)} s, server RSS grew ${(growth / 1e6).toFixed(1)} MB (limit ${(MAX_GROWTH / 1e6).toFixed(0)} MB)`);
  assert.ok(growth < MAX_GROWTH, `RSS grew ${(growth / 1e6).toFixed(1)} MB while storing a ${(bodySize / 1e6).toFixed(0)} MB instance`);
});
