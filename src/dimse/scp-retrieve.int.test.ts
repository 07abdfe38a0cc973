/**
 * Retrieve against real peers. C-MOVE with dcmtk's movescu, which receives the sub-operations
 * itself (+P, bit-preserving +B): a study, a series and an image arrive byte for byte; Patient Root
 * at PATIENT level; a C-CANCEL stops the sub-operations; an unknown destination gets A801, a
 * retrieve without its unique key A900, and the node goes on serving; Orthanc 1.10 retrieving a
 * study from the node into itself. C-GET with dcmtk's getscu, which takes the storage SCP role on
 * its own association: a study and an image arrive byte for byte.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileMeta } from '../dicom/part10.js';
import { writeSyntheticCtSeries, type SyntheticCtSeries } from '../dicom/synthetic/ct-series.js';
import { freePort } from '../../test/helpers/free-port.js';
import { DCMTK_HINT, requireTool, skipMessage } from '../../test/helpers/peers.js';
import { orthancJson, requireOrthanc, startOrthanc } from '../../test/helpers/orthanc.js';
import { ORTHANC_HINT } from '../../test/helpers/peers.js';
import { makeCertificates, OPENSSL_HINT } from '../../test/helpers/tls-certs.js';
import { spawn } from 'node:child_process';
import { echo } from './scu.js';
import { runTool, startTestScp, type TestScp } from './int-test-harness.js';

const missing = ['movescu', 'getscu', 'storescu'].filter((t) => !requireTool(t, DCMTK_HINT));
const skip = missing.length ? skipMessage(missing.join(', '), DCMTK_HINT) : false;

let dir: string;
let scp: TestScp;
let receiverPort: number;
let first: SyntheticCtSeries;
let second: SyntheticCtSeries;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'medge-move-'));
  receiverPort = await freePort();
  // NOWHERE: a destination nobody listens at.
  scp = await startTestScp({ remoteAes: [{ aeTitle: 'MOVESCU', host: '127.0.0.1', port: receiverPort }, { aeTitle: 'NOWHERE', host: '127.0.0.1', port: await freePort() }] });
  first = await writeSyntheticCtSeries({ dir: join(dir, 'first'), slices: 4, rows: 64, columns: 64, seed: 21, patientId: 'MOVE-PATIENT' });
  // A second series of the same study.
  second = await writeSyntheticCtSeries({ dir: join(dir, 'second'), slices: 2, rows: 64, columns: 64, seed: 22, studyInstanceUid: first.studyUid, patientId: 'MOVE-PATIENT' });
  const sent = await runTool('storescu', ['-aec', 'MEDGE', '127.0.0.1', String(scp.port), ...first.files, ...second.files]);
  assert.equal(sent.code, 0, sent.output);
});

after(async () => {
  if (skip) return;
  await scp.close();
  await rm(dir, { recursive: true, force: true });
});

function datasetSha(bytes: Buffer): string {
  const meta = readFileMeta(bytes);
  assert.ok(meta);
  return createHash('sha256').update(bytes.subarray(meta.datasetOffset)).digest('hex');
}

let round = 0;
/** movescu asking the node to move to movescu itself; returns its output and what it received, by SOP Instance UID. */
async function move(keys: string[], options: { destination?: string; root?: string; debug?: boolean; extra?: string[] } = {}) {
  const out = join(dir, `received-${round++}`);
  await mkdir(out);
  const run = await runTool('movescu', [
    options.debug ? '-d' : '-v', options.root ?? '-S', ...(options.extra ?? []), '-aet', 'MOVESCU', '-aec', 'MEDGE', '-aem', options.destination ?? 'MOVESCU', '+P', String(receiverPort), '+B', '+xa',
    ...keys.flatMap((k) => ['-k', k]), '127.0.0.1', String(scp.port),
  ], 60_000, out); // movescu writes what it receives where it runs
  const received = new Map<string, string>();
  for (const name of await readdir(out)) {
    const bytes = await readFile(join(out, name));
    received.set(readFileMeta(bytes)!.mediaStorageSopInstanceUid, datasetSha(bytes));
  }
  return { ...run, received };
}

async function sourceShas(files: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of files) {
    const bytes = await readFile(f);
    out.set(readFileMeta(bytes)!.mediaStorageSopInstanceUid, datasetSha(bytes));
  }
  return out;
}

