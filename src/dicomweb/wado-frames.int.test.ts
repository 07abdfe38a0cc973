/**
 * WADO-RS frames against Orthanc's DICOMweb plugin: every file of the real transfer-syntax set is
 * stored in both, and frame 1 is retrieved from both, uncompressed (the default) and as stored
 * (transfer-syntax=*). Lossless encodings must give the same bytes; lossy ones the same length and
 * nearly the same values (two JPEG decoders may round differently).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestApp, type TestApp } from './test-support.js';
import { orthancJson, requireOrthanc, startOrthanc, uploadToOrthanc, type OrthancInstance } from '../../test/helpers/orthanc.js';
import { ORTHANC_HINT, skipMessage } from '../../test/helpers/peers.js';
import { realData } from '../../test/helpers/real-data.js';
import { readFileMeta } from '../dicom/part10.js';
import { el, tag, writePart10 } from '../dicom/dataset-writer.js';
import { TS } from '../dicom/uids.js';
import { parseMediaType } from './media-type.js';
import { PIXEL_TS, readPixelInfo } from '../dicom/codecs/index.js';

const tsDir = realData('transfer-syntaxes', 'ct');
const skip = !requireOrthanc() ? skipMessage('Orthanc with orthanc-dicomweb', ORTHANC_HINT) : !tsDir && 'real data missing';

let medge: TestApp;
let orthanc: OrthancInstance;
const paths: string[] = [];

const LOSSY: ReadonlySet<string> = new Set([PIXEL_TS.JpegBaseline, PIXEL_TS.JpegExtended, '1.2.840.10008.1.2.4.53', '1.2.840.10008.1.2.4.55', PIXEL_TS.JpegLsNearLossless, PIXEL_TS.Jpeg2000]);
const NATIVE: ReadonlySet<string> = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99']);

before(async () => {
  if (skip) return;
  medge = await startTestApp();
  orthanc = await startOrthanc();
  paths.push(...(await readdir(tsDir!)).sort().map((n) => join(tsDir!, n)));
});

after(async () => {
  await medge?.close();
  await orthanc?.stop();
});

interface Stored {
  name: string;
  ts: string;
  study: string;
  series: string;
  sop: string;
  bitsAllocated: number;
}

/**
 * The files of the set share one SOP Instance UID: each is stored in turn, in medge (a changed
 * dataset replaces the previous one) and in Orthanc (the previous one deleted first), then `check`ed.
 */
async function eachStored(check: (f: Stored) => Promise<void>): Promise<void> {
  for (const path of paths) {
    const bytes = await readFile(path);
    const boundary = 'frames-test-boundary';
    const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]);
    const stow = await fetch(`${medge.baseUrl}/dicom-web/studies`, { method: 'POST', headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}` }, body });
    assert.equal(stow.status, 200, await stow.text());
    const meta = readFileMeta(bytes)!;
    const stored = medge.index.getInstance(meta.mediaStorageSopInstanceUid)!;
    assert.equal(stored.transferSyntaxUid, meta.transferSyntaxUid);
    const { instances } = await uploadToOrthanc(orthanc, [path]);
    const f = { name: path.split('/').at(-1)!, ts: meta.transferSyntaxUid, sop: stored.sopInstanceUid, study: stored.studyInstanceUid, series: stored.seriesInstanceUid, bitsAllocated: readPixelInfo(bytes).bitsAllocated };
    try {
      await check(f);
    } finally {
      await orthancJson(orthanc.httpUrl, `/instances/${instances[0]}`, { method: 'DELETE' });
    }
  }
}

/** The parts of a multipart/related answer: each part's Content-Type and bytes. */
function parts(contentType: string, body: Buffer): { type: string; bytes: Buffer }[] {
  const boundary = parseMediaType(contentType)!.params.boundary!;
  const out: { type: string; bytes: Buffer }[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  for (;;) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(at + delimiter.length + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('latin1');
    out.push({ type: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? '', bytes: part.subarray(headerEnd + 4) });
    at = next;
  }
  return out;
}

async function frame(base: string, f: Stored, accept?: string, list = '1') {
  const res = await fetch(`${base}/studies/${f.study}/series/${f.series}/instances/${f.sop}/frames/${list}`, { headers: accept ? { accept } : {} });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', parts: res.ok ? parts(res.headers.get('content-type')!, body) : [], body };
}

test('frame 1 of every transfer syntax, uncompressed by default: the same bytes as Orthanc for lossless encodings, nearly the same values for lossy ones', { skip }, async (t) => {
  let compared = 0;
  await eachStored(async (f) => {
    const ours = await frame(`${medge.baseUrl}/dicom-web`, f);
    assert.equal(ours.status, 200, `${f.name}: ${ours.body.toString()}`);
    assert.match(ours.contentType, /^multipart\/related; type="application\/octet-stream"/);
    assert.equal(ours.parts.length, 1);
    assert.equal(ours.parts[0]!.type, 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
    assert.equal(ours.parts[0]!.bytes.length, (512 * 512 * f.bitsAllocated) / 8, f.name);
    const theirs = await frame(`${orthanc.httpUrl}/dicom-web`, f);
    if (theirs.status !== 200) return t.diagnostic(`${f.name}: Orthanc answers ${theirs.status}, not compared`); // its GDCM cannot decode every one
    compared++;
    const mine = ours.parts[0]!.bytes;
    const other = theirs.parts[0]!.bytes;
    assert.equal(mine.length, other.length, f.name);
    if (!LOSSY.has(f.ts)) {
      assert.ok(mine.equals(other), `${f.name}: not the bytes Orthanc gives`);
      return;
    }
    const read = (b: Buffer, i: number) => (f.bitsAllocated === 16 ? b.readInt16LE(i * 2) : b[i]!);
    let worst = 0;
    for (let i = 0; i < mine.length / (f.bitsAllocated / 8); i++) worst = Math.max(worst, Math.abs(read(mine, i) - read(other, i)));
    t.diagnostic(`${f.name}: lossy, values within ${worst} of Orthanc's`);
    assert.ok(worst <= 2, `${f.name}: values differ by up to ${worst} from Orthanc's`);
  });
  assert.ok(compared >= 10, `compared ${compared} files with Orthanc`);
});

