import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { realData } from '../../test/helpers/real-data.js';
import { readFileMeta } from '../dicom/part10.js';
import { curl, startTestApp, stowArgs, writeMultipart, type BodyPart, type TestApp } from './test-support.js';

const BOUNDARY = 'medge-test-0f9e8d';
const ctDir = realData('transfer-syntaxes', 'ct');
const headDir = realData('ge-head-ct');
const skip = !ctDir || !headDir ? 'real data ../shared/data/real is absent (see SOURCES.md there); set CI=true to fail instead' : false;
const files = (dir: string) => readdirSync(dir).sort().map((f) => join(dir, f));

let t: TestApp;
let n = 0;
before(async () => {
  t = await startTestApp();
});
after(async () => {
  await t?.close();
});

async function stow(path: string, parts: Parameters<typeof writeMultipart>[2], contentType?: string) {
  const body = join(t.dir, `body-${n++}.bin`);
  await writeMultipart(body, BOUNDARY, parts);
  return curl(stowArgs(`${t.baseUrl}/dicom-web${path}`, body, BOUNDARY, contentType), t.dir);
}

const seq = (json: any, tag: string): any[] => json[tag]?.Value ?? [];
const str = (item: any, tag: string): string | undefined => item[tag]?.Value?.[0];

test('a study UID mismatch is refused before storing: 409, FailureReason A900', { skip }, async () => {
  const head = files(headDir!);
  const headStudy = /\/studies\/([^/]+)$/.exec((await stow('/studies', [{ type: 'application/dicom', file: head[0]! }])).json()['00081190'].Value[0])![1]!;
  const jpeg = files(ctDir!).find((f) => f.includes('JPEGProcess1Transfer'))!;
  const r = await stow(`/studies/${headStudy}`, [{ type: 'application/dicom', file: jpeg }]);
  assert.equal(r.status, 409);
  const failed = seq(r.json(), '00081198');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]['00081197'].Value[0], 0xa900);
  assert.match(str(failed[0], '00081155')!, /^1\.2\./);
  assert.equal(t.index.getInstance(str(failed[0], '00081155')!), undefined, 'the mismatching instance is not stored');
  const same = await stow(`/studies/${headStudy}`, [{ type: 'application/dicom', file: head[1]! }]);
  assert.equal(same.status, 200, 'an instance of the named study is stored');
  assert.equal(same.json()['00081190'].Value[0], `${t.baseUrl}/dicom-web/studies/${headStudy}`);
});

test('STOW-RS of the 28-slice head CT in one request: 200 and every instance referenced', { skip }, async () => {
  const head = files(headDir!);
  const r = await stow('/studies', head.map((file) => ({ type: 'application/dicom', file })));
  assert.equal(r.status, 200, r.body.toString());
  assert.match(r.contentType, /^application\/dicom\+json/);
  const json = r.json();
  const refs = seq(json, '00081199');
  assert.equal(refs.length, 28);
  assert.equal(json['00081198'], undefined);
  for (const ref of refs) {
    assert.equal(str(ref, '00081150'), '1.2.840.10008.5.1.4.1.1.2');
    assert.ok(t.index.getInstance(str(ref, '00081155')!), 'indexed');
    assert.ok(str(ref, '00081190')!.startsWith(`${t.baseUrl}/dicom-web/studies/`));
  }
  assert.equal(json['00081190'].vr, 'UR');
});

test('parts committed side by side (more than the 16 in flight) are answered in the order sent, a failure in its place', { skip }, async () => {
  const head = files(headDir!);
  const parts: BodyPart[] = head.map((file) => ({ type: 'application/dicom', file }));
  parts.splice(20, 0, { type: 'application/dicom', bytes: Buffer.from('not DICOM, in the middle of a long request '.repeat(8)) });
  const r = await stow('/studies', parts);
  assert.equal(r.status, 202, r.body.toString());
  const json = r.json();
  const sent = head.map((f) => readFileMeta(readFileSync(f))!.mediaStorageSopInstanceUid);
  assert.deepEqual(seq(json, '00081199').map((ref) => str(ref, '00081155')), sent, 'in the order of the parts');
  assert.equal(seq(json, '00081198').length, 1);
  for (const sop of sent) assert.ok(t.index.getInstance(sop), 'indexed before the answer');
});

test('STOW-RS of every transfer syntax, one request each; WADO-RS gives back the same bytes', { skip }, async () => {
  for (const file of [...files(ctDir!), ...files(realData('transfer-syntaxes', 'mr')!)]) {
    const r = await stow('/studies', [{ type: 'application/dicom', file }]);
    assert.equal(r.status, 200, `${file}: ${r.body.toString()}`);
    const ref = seq(r.json(), '00081199')[0];
    const back = await curl(['-H', 'Accept: multipart/related; type="application/dicom"', str(ref, '00081190')!], t.dir);
    assert.equal(back.status, 200);
    const boundary = /boundary="?([^";]+)"?/.exec(back.contentType)![1]!;
    const bytes = readFileSync(file);
    const start = back.body.indexOf('\r\n\r\n') + 4;
    assert.deepEqual(back.body.subarray(start, start + bytes.length), bytes, `${file} comes back byte for byte`);
    assert.equal(back.body.subarray(start + bytes.length).toString('latin1'), `\r\n--${boundary}--\r\n`);
  }
});

