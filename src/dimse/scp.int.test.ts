/**
 * The SCP against real dcmtk peers: echoscu, storescu, dcmsend, findscu. Byte-for-byte storage is
 * checked against an oracle: the same tool sends the same file to dcmtk's storescp in
 * bit-preserving mode (+B), which writes exactly the bytes it received. dcmtk senders re-encode some
 * datasets (sequence lengths, padding), so "what was sent" is the truth, and wherever the sender
 * leaves a file untouched that is also the source file's dataset.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileMeta } from '../dicom/part10.js';
import { STORABLE_TRANSFER_SYNTAXES } from '../dicom/uids.js';
import { runQuery } from '../store/query.js';
import type { IngestOutcome } from '../ingest/types.js';
import { freePort } from '../../test/helpers/free-port.js';
import { DCMTK_HINT, requireTool, skipMessage } from '../../test/helpers/peers.js';
import { realData } from '../../test/helpers/real-data.js';
import { runTool, startTestScp, type TestScp } from './int-test-harness.js';

const TOOLS = ['echoscu', 'storescu', 'dcmsend', 'findscu', 'storescp'];
const missing = TOOLS.filter((t) => !requireTool(t, DCMTK_HINT));
const skip = missing.length ? skipMessage(missing.join(', '), DCMTK_HINT) : false;
const tsDir = realData('transfer-syntaxes');
const headCt = realData('ge-head-ct');

let scp: TestScp;
let oracle: { port: number; dir: string; child: ChildProcess } | undefined;

before(async () => {
  if (skip) return;
  scp = await startTestScp({ aeTitle: 'MEDGE' });
  const dir = await mkdtemp(join(tmpdir(), 'medge-oracle-'));
  const port = await freePort();
  const child = spawn('storescp', ['-aet', 'ORACLE', '+B', '+xa', '-od', dir, String(port)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
  oracle = { port, dir, child };
  // storescp cannot bind port 0 (DESIGN.md); wait until it answers an echo.
  for (let i = 0; i < 100; i++) {
    if ((await runTool('echoscu', ['-aec', 'ORACLE', '-to', '1', '127.0.0.1', String(port)])).code === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('storescp oracle did not start');
});

after(async () => {
  if (skip) return;
  await scp.close();
  if (oracle) {
    oracle.child.kill('SIGTERM');
    await rm(oracle.dir, { recursive: true, force: true });
  }
});

function datasetSha(file: Buffer): string {
  const meta = readFileMeta(file);
  assert.ok(meta, 'not a Part 10 file');
  return createHash('sha256').update(file.subarray(meta.datasetOffset)).digest('hex');
}

async function clearOracle(): Promise<void> {
  for (const f of await readdir(oracle!.dir)) await rm(join(oracle!.dir, f), { force: true });
}

/** Oracle files by SOP Instance UID. */
async function oracleFiles(): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const f of await readdir(oracle!.dir)) {
    const bytes = await readFile(join(oracle!.dir, f));
    const meta = readFileMeta(bytes);
    if (meta) out.set(meta.mediaStorageSopInstanceUid, bytes);
  }
  return out;
}

/** Sends with `tool` to the oracle and to medge; returns what each stored, by SOP Instance UID. */
async function sendBoth(target: TestScp, tool: string, args: string[], inputs: string[]) {
  await clearOracle();
  const o = await runTool(tool, [...args, '-aec', 'ORACLE', '127.0.0.1', String(oracle!.port), ...inputs]);
  const sent = await oracleFiles();
  const outcomes: IngestOutcome[] = [];
  const onStored = (x: IngestOutcome) => outcomes.push(x);
  target.events.on('instance-stored', onStored);
  const m = await runTool(tool, [...args, '-aec', 'MEDGE', '127.0.0.1', String(target.port), ...inputs]).finally(() => target.events.off('instance-stored', onStored));
  const stored = new Map<string, Buffer>();
  for (const x of outcomes) {
    const inst = target.index.getInstance(x.sopInstanceUid);
    assert.ok(inst, `indexed ${x.sopInstanceUid}`);
    stored.set(x.sopInstanceUid, await target.store.read(inst.blobKey));
  }
  return { sent, stored, outputs: `${o.output}\n${m.output}` };
}

