import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinkSimulator } from './link-simulator.js';
import { newStudy, readIndex, run, sendTo, uplinkStatus, waitFor, writeConfig, writePhantoms } from './int-test-support.js';
import { echo } from '../dimse/scu.js';
import { readFileMeta } from '../dicom/part10.js';
import { TS } from '../dicom/uids.js';
import { inflatePart10 } from '../dicom/deflate-part10.js';
import { JPEG_LS_LOSSLESS } from '../dicom/transcode.js';
import { decodeFrameSync } from '../dicom/codecs/index.js';
import { createFsBlobStore } from '../store/fs-blob-store.js';
import { startMedge } from '../../test/helpers/medge-process.js';
import { orthancJson, requireOrthanc, startOrthanc } from '../../test/helpers/orthanc.js';
import { freePort } from '../../test/helpers/free-port.js';
import { DCMTK_HINT, DICOM3TOOLS_HINT, ORTHANC_HINT, requireTool, skipMessage } from '../../test/helpers/peers.js';

/**
 * Compressed results against real peers: Orthanc over STOW-RS through the link simulator, a dcmtk
 * storescp that accepts every syntax it knows (+xa), and one that accepts only uncompressed ones
 * (its default): the results arrive compressed where the peer takes them, uncompressed otherwise,
 * and are the stored results in every case.
 */

const dataset = (part10: Buffer) => part10.subarray(readFileMeta(part10)!.datasetOffset);
const pixels = (part10: Buffer) => {
  const p = decodeFrameSync(part10, 0).pixels;
  return Buffer.from(p.buffer, p.byteOffset, p.byteLength);
};

async function dciodvfyErrors(file: string): Promise<string[]> {
  const { stdout, stderr } = await run('dciodvfy', ['-new', file]).catch((err: { stdout: string; stderr: string }) => err);
  return `${stdout}\n${stderr}`.split('\n').filter((l) => l.startsWith('Error'));
}

/** A dcmtk storescp writing what it receives as received (+t= is its default) into `dir`. */
async function storescp(dir: string, aeTitle: string, args: string[]): Promise<{ port: number; child: ChildProcess }> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const child = spawn('storescp', ['-aet', aeTitle, '-od', dir, ...args, String(port)], { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1' } });
  await waitFor(`storescp ${aeTitle} listening`, () => echo({ host: '127.0.0.1', port, calledAe: aeTitle }).then(() => true, () => undefined), 10_000, 100);
  return { port, child };
}

async function receivedBySop(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const name of await readdir(dir)) {
    const bytes = await readFile(join(dir, name));
    const meta = readFileMeta(bytes);
    if (meta) out.set(meta.mediaStorageSopInstanceUid, bytes);
  }
  return out;
}

