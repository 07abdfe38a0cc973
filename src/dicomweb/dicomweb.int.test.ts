import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { realData } from '../../test/helpers/real-data.js';
import { curl, startTestApp, stowArgs, writeMultipart, type TestApp } from './test-support.js';
import { readMultipart } from './multipart-reader.js';
import { parseMediaType } from './media-type.js';

const headDir = realData('ge-head-ct');
const mrDir = realData('transfer-syntaxes', 'mr');
const skip = !headDir || !mrDir ? 'real data ../shared/data/real is absent (see SOURCES.md there); set CI=true to fail instead' : false;
const files = (dir: string) => readdirSync(dir).sort().map((f) => join(dir, f));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const v = (ds: any, tag: string) => ds[tag]?.Value?.[0];

let t: TestApp;
let headStudy = '';
let mrStudy = '';
let headSops: string[] = [];

before(async () => {
  t = await startTestApp();
  if (skip) return;
  const boundary = 'qido-wado-test';
  const body = join(t.dir, 'body.bin');
  await writeMultipart(body, boundary, [...files(headDir!), ...files(mrDir!)].map((file) => ({ type: 'application/dicom', file })));
  const r = await curl(stowArgs(`${t.baseUrl}/dicom-web/studies`, body, boundary), t.dir);
  assert.equal(r.status, 200, r.body.toString());
  const refs: any[] = r.json()['00081199'].Value;
  assert.equal(refs.length, 28 + 9);
  headSops = refs.slice(0, 28).map((ref) => v(ref, '00081155'));
  headStudy = /studies\/([^/]+)\//.exec(v(refs[0], '00081190'))![1]!;
  mrStudy = /studies\/([^/]+)\//.exec(v(refs[28], '00081190'))![1]!;
});
after(async () => {
  await t?.close();
});

async function get(path: string, accept?: string) {
  const res = await fetch(`${t.baseUrl}${path}`, { headers: accept ? { accept } : {} });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) };
}

test('QIDO-RS studies: both studies, counts, modalities, Retrieve URL, numbers as numbers', { skip }, async () => {
  const r = await get('/dicom-web/studies');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type')!, /^application\/dicom\+json/);
  const studies: any[] = r.json();
  assert.equal(studies.length, 2);
  const head = studies.find((s) => v(s, '0020000D') === headStudy);
  assert.equal(v(head, '00201208'), 28);
  assert.equal(v(head, '00201206'), 1);
  assert.deepEqual(head['00080061'], { vr: 'CS', Value: ['CT'] });
  assert.equal(v(head, '00081190'), `${t.baseUrl}/dicom-web/studies/${headStudy}`);
  const mr = studies.find((s) => v(s, '0020000D') === mrStudy);
  assert.equal(v(mr, '00201208'), 9);
  for (const s of studies) {
    if (s['00100010'].Value) assert.equal(typeof s['00100010'].Value[0].Alphabetic, 'string', 'PN as component groups');
    assert.equal(s['00100010'].vr, 'PN');
  }
});

test('QIDO-RS matching by keyword and by tag, date range, limit and offset', { skip }, async () => {
  const [head] = (await get(`/dicom-web/studies?StudyInstanceUID=${headStudy}`)).json();
  assert.equal(v(head, '0020000D'), headStudy);
  assert.equal((await get(`/dicom-web/studies?0020000D=${headStudy}`)).json().length, 1);
  const patientId = v(head, '00100020');
  if (patientId) assert.ok((await get(`/dicom-web/studies?PatientID=${encodeURIComponent(patientId)}`)).json().some((s: any) => v(s, '0020000D') === headStudy));
  const date = v(head, '00080020');
  if (date) {
    const inRange = (await get(`/dicom-web/studies?StudyDate=${date}-${date}`)).json();
    assert.ok(inRange.some((s: any) => v(s, '0020000D') === headStudy));
  }
  const none = await get('/dicom-web/studies?StudyDate=19000101-19000102');
  assert.equal(none.status, 204, 'no match: 204 (PS3.18 8.3.4.4.1)');
  assert.equal(none.body.length, 0);
  const first = (await get('/dicom-web/studies?limit=1')).json();
  const second = (await get('/dicom-web/studies?limit=1&offset=1')).json();
  assert.equal(first.length, 1);
  assert.equal(second.length, 1);
  assert.notEqual(v(first[0], '0020000D'), v(second[0], '0020000D'));
  const unknown = await get('/dicom-web/studies?NoSuchKeyword=1&includefield=all&fuzzymatching=true');
  assert.equal(unknown.status, 200);
  assert.match(unknown.headers.get('warning')!, /NoSuchKeyword/);
  const bad = await get('/dicom-web/studies?limit=many');
  assert.equal(bad.status, 400);
  assert.equal(bad.json().error.code, 'MEDGE_ERR_HTTP_BAD_REQUEST');
});

