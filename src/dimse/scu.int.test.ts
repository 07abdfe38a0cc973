/**
 * medge's SCU against dcmtk's storescp in bit-preserving mode (+B: it writes exactly the bytes it
 * received): every file medge sends arrives with the source file's dataset bytes. With storescp
 * accepting Implicit VR only (+xi), uncompressed files are converted and compressed ones fail cleanly.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { isMedgeError } from '../errors.js';
import { readFileMeta } from '../dicom/part10.js';
import { writeSyntheticCtSeries } from '../dicom/synthetic/ct-series.js';
import { TS } from '../dicom/uids.js';
import { freePort } from '../../test/helpers/free-port.js';
import { DCMTK_HINT, requireTool, skipMessage } from '../../test/helpers/peers.js';
import { realData } from '../../test/helpers/real-data.js';
import { runTool, startTestScp } from './int-test-harness.js';
import { echo, storeFiles } from './scu.js';

const missing = ['storescp', 'echoscu'].filter((t) => !requireTool(t, DCMTK_HINT));
const skip = missing.length ? skipMessage(missing.join(', '), DCMTK_HINT) : false;
const tsDir = realData('transfer-syntaxes');
const headCt = realData('ge-head-ct');
const children: ChildProcess[] = [];
const dirs: string[] = [];

after(async () => {
  for (const c of children) c.kill('SIGTERM');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function startStorescp(extra: string[]): Promise<{ port: number; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'medge-storescp-'));
  dirs.push(dir);
  const port = await freePort();
  children.push(spawn('storescp', ['-aet', 'STORESCP', '+B', '+uf', ...extra, '-od', dir, String(port)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' }));
  for (let i = 0; i < 100; i++) {
    if ((await runTool('echoscu', ['-aec', 'STORESCP', '-to', '1', '127.0.0.1', String(port)])).code === 0) return { port, dir };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('storescp did not start');
}

/** sha256 of the dataset; `pad` adds the trailing NUL the SCU puts after an odd-length dataset (PS3.5 A.5). */
function datasetSha(bytes: Buffer, pad = false): string {
  const meta = readFileMeta(bytes);
  assert.ok(meta);
  const ds = bytes.subarray(meta.datasetOffset);
  return createHash('sha256').update(pad && ds.length % 2 ? Buffer.concat([ds, Buffer.alloc(1)]) : ds).digest('hex');
}

async function listFiles(...dirsIn: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const d of dirsIn) for (const e of await readdir(d, { withFileTypes: true })) if (e.isFile()) out.push(join(d, e.name));
  return out.sort();
}

async function receivedShas(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of await readdir(dir)) {
    const b = await readFile(join(dir, f));
    out.set(datasetSha(b), readFileMeta(b)!.transferSyntaxUid);
  }
  return out;
}

test('echo against storescp; a closed port is MEDGE_ERR_DIMSE_CONNECT', { skip }, async () => {
  const { port } = await startStorescp(['+xa']);
  const r = await echo({ host: '127.0.0.1', port, calledAe: 'STORESCP', callingAe: 'MEDGESCU' });
  assert.equal(r.status, 0);
  const closed = await freePort();
  await assert.rejects(echo({ host: '127.0.0.1', port: closed, calledAe: 'X', timeoutMs: 2000 }), (e) => isMedgeError(e, 'MEDGE_ERR_DIMSE_CONNECT'));
});

test('storeFiles: transfer-syntax files and the head CT arrive byte-identical (one association)', { skip: skip || ((!tsDir || !headCt) && 'real data missing') }, async () => {
  const { port, dir } = await startStorescp(['+xa']);
  const files = await listFiles(join(tsDir!, 'ct'), join(tsDir!, 'mr'), headCt!);
  const progress: number[] = [];
  const { results, summary } = await storeFiles({ files, host: '127.0.0.1', port, calledAe: 'STORESCP', callingAe: 'MEDGESCU', onProgress: (p) => progress.push(p.done) });
  assert.equal(results.length, files.length);
  assert.deepEqual(progress, files.map((_, i) => i + 1));
  assert.equal(summary.associations, 1);
  const received = await receivedShas(dir);
  let identical = 0;
  for (const r of results) {
    const src = await readFile(r.file);
    if (!r.ok) {
      // storescp +xa does not take every syntax (e.g. retired JPEG processes, JPEG Lossless .57): a clear error, nothing half-sent.
      assert.ok(isMedgeError(r.error, 'MEDGE_ERR_DIMSE_NO_CONTEXT'), `${r.file}: ${r.error?.message}`);
      continue;
    }
    assert.equal(received.get(datasetSha(src, true)), readFileMeta(src)!.transferSyntaxUid, `${r.file} not received byte-identical`);
    identical++;
  }
  assert.ok(identical >= 28 + 15, `only ${identical} files byte-identical`);
  assert.equal(summary.sent, identical);
});