test('compressed results: Orthanc over STOW-RS stores and decodes them; a DIMSE peer that takes JPEG-LS and deflate gets them compressed, one that does not gets the stored files; all identical to the stored results', async (t) => {
  if (!requireOrthanc()) return t.skip(skipMessage('Orthanc with orthanc-dicomweb', ORTHANC_HINT));
  for (const tool of ['storescp', 'dcmdjpls', 'dcmconv']) if (!requireTool(tool, DCMTK_HINT)) return t.skip(skipMessage(tool, DCMTK_HINT));
  if (!requireTool('dciodvfy', DICOM3TOOLS_HINT)) return t.skip(skipMessage('dciodvfy', DICOM3TOOLS_HINT));
  const dir = await mkdtemp(join(tmpdir(), 'medge-uplink-compress-'));
  const orthanc = await startOrthanc();
  const link = await createLinkSimulator({ target: { host: '127.0.0.1', port: orthanc.httpPort }, rateBitsPerSecond: 50_000_000, delayMs: 20 });
  const peers: ChildProcess[] = [];
  try {
    const all = await storescp(join(dir, 'scp-all'), 'TAKESALL', ['+xa']);
    const plain = await storescp(join(dir, 'scp-plain'), 'PLAINONLY', []);
    peers.push(all.child, plain.child);
    const results = { what: 'results', when: 'immediate', privacy: 'identified' };
    const config = await writeConfig(dir, [
      { id: 'cloud', type: 'stow-rs', baseUrl: link.url('/dicom-web'), policy: results },
      { id: 'takes-all', type: 'dimse', aeTitle: 'TAKESALL', host: '127.0.0.1', port: all.port, policy: results },
      { id: 'plain-only', type: 'dimse', aeTitle: 'PLAINONLY', host: '127.0.0.1', port: plain.port, policy: results },
    ]);
    const node = await startMedge({ dataDir: join(dir, 'data'), args: ['--config', config] });
    try {
      const templates = await writePhantoms(join(dir, 'templates'));
      const study = await newStudy(templates.pos, dir, 1);
      await sendTo(node.dicomPort, study.files);
      const st = await waitFor('results confirmed at every destination', async () => {
        const s = await uplinkStatus(node.httpUrl);
        return s.destinations.every((d) => d.queue.confirmed >= 3 && d.queue.pending === 0) ? s : undefined;
      }, 60_000, 250);
      for (const d of st.destinations) assert.equal(d.queue.parked, 0, `${d.id}: nothing parked`);

      const rows = readIndex<{ results: string }>(node.dataDir, `SELECT results FROM analyses WHERE results IS NOT NULL`);
      const made = rows.flatMap((r) => JSON.parse(r.results) as { kind: string; sopInstanceUid: string }[]);
      assert.deepEqual(made.map((r) => r.kind).sort(), ['key-image', 'seg', 'sr']);
      const store = createFsBlobStore(node.dataDir);
      const takesAll = await receivedBySop(join(dir, 'scp-all'));
      const plainOnly = await receivedBySop(join(dir, 'scp-plain'));
      let storedBytes = 0;
      for (const r of made) {
        const key = readIndex<{ blobKey: string }>(node.dataDir, `SELECT blob_key AS blobKey FROM instances WHERE sop_uid = ?`, r.sopInstanceUid)[0]!.blobKey;
        const stored = await store.read(key);
        storedBytes += stored.length;
        const want = r.kind === 'key-image' ? JPEG_LS_LOSSLESS : TS.DeflatedExplicitVRLittleEndian;

        // Orthanc, over STOW-RS: the file as sent, in the compressed syntax; what it holds is the result.
        const [found] = await orthancJson<{ ID: string }[]>(orthanc.httpUrl, '/tools/lookup', { method: 'POST', body: r.sopInstanceUid });
        const arrived = Buffer.from(await (await fetch(`${orthanc.httpUrl}/instances/${found!.ID}/file`)).arrayBuffer());
        assert.equal(readFileMeta(arrived)!.transferSyntaxUid, want, `${r.kind} at Orthanc`);
        if (r.kind === 'key-image') {
          assert.deepEqual(pixels(arrived), pixels(stored), 'the key image decodes to the stored pixels');
          const preview = await fetch(`${orthanc.httpUrl}/instances/${found!.ID}/preview`);
          assert.equal(preview.status, 200, 'Orthanc decodes the JPEG-LS key image');
          assert.equal(preview.headers.get('content-type'), 'image/png');
          assert.ok((await preview.arrayBuffer()).byteLength > 1000);
        } else assert.deepEqual(dataset(inflatePart10(arrived)), dataset(stored), `${r.kind}: inflated, the stored dataset byte for byte`);

        // Back to Explicit VR Little Endian with dcmtk: dciodvfy finds no error the stored result lacks.
        const file = join(dir, `arrived-${r.kind}.dcm`);
        const back = join(dir, `back-${r.kind}.dcm`);
        const local = join(dir, `stored-${r.kind}.dcm`);
        await writeFile(file, arrived);
        await writeFile(local, stored);
        await run(r.kind === 'key-image' ? 'dcmdjpls' : 'dcmconv', r.kind === 'key-image' ? [file, back] : ['+te', file, back]);
        assert.equal(readFileMeta(await readFile(back))!.transferSyntaxUid, TS.ExplicitVRLittleEndian);
        const before = new Set(await dciodvfyErrors(local));
        assert.deepEqual((await dciodvfyErrors(back)).filter((l) => !before.has(l)), [], `${r.kind}: no new dciodvfy error`);

        // DIMSE: compressed where the peer accepts the syntax; the stored file where it does not.
        const compressed = takesAll.get(r.sopInstanceUid)!;
        assert.equal(readFileMeta(compressed)!.transferSyntaxUid, want, `${r.kind} at the storescp taking every syntax`);
        if (r.kind === 'key-image') assert.deepEqual(pixels(compressed), pixels(stored));
        else assert.deepEqual(dataset(inflatePart10(compressed)), dataset(stored));
        const uncompressed = plainOnly.get(r.sopInstanceUid)!;
        assert.equal(readFileMeta(uncompressed)!.transferSyntaxUid, TS.ExplicitVRLittleEndian, `${r.kind} at the storescp taking uncompressed syntaxes only`);
        assert.deepEqual(dataset(uncompressed), dataset(stored));
      }
      const bytes = Object.fromEntries(st.destinations.map((d) => [d.id, d.bytesOut.total]));
      assert.ok(bytes.cloud! < storedBytes / 2, `STOW-RS sent ${bytes.cloud} bytes for ${storedBytes} stored`);
      assert.equal(bytes['takes-all'], bytes.cloud, 'the same compressed copies over DIMSE');
      assert.equal(bytes['plain-only'], storedBytes, 'the meter counts the uncompressed files sent after the refusal');
    } finally {
      await node.stop();
    }
  } finally {
    for (const p of peers) p.kill('SIGTERM');
    await link.close();
    await orthanc.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