test('C-MOVE of a study, a series and an image: movescu receives each instance byte for byte, with the counts in the responses', { skip }, async () => {
  const study = await move(['0008,0052=STUDY', `0020,000d=${first.studyUid}`], { debug: true });
  assert.equal(study.code, 0, study.output);
  assert.deepEqual(study.received, await sourceShas([...first.files, ...second.files]));
  assert.match(study.output, /Completed Suboperations\s*:\s*6/i);
  assert.equal(scp.metrics.value('medge_retrieve_suboperations_total', { kind: 'c-move', result: 'completed' }), 6);

  const series = await move(['0008,0052=SERIES', `0020,000d=${first.studyUid}`, `0020,000e=${second.seriesUid}`]);
  assert.equal(series.code, 0, series.output);
  assert.deepEqual(series.received, await sourceShas(second.files));

  const image = await move(['0008,0052=IMAGE', `0020,000d=${first.studyUid}`, `0020,000e=${first.seriesUid}`, `0008,0018=${first.sopInstanceUids[2]}`]);
  assert.deepEqual([...image.received.keys()], [first.sopInstanceUids[2]]);
});

test('Patient Root C-MOVE at PATIENT level sends every study of the patient', { skip }, async () => {
  const patient = await move(['0008,0052=PATIENT', '0010,0020=MOVE-PATIENT'], { root: '-P' });
  assert.equal(patient.code, 0, patient.output);
  assert.equal(patient.received.size, 6);
});

test('an unknown Move Destination is refused with A801, an unreachable one with A702, a retrieve without its unique key with A900; the node goes on serving', { skip }, async () => {
  const unknown = await move(['0008,0052=STUDY', `0020,000d=${first.studyUid}`], { destination: 'NOBODY' });
  assert.match(unknown.output, /MoveDestinationUnknown/, unknown.output);
  assert.equal(unknown.received.size, 0);
  const unreachable = await move(['0008,0052=STUDY', `0020,000d=${first.studyUid}`], { destination: 'NOWHERE' });
  assert.match(unreachable.output, /Final Move Response \(Refused: OutOfResourcesSubOperations/, unreachable.output);
  const keyless = await move(['0008,0052=SERIES', `0020,000d=${first.studyUid}`]);
  assert.match(keyless.output, /DataSetDoesNotMatchSOPClass/, keyless.output);
  assert.equal(keyless.received.size, 0);
  const again = await move(['0008,0052=IMAGE', `0020,000d=${first.studyUid}`, `0020,000e=${first.seriesUid}`, `0008,0018=${first.sopInstanceUids[0]}`]);
  assert.equal(again.received.size, 1);
});

test('a C-CANCEL-RQ stops the sub-operations after the one in flight; the final response says Cancel', { skip }, async () => {
  const cancelled = await move(['0008,0052=STUDY', `0020,000d=${first.studyUid}`], { extra: ['--cancel', '2'] });
  assert.match(cancelled.output, /Final Move Response \(Cancel/, cancelled.output);
  assert.ok(cancelled.received.size >= 2 && cancelled.received.size < 6, `received ${cancelled.received.size} of 6`);
});

const orthancSkip = skip || (requireOrthanc() ? false : skipMessage('Orthanc', ORTHANC_HINT));

test('Orthanc retrieves a study from the node into itself with C-MOVE', { skip: orthancSkip }, async (t) => {
  const orthanc = await startOrthanc({ aeTitle: 'ORTHANC' });
  t.after(() => orthanc.stop());
  const node = await startTestScp({ remoteAes: [{ aeTitle: 'ORTHANC', host: '127.0.0.1', port: orthanc.dicomPort }] });
  t.after(() => node.close());
  const sent = await runTool('storescu', ['-aec', 'MEDGE', '127.0.0.1', String(node.port), ...first.files]);
  assert.equal(sent.code, 0, sent.output);
  await orthancJson(orthanc.httpUrl, '/modalities/medge', { method: 'PUT', body: JSON.stringify({ AET: 'MEDGE', Host: '127.0.0.1', Port: node.port }) });
  await orthancJson(orthanc.httpUrl, '/modalities/medge/move', { method: 'POST', body: JSON.stringify({ Level: 'Study', Resources: [{ StudyInstanceUID: first.studyUid }], TargetAet: 'ORTHANC' }) });
  const held = await orthancJson<string[]>(orthanc.httpUrl, '/tools/find', { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { StudyInstanceUID: first.studyUid } }) });
  assert.equal(held.length, first.files.length);
  const sops = await Promise.all(held.map(async (id) => (await orthancJson<{ MainDicomTags: { SOPInstanceUID: string } }>(orthanc.httpUrl, `/instances/${id}`)).MainDicomTags.SOPInstanceUID));
  assert.deepEqual(sops.sort(), [...first.sopInstanceUids].sort());
});