test('a part that is not DICOM fails with C000; the others are still stored: 202', { skip }, async () => {
  const head = files(headDir!).slice(0, 2);
  const r = await stow('/studies', [
    { type: 'application/dicom', file: head[0]! },
    { type: 'application/dicom', bytes: Buffer.from('this is not a DICOM file at all, only text that is long enough to hold a preamble '.repeat(3)) },
    { type: 'application/dicom+json', bytes: Buffer.from('[{}]') },
    { type: 'application/dicom', file: head[1]! },
  ]);
  assert.equal(r.status, 202, r.body.toString());
  const json = r.json();
  assert.equal(seq(json, '00081199').length, 2, 'the two real instances (duplicates count as stored)');
  const failed = seq(json, '00081198');
  assert.deepEqual(failed.map((f) => f['00081197'].Value[0]), [0xc000, 0xc000]);
  assert.equal(failed[0]['00081197'].vr, 'US');
});

test('only garbage: 409', async () => {
  const r = await stow('/studies', [{ type: 'application/dicom', bytes: Buffer.alloc(300, 7) }]);
  assert.equal(r.status, 409);
  assert.equal(seq(r.json(), '00081198')[0]['00081197'].Value[0], 0xc000);
});

test('a wrong Content-Type is answered 415 with the error shape', async () => {
  for (const ct of ['application/json', 'multipart/related; type="application/dicom+json"; boundary=x', 'multipart/form-data; boundary=x']) {
    const r = await stow('/studies', [{ type: 'application/dicom', bytes: Buffer.from('x') }], ct);
    assert.equal(r.status, 415, ct);
    assert.equal(r.json().error.code, 'MEDGE_ERR_DICOMWEB_MEDIA_TYPE');
    assert.equal(typeof r.json().error.message, 'string');
  }
});

test('a body without its close delimiter is a 400 with the error shape', async () => {
  const body = join(t.dir, 'truncated.bin');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(body, `--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\nsome bytes`);
  const r = await curl(stowArgs(`${t.baseUrl}/dicom-web/studies`, body, BOUNDARY), t.dir);
  assert.equal(r.status, 400);
  assert.equal(r.json().error.code, 'MEDGE_ERR_DICOMWEB_MULTIPART');
  assert.match(r.json().error.message, /close delimiter/);
});

test('a client that goes away in the middle of a part leaves nothing behind', { skip, timeout: 10_000 }, async () => {
  const { request } = await import('node:http');
  const { readdir } = await import('node:fs/promises');
  const file = readFileSync(files(headDir!)[5]!);
  const before = t.index.counts().instances;
  const req = request(`${t.baseUrl}/dicom-web/studies`, {
    method: 'POST',
    headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`, 'transfer-encoding': 'chunked' },
  });
  req.on('error', () => undefined);
  req.write(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`);
  req.write(file.subarray(0, 300_000));
  // Wait until the server has a temporary file for the part, then cut the connection.
  const tmp = join(t.dir, 'store', 'tmp');
  const entries = async () => (await readdir(tmp).catch(() => [] as string[])).length;
  while ((await entries()) === 0) await new Promise((r) => setImmediate(r));
  req.destroy();
  while ((await entries()) > 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(t.index.counts().instances, before);
});

test('a full disk: every part fails with A700 and the answer is 507', { skip }, async () => {
  const full = await startTestApp({ minFreeBytes: Number.MAX_SAFE_INTEGER });
  try {
    const body = join(full.dir, 'full.bin');
    await writeMultipart(body, BOUNDARY, files(headDir!).slice(0, 2).map((file) => ({ type: 'application/dicom', file })));
    const r = await curl(stowArgs(`${full.baseUrl}/dicom-web/studies`, body, BOUNDARY), full.dir);
    assert.equal(r.status, 507);
    const failed = seq(r.json(), '00081198');
    assert.deepEqual(failed.map((f) => f['00081197'].Value[0]), [0xa700, 0xa700]);
    assert.ok(str(failed[0], '00081155'), 'the SOP Instance UID is named from the file meta information');
  } finally {
    await full.close();
  }
});

test('an empty body is a 400', async () => {
  const r = await curl(['-X', 'POST', '-H', `Content-Type: multipart/related; type="application/dicom"; boundary=${BOUNDARY}`, '--data-binary', '', `${t.baseUrl}/dicom-web/studies`], t.dir);
  assert.equal(r.status, 400);
  assert.equal(r.json().error.code, 'MEDGE_ERR_DICOMWEB_MULTIPART');
});