async function transferSyntaxFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const sub of ['ct', 'mr']) for (const f of (await readdir(join(tsDir!, sub))).sort()) files.push(join(tsDir!, sub, f));
  return files;
}

test('echoscu: C-ECHO succeeds', { skip }, async () => {
  const r = await runTool('echoscu', ['-v', '-aec', 'MEDGE', '127.0.0.1', String(scp.port)]);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /Received Echo Response \(Success\)/);
});

// storescu proposes only some syntaxes per run (the last -x option wins); dcmsend proposes each file's own.
for (const [tool, args, minStored] of [['dcmsend', ['--decompress-never'], 24], ['storescu', ['-R', '-xs'], 5]] as const) {
  test(`${tool}: every transfer-syntax file is stored with the bytes that were sent`, { skip: skip || (!tsDir && 'real data missing') }, async () => {
    let identicalToSource = 0;
    let storedCount = 0;
    for (const file of await transferSyntaxFiles()) {
      const src = await readFile(file);
      const meta = readFileMeta(src)!;
      // A fresh node per file: several files share one SOP Instance UID, and a re-sent identical
      // dataset is a silent duplicate.
      const fresh = await startTestScp({ aeTitle: 'MEDGE' });
      const { sent, stored, outputs } = await sendBoth(fresh, tool, [...args], [file]).finally(() => fresh.close());
      const uid = meta.mediaStorageSopInstanceUid;
      if (!STORABLE_TRANSFER_SYNTAXES.has(meta.transferSyntaxUid)) {
        // A syntax outside STORABLE_TRANSFER_SYNTAXES: the context is rejected.
        assert.equal(stored.has(uid), false, `${file} should be refused`);
        continue;
      }
      const ours = stored.get(uid);
      // storescp +xa does not accept every syntax (not JPEG Lossless .57, for one): then the source is the reference.
      const oracleBytes = sent.get(uid) ?? (ours && src);
      if (!oracleBytes) {
        assert.equal(ours, undefined, `${file}: ${tool} sent nothing to the oracle but medge stored it\n${outputs}`);
        continue;
      }
      assert.ok(ours, `${file} not stored by medge\n${outputs}`);
      assert.equal(readFileMeta(ours)!.transferSyntaxUid, readFileMeta(oracleBytes)!.transferSyntaxUid, file);
      assert.equal(datasetSha(ours), datasetSha(oracleBytes), `${file}: medge stored other bytes than ${tool} sent`);
      storedCount++;
      if (datasetSha(ours) === datasetSha(src)) identicalToSource++;
    }
    assert.ok(storedCount >= minStored, `only ${storedCount} files stored`);
    assert.ok(identicalToSource >= 5, `only ${identicalToSource} identical to the source`);
  });
}

test('storescu +sd +r: the 28-slice head CT on one association, byte-identical, release event', { skip: skip || (!headCt && 'real data missing') }, async () => {
  const released = new Promise<{ instances: number; callingAe: string }>((resolve) => scp.events.once('association-released', resolve));
  const { sent, stored, outputs } = await sendBoth(scp, 'storescu', ['+sd', '+r', '-R'], [headCt!]);
  assert.equal(stored.size, 28, outputs);
  const info = await released;
  assert.equal(info.instances, 28);
  assert.equal(info.callingAe, 'STORESCU');
  for (const f of await readdir(headCt!)) {
    const src = await readFile(join(headCt!, f));
    const uid = readFileMeta(src)!.mediaStorageSopInstanceUid;
    assert.equal(datasetSha(stored.get(uid)!), datasetSha(sent.get(uid)!), f);
  }
});