test('frames as stored (transfer-syntax=*): compressed frames byte for byte as Orthanc gives them, with their media type', { skip }, async (t) => {
  const accept = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';
  let compared = 0;
  await eachStored(async (f) => {
    const ours = await frame(`${medge.baseUrl}/dicom-web`, f, accept);
    assert.equal(ours.status, 200, `${f.name}: ${ours.body.toString()}`);
    const type = parseMediaType(ours.parts[0]!.type)!;
    assert.equal(type.params['transfer-syntax'], NATIVE.has(f.ts) ? '1.2.840.10008.1.2.1' : f.ts, f.name);
    if (NATIVE.has(f.ts)) return;
    const theirs = await frame(`${orthanc.httpUrl}/dicom-web`, f, accept);
    if (theirs.status !== 200) return t.diagnostic(`${f.name}: Orthanc answers ${theirs.status}, not compared`);
    compared++;
    assert.ok(ours.parts[0]!.bytes.equals(theirs.parts[0]!.bytes), `${f.name}: the stored frame differs from Orthanc's (${ours.parts[0]!.bytes.length} against ${theirs.parts[0]!.bytes.length} bytes)`);
    // The stored syntax's own media type gives the same.
    const own = await frame(`${medge.baseUrl}/dicom-web`, f, `multipart/related; type="${type.essence}"`);
    assert.equal(own.status, 200, f.name);
    assert.ok(own.parts[0]!.bytes.equals(ours.parts[0]!.bytes));
  });
  assert.ok(compared >= 8, `compared ${compared} files with Orthanc`);
});

test('frames: a bad or out-of-range frame list is 400, another compressed syntax 406, an unknown instance 404', { skip }, async () => {
  const base = `${medge.baseUrl}/dicom-web`;
  let checked = false;
  await eachStored(async (f) => {
    if (f.ts !== PIXEL_TS.JpegLsLossless) return;
    checked = true;
    for (const list of ['0', '2', '1,1', 'x', '1,-3']) assert.equal((await frame(base, f, undefined, list)).status, 400, list);
    assert.equal((await frame(base, f, 'multipart/related; type="image/jp2"')).status, 406);
    assert.equal((await frame(base, f, 'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.4.50')).status, 406);
    assert.equal((await frame(base, { ...f, sop: '1.2.3.404' })).status, 404);
  });
  assert.ok(checked);
});

test('a multi-frame image: the frames listed, in the order listed, each its own part', async () => {
  const app = await startTestApp();
  try {
    const uids = { study: '1.2.826.0.1.3680043.10.1.1', series: '1.2.826.0.1.3680043.10.1.1.1', sop: '1.2.826.0.1.3680043.10.1.1.1.1' };
    const frames = 4;
    const pixels = Buffer.alloc(frames * 8 * 8 * 2);
    for (let i = 0; i < frames * 64; i++) pixels.writeUInt16LE(Math.floor(i / 64) * 1000 + (i % 64), i * 2);
    const sopClass = '1.2.840.10008.5.1.4.1.1.7.3';
    const file = writePart10({ mediaStorageSopClassUid: sopClass, mediaStorageSopInstanceUid: uids.sop, transferSyntaxUid: TS.ExplicitVRLittleEndian }, [
      el(tag(0x0008, 0x0016), 'UI', sopClass),
      el(tag(0x0008, 0x0018), 'UI', uids.sop),
      el(tag(0x0020, 0x000d), 'UI', uids.study),
      el(tag(0x0020, 0x000e), 'UI', uids.series),
      el(tag(0x0028, 0x0002), 'US', 1),
      el(tag(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
      el(tag(0x0028, 0x0008), 'IS', frames),
      el(tag(0x0028, 0x0010), 'US', 8),
      el(tag(0x0028, 0x0011), 'US', 8),
      el(tag(0x0028, 0x0100), 'US', 16),
      el(tag(0x0028, 0x0101), 'US', 16),
      el(tag(0x0028, 0x0102), 'US', 15),
      el(tag(0x0028, 0x0103), 'US', 0),
      el(tag(0x7fe0, 0x0010), 'OW', pixels),
    ]);
    const boundary = 'mf';
    const stow = await fetch(`${app.baseUrl}/dicom-web/studies`, {
      method: 'POST',
      headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}` },
      body: Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), file, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    });
    assert.equal(stow.status, 200, await stow.text());
    const f = { name: 'multi-frame', ts: TS.ExplicitVRLittleEndian, ...uids, bitsAllocated: 16 };
    const got = await frame(`${app.baseUrl}/dicom-web`, f, undefined, '4,2%2C3');
    assert.equal(got.status, 200, got.body.toString());
    assert.deepEqual(got.parts.map((p) => p.bytes.readUInt16LE(0)), [3000, 1000, 2000]);
    for (const [i, n] of [4, 2, 3].entries()) assert.ok(got.parts[i]!.bytes.equals(pixels.subarray((n - 1) * 128, n * 128)), `frame ${n}`);
    assert.equal((await frame(`${app.baseUrl}/dicom-web`, f, undefined, '5')).status, 400);
  } finally {
    await app.close();
  }
});