/** getscu retrieving into a fresh directory (bit-preserving); returns its output and what it received. */
async function get(keys: string[], root = '-S') {
  const out = join(dir, `got-${round++}`);
  await mkdir(out);
  const run = await runTool('getscu', ['-v', root, '-aet', 'GETSCU', '-aec', 'MEDGE', '+B', '-od', out, ...keys.flatMap((k) => ['-k', k]), '127.0.0.1', String(scp.port)]);
  const received = new Map<string, string>();
  for (const name of await readdir(out)) {
    const bytes = await readFile(join(out, name));
    received.set(readFileMeta(bytes)!.mediaStorageSopInstanceUid, datasetSha(bytes));
  }
  return { ...run, received };
}

test('C-GET of a study and of an image: getscu receives each instance byte for byte on its own association', { skip }, async () => {
  const study = await get(['0008,0052=STUDY', `0020,000d=${first.studyUid}`]);
  assert.equal(study.code, 0, study.output);
  assert.deepEqual(study.received, await sourceShas([...first.files, ...second.files]));
  assert.match(study.output, /Received C-GET Response \(Success\)/);
  assert.match(study.output, /Number of Completed Suboperations\s*:\s*6/);
  assert.equal(scp.metrics.value('medge_retrieve_suboperations_total', { kind: 'c-get', result: 'completed' }), 6);
  const image = await get(['0008,0052=IMAGE', `0020,000d=${first.studyUid}`, `0020,000e=${second.seriesUid}`, `0008,0018=${second.sopInstanceUids[1]}`]);
  assert.deepEqual([...image.received.keys()], [second.sopInstanceUids[1]]);
  const patient = await get(['0008,0052=PATIENT', '0010,0020=MOVE-PATIENT'], '-P');
  assert.equal(patient.received.size, 6, patient.output);
});

const tlsSkip = skip || (requireTool('storescp', DCMTK_HINT) && requireTool('openssl', OPENSSL_HINT) ? false : skipMessage('storescp, openssl', `${DCMTK_HINT} openssl`));

test('C-MOVE to a destination whose dicom.remoteAes entry has tls: the sub-operations go over TLS with the node\'s client certificate, byte for byte', { skip: tlsSkip }, async (t) => {
  const certs = await makeCertificates(await mkdtemp(join(dir, 'certs-')));
  const out = join(dir, 'tls-received');
  await mkdir(out);
  const port = await freePort();
  // storescp's default -rc: the node must present a certificate signed by the CA (+cf).
  const storescp = spawn('storescp', ['-aet', 'TLSSCP', '+B', '+tls', certs.leaf.keyFile, certs.leaf.certFile, '+cf', certs.caFile, '-od', out, String(port)], { stdio: 'ignore' });
  t.after(() => storescp.kill('SIGTERM'));
  const tls = { caFile: certs.caFile, certFile: certs.client.certFile, keyFile: certs.client.keyFile };
  const peerTls = { ca: certs.ca, cert: certs.client.cert, key: certs.client.key };
  for (let i = 0; i < 100; i++) {
    if (await echo({ host: '127.0.0.1', port, calledAe: 'TLSSCP', timeoutMs: 2000, tls: peerTls }).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const node = await startTestScp({ remoteAes: [{ aeTitle: 'TLSSCP', host: '127.0.0.1', port, tls }] });
  t.after(() => node.close());
  const sent = await runTool('storescu', ['-aec', 'MEDGE', '127.0.0.1', String(node.port), ...second.files]);
  assert.equal(sent.code, 0, sent.output);
  const moved = await runTool('movescu', ['-v', '-S', '-aet', 'MOVESCU', '-aec', 'MEDGE', '-aem', 'TLSSCP', '-k', '0008,0052=SERIES', '-k', `0020,000d=${first.studyUid}`, '-k', `0020,000e=${second.seriesUid}`, '127.0.0.1', String(node.port)]);
  assert.match(moved.output, /Final Move Response \(Success\)/, moved.output);
  const received = new Map<string, string>();
  for (const name of await readdir(out)) {
    const bytes = await readFile(join(out, name));
    received.set(readFileMeta(bytes)!.mediaStorageSopInstanceUid, datasetSha(bytes));
  }
  assert.deepEqual(received, await sourceShas(second.files));
});
