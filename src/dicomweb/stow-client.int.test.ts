import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp } from './test-support.js';
import { createStowClient } from './stow-client.js';
import { createLinkSimulator } from '../uplink/link-simulator.js';
import { writeSyntheticCtSeries } from '../dicom/synthetic/ct-series.js';
import { generateUid } from '../dicom/uids.js';
import { isMedgeError } from '../errors.js';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';

/** medge's own STOW-RS server as the destination, reached through the link simulator. */

const MBIT = 1_000_000;

async function fixture(slices: number, size = 64) {
  const dir = await mkdtemp(join(tmpdir(), 'medge-stow-client-'));
  const series = await writeSyntheticCtSeries({ dir, slices, rows: size, columns: size });
  return { dir, series, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

test('stores files (streamed) and a buffer through a 50 Mbit/s 40 ms link; exists() confirms each; the link carried the Part 10 bytes as they are', async () => {
  const app = await startTestApp();
  const { series, cleanup } = await fixture(4);
  const link = await createLinkSimulator({ target: { host: '127.0.0.1', port: Number(new URL(app.baseUrl).port) }, rateBitsPerSecond: 50 * MBIT, delayMs: 20, capture: true });
  const client = createStowClient({ baseUrl: link.url('/dicom-web/') });
  try {
    const inBuffer = await readFile(series.files[3]!);
    const result = await client.store([...series.files.slice(0, 3).map((path) => ({ part10: { path } })), { part10: inBuffer }], { studyInstanceUid: series.studyUid });
    assert.equal(result.httpStatus, 200);
    assert.deepEqual(result.outcomes.map((o) => [o.sopInstanceUid, o.status]), series.sopInstanceUids.map((u) => [u, 'stored']));
    assert.ok(result.ms >= 40, `a request over a 40 ms round trip took ${result.ms} ms`);
    for (const uid of series.sopInstanceUids) assert.equal(await client.exists(series.studyUid, series.seriesUid, uid), true);
    assert.equal(await client.exists(series.studyUid, series.seriesUid, generateUid()), false);
    assert.equal(await client.exists(generateUid(), generateUid(), series.sopInstanceUids[0]!), false);
    // Every file went out byte for byte inside the multipart body.
    const carried = link.captured();
    for (const f of series.files) assert.ok(carried.includes(await readFile(f)), `${f} is in the captured stream`);
    assert.deepEqual(app.index.instancesOfSeries(series.seriesUid).sort(), [...series.sopInstanceUids].sort());
    // Keep-alive: one connection for the store and the nine QIDO queries.
    assert.equal(link.stats().connections, 1);
  } finally {
    client.close();
    await link.close();
    await app.close();
    await cleanup();
  }
});

test('an instance of another study than the URL names fails permanently with A900; the others are stored (202)', async () => {
  const app = await startTestApp();
  const a = await fixture(2);
  const b = await fixture(1);
  const client = createStowClient({ baseUrl: `${app.baseUrl}/dicom-web` });
  try {
    const result = await client.store([{ part10: { path: a.series.files[0]! } }, { part10: { path: b.series.files[0]! } }, { part10: { path: a.series.files[1]! } }], { studyInstanceUid: a.series.studyUid });
    assert.equal(result.httpStatus, 202);
    assert.deepEqual(result.outcomes.map((o) => o.status), ['stored', 'failed', 'stored']);
    assert.equal(result.outcomes[1]!.sopInstanceUid, b.series.sopInstanceUids[0]);
    assert.equal(result.outcomes[1]!.failureReason, 0xa900);
    assert.equal(result.outcomes[1]!.retryable, false);
    // Sent again, a stored instance is stored again (STOW is idempotent by SOP Instance UID).
    const again = await client.store({ part10: { path: a.series.files[0]! } });
    assert.equal(again.outcomes[0]!.status, 'stored');
  } finally {
    client.close();
    await app.close();
    await a.cleanup();
    await b.cleanup();
  }
});

test('the link dropped during a store: a retryable network error; refused: retryable; blackholed: a retryable timeout', async () => {
  const app = await startTestApp();
  const { series, cleanup } = await fixture(4, 512);
  const link = await createLinkSimulator({ target: { host: '127.0.0.1', port: Number(new URL(app.baseUrl).port) }, rateBitsPerSecond: 8 * MBIT });
  const client = createStowClient({ baseUrl: link.url('/dicom-web'), timeoutMs: 600 });
  const files = series.files.map((path) => ({ part10: { path } }));
  try {
    // About 2.1 MB at 1 MB/s: the cut lands in the middle of the body.
    const pending = client.store(files);
    setTimeout(() => void link.cut('drop'), 400);
    await assert.rejects(pending, (err) => {
      assert.ok(isMedgeError(err, 'MEDGE_ERR_UPLINK_NETWORK'), String(err));
      assert.equal(err.fields.retryable, true);
      return true;
    });
    await link.restore();
    await link.cut('refuse');
    await assert.rejects(client.store(files[0]!), (err) => isMedgeError(err, 'MEDGE_ERR_UPLINK_NETWORK') && /refused/.test(err.message) && err.fields.retryable === true);
    await link.restore();
    await link.cut('blackhole');
    const t0 = Date.now();
    await assert.rejects(client.store(files[0]!), (err) => isMedgeError(err, 'MEDGE_ERR_UPLINK_NETWORK') && /no progress for 600 ms/.test(err.message) && err.fields.retryable === true);
    assert.ok(Date.now() - t0 < 3000);
    await link.restore();
    link.setRate(undefined);
    const ok = await client.store(files);
    assert.deepEqual(ok.outcomes.map((o) => o.status), ['stored', 'stored', 'stored', 'stored']);
  } finally {
    client.close();
    await link.close();
    await app.close();
    await cleanup();
  }
});

test('a wrong base URL is a permanent rejection that names the status; a dead port a retryable refusal', async () => {
  const app = await startTestApp();
  const { series, cleanup } = await fixture(1);
  const wrong = createStowClient({ baseUrl: `${app.baseUrl}/no-such-root` });
  try {
    await assert.rejects(wrong.store({ part10: { path: series.files[0]! } }), (err) => isMedgeError(err, 'MEDGE_ERR_UPLINK_REJECTED') && /HTTP 404/.test(err.message) && err.fields.retryable === false);
    await assert.rejects(wrong.store({ part10: Buffer.from('not dicom at all') }), (err) => isMedgeError(err, 'MEDGE_ERR_INGEST_NOT_DICOM'));
    assert.deepEqual((await wrong.store([])).outcomes, []);
  } finally {
    wrong.close();
    await app.close();
  }
  const dead = createStowClient({ baseUrl: `${app.baseUrl}/dicom-web` });
  try {
    await assert.rejects(dead.store({ part10: { path: series.files[0]! } }), (err) => isMedgeError(err, 'MEDGE_ERR_UPLINK_NETWORK') && err.fields.errno === 'ECONNREFUSED');
  } finally {
    dead.close();
    await cleanup();
  }
});

test('a kept-alive connection the server closed as the next request went out is retried once on a new one', async () => {
  // A scripted HTTP peer: the race (server closes an idle keep-alive socket just as the client
  // reuses it) cannot be produced on demand with a real server. It answers the first request
  // of each connection and drops the connection at the second.
  const connections: Socket[] = [];
  let requests = 0;
  const server = createServer((s) => {
    connections.push(s);
    let served = 0;
    let buffered = Buffer.alloc(0);
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(buffered.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      buffered = buffered.subarray(end + 4 + length);
      requests++;
      if (served++ > 0) return void s.resetAndDestroy();
      const body = JSON.stringify({ '00081198': { vr: 'SQ' } });
      s.write(`HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { series, cleanup } = await fixture(1);
  const client = createStowClient({ baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}/dicom-web` });
  try {
    assert.equal((await client.store({ part10: { path: series.files[0]! } })).httpStatus, 200);
    assert.equal((await client.store({ part10: { path: series.files[0]! } })).httpStatus, 200);
    assert.equal(connections.length, 2);
    assert.equal(requests, 3);
  } finally {
    client.close();
    for (const c of connections) c.destroy();
    await new Promise((r) => server.close(r));
    await cleanup();
  }
});