test('findscu at STUDY and SERIES level, and Patient Root at PATIENT level, returns what was stored', { skip: skip || (!headCt && 'real data missing') }, async () => {
  const src = await readFile(join(headCt!, (await readdir(headCt!))[0]!));
  const { studyInstanceUid, seriesInstanceUid } = await (async () => {
    const uid = readFileMeta(src)!.mediaStorageSopInstanceUid;
    const inst = scp.index.getInstance(uid);
    assert.ok(inst, 'head CT stored by the previous test');
    return inst;
  })();
  const find = (level: string, keys: string[]) =>
    runTool('findscu', ['-v', '-S', '-aec', 'MEDGE', '-k', `QueryRetrieveLevel=${level}`, ...keys.flatMap((k) => ['-k', k]), '127.0.0.1', String(scp.port)]);
  const study = await find('STUDY', [`StudyInstanceUID=${studyInstanceUid}`, 'NumberOfStudyRelatedInstances', 'ModalitiesInStudy']);
  assert.equal(study.code, 0, study.output);
  assert.equal((study.output.match(/Find Response: \d+ \(Pending\)/g) ?? []).length, 1, study.output);
  assert.match(study.output, /\(0020,1208\) IS \[28\]/);
  assert.match(study.output, /\(0008,0061\) CS \[CT\]/);
  const series = await find('SERIES', [`StudyInstanceUID=${studyInstanceUid}`, 'SeriesInstanceUID', 'NumberOfSeriesRelatedInstances', 'Modality']);
  assert.equal(series.code, 0, series.output);
  assert.ok(series.output.includes(`[${seriesInstanceUid}]`), series.output);
  assert.match(series.output, /\(0020,1209\) IS \[28\]/);
  const none = await find('STUDY', ['StudyInstanceUID=1.2.3.4.5.6.7']);
  assert.equal((none.output.match(/\(Pending\)/g) ?? []).length, 0, none.output);

  // Patient Root has a PATIENT level (PS3.4 C.6.1); Study Root does not (C.6.2).
  const patientId = runQuery(scp.index.db, 'STUDY', { StudyInstanceUID: studyInstanceUid })[0]!.PatientID!;
  const patientRoot = await runTool('findscu', ['-v', '-P', '-aec', 'MEDGE', '-k', 'QueryRetrieveLevel=PATIENT', '-k', `PatientID=${patientId}`, '-k', 'PatientName', '-k', 'PatientSex', '127.0.0.1', String(scp.port)]);
  assert.equal((patientRoot.output.match(/Find Response: \d+ \(Pending\)/g) ?? []).length, 1, patientRoot.output);
  assert.ok(patientRoot.output.includes(`(0010,0020) LO [${patientId}`), patientRoot.output);
  const studyRootPatient = await find('PATIENT', [`PatientID=${patientId}`]);
  assert.match(studyRootPatient.output, /DataSetDoesNotMatchSOPClass/, studyRootPatient.output);
});

test('allow-list: an AE not on the list gets A-ASSOCIATE-RJ; a listed one is served', { skip }, async () => {
  const strict = await startTestScp({ aeTitle: 'MEDGE', aePolicy: 'allow-list', allowedPeers: [{ aeTitle: 'GOODAE', hosts: ['127.0.0.1'] }] });
  try {
    const bad = await runTool('echoscu', ['-aet', 'EVILAE', '-aec', 'MEDGE', '127.0.0.1', String(strict.port)]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.output, /Association Rejected|rejected/i, bad.output);
    assert.match(bad.output, /Calling AE Title Not Recognized|calling-AE/i, bad.output);
    const wrongCalled = await runTool('echoscu', ['-aet', 'GOODAE', '-aec', 'NOTME', '127.0.0.1', String(strict.port)]);
    assert.match(wrongCalled.output, /Called AE Title Not Recognized|called-AE/i, wrongCalled.output);
    const good = await runTool('echoscu', ['-aet', 'GOODAE', '-aec', 'MEDGE', '127.0.0.1', String(strict.port)]);
    assert.equal(good.code, 0, good.output);
    assert.equal(strict.metrics.value('medge_dimse_associations_total', { result: 'rejected' }), 2);
  } finally {
    await strict.close();
  }
});