test('QIDO-RS series and instances match what was sent', { skip }, async () => {
  const series = (await get(`/dicom-web/studies/${headStudy}/series`)).json();
  assert.equal(series.length, 1);
  assert.equal(v(series[0], '00201209'), 28);
  assert.equal(v(series[0], '00080060'), 'CT');
  const seriesUid = v(series[0], '0020000E');
  assert.equal(v(series[0], '00081190'), `${t.baseUrl}/dicom-web/studies/${headStudy}/series/${seriesUid}`);
  assert.equal((await get('/dicom-web/series')).json().length, 2);
  const instances = (await get(`/dicom-web/studies/${headStudy}/series/${seriesUid}/instances`)).json();
  assert.deepEqual(new Set(instances.map((i: any) => v(i, '00080018'))), new Set(headSops));
  assert.equal(v(instances[0], '00280010'), 512);
  assert.equal((await get(`/dicom-web/studies/${headStudy}/instances`)).json().length, 28);
  assert.equal((await get(`/dicom-web/instances`)).json().length, 37);
  assert.equal((await get(`/dicom-web/instances?SOPInstanceUID=${headSops[0]},${headSops[1]}`)).json().length, 2);
  assert.equal((await get(`/dicom-web/studies/${mrStudy}/series/${seriesUid}/instances`)).status, 204);
});

test('WADO-RS series: every stored file back, byte for byte, as multipart/related', { skip }, async () => {
  const series = (await get(`/dicom-web/studies/${headStudy}/series`)).json();
  const r = await get(`/dicom-web/studies/${headStudy}/series/${v(series[0], '0020000E')}`, 'multipart/related; type="application/dicom"; transfer-syntax=*');
  assert.equal(r.status, 200);
  const mt = parseMediaType(r.headers.get('content-type')!)!;
  assert.equal(mt.essence, 'multipart/related');
  assert.equal(mt.params.type, 'application/dicom');
  const parts: Buffer[] = [];
  let chunks: Buffer[] = [];
  for await (const ev of readMultipart([r.body], mt.params.boundary!)) {
    if (ev.kind === 'part') {
      chunks = [];
      assert.equal(ev.headers['content-type'], 'application/dicom; transfer-syntax=1.2.840.10008.1.2.1');
    } else if (ev.kind === 'data') chunks.push(Buffer.from(ev.chunk));
    else parts.push(Buffer.concat(chunks));
  }
  assert.deepEqual(parts.map(sha).sort(), files(headDir!).map((f) => sha(readFileSync(f))).sort());
});

test('WADO-RS study of several series and Accept negotiation (406)', { skip }, async () => {
  const all = await get(`/dicom-web/studies/${mrStudy}`);
  assert.equal(all.status, 200);
  const sizes = files(mrDir!).reduce((n, f) => n + readFileSync(f).length, 0);
  assert.ok(all.body.length > sizes);
  const refused = await get(`/dicom-web/studies/${headStudy}`, 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50');
  assert.equal(refused.status, 406);
  assert.equal(refused.json().error.code, 'MEDGE_ERR_DICOMWEB_NOT_ACCEPTABLE');
  const exact = await get(`/dicom-web/studies/${headStudy}/series/x/instances/${headSops[0]}`);
  assert.equal(exact.status, 404, 'the series must match too');
});

test('WADO-RS metadata: full headers as dicom+json, implicit VR files included, no pixel data', { skip }, async () => {
  const r = await get(`/dicom-web/studies/${headStudy}/metadata`, 'application/dicom+json');
  assert.equal(r.status, 200);
  const md: any[] = r.json();
  assert.equal(md.length, 28);
  assert.equal(v(md[0], '0020000D'), headStudy);
  assert.deepEqual(md[0]['00280010'], { vr: 'US', Value: [512] });
  assert.equal(md[0]['7FE00010'], undefined);
  assert.equal(md[0]['00020010'], undefined, 'no file meta information');
  assert.equal(typeof v(md[0], '00200032'), 'number', 'DS as numbers');
  assert.equal(md[0]['00200032'].Value.length, 3);
  const mr = (await get(`/dicom-web/studies/${mrStudy}/metadata`)).json();
  assert.equal(mr.length, 9);
  for (const ds of mr) {
    assert.equal(v(ds, '0020000D'), mrStudy);
    assert.equal(ds['00280010'].vr, 'US', 'VR known for implicit VR files too');
    assert.equal(typeof v(ds, '00280010'), 'number');
  }
});

test('unknown study, series, instance and route: 404 with the error shape', async () => {
  for (const path of ['/dicom-web/studies/1.2.3', '/dicom-web/studies/1.2.3/metadata', '/dicom-web/studies/1.2.3/series/4.5/instances/6.7', '/no/such/route']) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assert.equal(r.json().error.code, 'MEDGE_ERR_HTTP_NOT_FOUND');
    assert.equal(typeof r.json().error.message, 'string');
    assert.deepEqual(Object.keys(r.json().error).sort(), ['code', 'fields', 'message']);
  }
});

test('health and metrics', async () => {
  const h = await get('/api/health');
  assert.equal(h.status, 200);
  assert.deepEqual(h.json(), { status: 'ok' });
  const m = await get('/metrics');
  assert.equal(m.status, 200);
  assert.equal(m.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(m.body.toString(), /medge_http_requests_total/);
});