test('storeFiles: datasets longer than one read batch (1 MiB) arrive whole, at the peer\'s 16 KB PDU limit', { skip }, async () => {
  const { port, dir } = await startStorescp(['+xa', '--max-pdu', '16384']);
  // 1024 x 1024 x 2 bytes: 2 MiB of pixels, three read batches of 64 PDUs.
  const big = await writeSyntheticCtSeries({ dir: join(dir, '..', `${basename(dir)}-big`), slices: 2, rows: 1024, columns: 1024, seed: 9 });
  dirs.push(join(dir, '..', `${basename(dir)}-big`));
  const { results } = await storeFiles({ files: big.files, host: '127.0.0.1', port, calledAe: 'STORESCP', callingAe: 'MEDGESCU' });
  assert.deepEqual(results.map((r) => r.ok), [true, true], JSON.stringify(results.map((r) => r.error?.message)));
  const received = await receivedShas(dir);
  for (const f of big.files) assert.ok(received.has(datasetSha(await readFile(f), true)), `${f} byte-identical`);
});

test('storeFiles to a peer that announces a maximum PDU beyond one batch (4 MB): PDUs stay within a batch and the datasets arrive whole', { skip }, async () => {
  const scp = await startTestScp({ aeTitle: 'MEDGE', maxPduLength: 4 * 1024 * 1024 });
  try {
    const dir = await mkdtemp(join(tmpdir(), 'medge-bigpdu-'));
    dirs.push(dir);
    const big = await writeSyntheticCtSeries({ dir, slices: 2, rows: 1024, columns: 1024, seed: 10 });
    const { results } = await storeFiles({ files: big.files, host: '127.0.0.1', port: scp.port, calledAe: 'MEDGE', callingAe: 'MEDGESCU' });
    assert.deepEqual(results.map((r) => r.ok), [true, true], JSON.stringify(results.map((r) => r.error?.message)));
    for (const f of big.files) {
      const sent = await readFile(f);
      const stored = scp.index.getInstance(readFileMeta(sent)!.mediaStorageSopInstanceUid)!;
      assert.equal(datasetSha(await scp.store.read(stored.blobKey)), datasetSha(sent));
    }
  } finally {
    await scp.close();
  }
});

test('storeFiles: fallback converts uncompressed files to Implicit VR; compressed ones fail clearly', { skip: skip || (!tsDir && 'real data missing') }, async () => {
  const { port, dir } = await startStorescp(['+xi']);
  const explicit = join(tsDir!, 'ct', 'CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm');
  const jpeg = join(tsDir!, 'ct', 'CTImage.dcm_JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70.dcm');
  const { results } = await storeFiles({ files: [explicit, jpeg], host: '127.0.0.1', port, calledAe: 'STORESCP' });
  assert.equal(results[0]!.ok, true, results[0]!.error?.message);
  assert.equal(results[1]!.ok, false);
  assert.ok(isMedgeError(results[1]!.error, 'MEDGE_ERR_DIMSE_NO_CONTEXT'));
  const got = await readdir(dir);
  assert.equal(got.length, 1);
  assert.equal(readFileMeta(await readFile(join(dir, got[0]!)))!.transferSyntaxUid, TS.ImplicitVRLittleEndian);
});

test('storeFiles against medge: a wrong called AE is MEDGE_ERR_DIMSE_REJECTED for every file', { skip }, async () => {
  const scp = await startTestScp({ aeTitle: 'MEDGE' });
  try {
    const files = headCt ? (await listFiles(headCt)).slice(0, 3) : [];
    const { results, summary } = await storeFiles({ files, host: '127.0.0.1', port: scp.port, calledAe: 'NOTMEDGE' });
    assert.equal(summary.failed, files.length);
    for (const r of results) assert.ok(isMedgeError(r.error, 'MEDGE_ERR_DIMSE_REJECTED'), r.error?.message);
  } finally {
    await scp.close();
  }
});

test('storeFiles opens the next file while the peer stores the last: a stop mid-batch leaves no file open, and every sent file arrives whole', { skip }, async () => {
  const { port, dir } = await startStorescp([]);
  const series = await writeSyntheticCtSeries({ dir: join(dir, '..', `${basename(dir)}-src`), slices: 6, rows: 64, columns: 64, seed: 11 });
  dirs.push(join(dir, '..', `${basename(dir)}-src`));
  const openFiles = async () => (await readdir('/proc/self/fd')).length;
  const before = await openFiles();
  let done = 0;
  const { results } = await storeFiles({
    files: series.files, host: '127.0.0.1', port, calledAe: 'STORESCP', timeoutMs: 10_000,
    onProgress: () => void done++,
    shouldStop: () => done >= 3,
  });
  assert.equal(results.length, 3);
  assert.ok(results.every((r) => r.ok));
  // The prepared fourth file is closed in the background; give it a moment.
  for (let i = 0; i < 250 && (await openFiles()) > before; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(await openFiles(), before, 'no file left open');
  const received = await receivedShas(dir);
  assert.equal(received.size, 3);
  for (const f of series.files.slice(0, 3)) assert.ok(received.has(datasetSha(await readFile(f), true)), `${f} byte-identical`);
});
