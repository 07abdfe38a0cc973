/**
 * Issue 4 end to end, through the real node (`medge start`) and real peers: storescu sends a head CT
 * phantom with a bleed; the alert goes out on every channel (a webhook receiver that verifies the
 * HMAC signature, an MLLP listener read back by an independent HL7 parser, a FHIR endpoint whose
 * bundles are checked against the R4 JSON schema); the SR, SEG and key image are in the study and
 * pass dciodvfy. A negative series raises nothing; a series re-sent with extra slices supersedes
 * without a second alert; channels that are down get the alert when they come back, across a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import hl7v2 from '@redoxengine/redox-hl7-v2';
import { renderHeadPhantom } from '../../src/phantom/render.js';
import { writePhantomSeries, type WrittenSeries } from '../../src/phantom/write-series.js';
import type { BleedSpec } from '../../src/phantom/types.js';
import { startFhirServer, startMllpListener, startWebhookReceiver } from '../helpers/alert-receivers.js';
import { fhirSchemaErrors } from '../helpers/fhir-schema.js';
import { freePort } from '../helpers/free-port.js';
import { startMedge, type MedgeProcess } from '../helpers/medge-process.js';
import { requireTool, skipMessage } from '../helpers/peers.js';
import { runStorescu } from '../helpers/storescu.js';

const DCMTK = 'apt-get install dcmtk';
const DICOM3TOOLS = 'apt-get install dicom3tools';
const SECRET = 'e2e-webhook-secret-0123456789';
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface Timeline {
  firstReceivedAt: string | null;
  lastReceivedAt: string | null;
  readyAt: string | null;
  readyTrigger: string | null;
  analysisStartedAt: string | null;
  analysisFinishedAt: string | null;
  analysisStatus?: string | null;
  alerts: { id: string; severity: string; dispatchedAt: string; deliveries: { channel: string; deliveredAt: string | null }[]; acknowledgedAt: string | null; acknowledgedBy: string | null }[];
}

async function phantom(dir: string, seed: number, bleeds: BleedSpec[]): Promise<WrittenSeries> {
  const { volume, truth } = renderHeadPhantom({ seed, sliceThickness: 5, noiseHu: 4, bleeds });
  return writePhantomSeries(volume, truth, { dir, intercept: -1024 });
}

async function timeline(node: MedgeProcess, studyUid: string): Promise<Timeline | undefined> {
  const res = await fetch(`${node.httpUrl}/api/studies/${studyUid}`);
  return res.ok ? ((await res.json()) as { timeline: Timeline }).timeline : undefined;
}

/** Polls the study's timeline until `ready` holds (the node's own clock decides every timestamp). */
async function waitFor(node: MedgeProcess, studyUid: string, ready: (t: Timeline) => boolean, what: string, ms = 60_000): Promise<Timeline> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const t = await timeline(node, studyUid);
    if (t && ready(t)) return t;
    await delay(50);
  }
  throw new Error(`${what} did not happen within ${ms} ms; node output:\n${node.output().slice(-4000)}`);
}

async function send(node: MedgeProcess, files: string[]): Promise<void> {
  const r = await runStorescu({ host: '127.0.0.1', port: node.dicomPort, aec: 'MEDGE', paths: files });
  assert.equal(r.code, 0, r.output);
}

function configYaml(channels: string): string {
  return `alerts:\n  retryInitialMs: 100\n  retryMaxMs: 400\n  channels:\n${channels}`;
}

test('a head CT with a bleed raises one alert on every channel, with results in the study that pass dciodvfy', { timeout: 240_000 }, async (t) => {
  if (!requireTool('storescu', DCMTK)) return t.skip(skipMessage('storescu', DCMTK));
  if (!requireTool('dciodvfy', DICOM3TOOLS)) return t.skip(skipMessage('dciodvfy', DICOM3TOOLS));
  const work = await mkdtemp(join(tmpdir(), 'medge-e2e-alert-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const webhook = await startWebhookReceiver({ secret: SECRET });
  const mllp = await startMllpListener();
  const fhir = await startFhirServer();
  t.after(() => Promise.all([webhook.close(), mllp.close(), fhir.close()]));
  const config = join(work, 'medge.yaml');
  await writeFile(config, configYaml([
    `    - { id: pager, type: webhook, tier: 0, url: '${webhook.url}', secret: '${SECRET}' }`,
    `    - { id: ris, type: hl7, tier: 0, host: 127.0.0.1, port: ${mllp.port}, receivingApplication: RIS }`,
    `    - { id: ehr, type: fhir, tier: 0, baseUrl: '${fhir.url}' }`,
  ].join('\n') + '\n'));
  const node = await startMedge({ args: ['--config', config] });
  t.after(() => node.stop());

  const positive = await phantom(join(work, 'positive'), 11, [{ subtype: 'intraparenchymal', volumeMl: 12, location: 'basal-ganglia', side: 'left' }]);
  await send(node, positive.files);
  const tl = await waitFor(node, positive.studyInstanceUid, (x) => x.alerts.length > 0 && x.alerts[0]!.deliveries.every((d) => d.deliveredAt) && x.alerts[0]!.deliveries.length === 4, 'the alert and its four deliveries');

  await t.test('the timeline has every stage, ISO 8601 with milliseconds, in order', () => {
    assert.equal(tl.readyTrigger, 'association-released');
    const stages = [tl.firstReceivedAt, tl.lastReceivedAt, tl.readyAt, tl.analysisStartedAt, tl.analysisFinishedAt, tl.alerts[0]!.dispatchedAt];
    for (const s of stages) assert.match(String(s), ISO_MS);
    const ms = stages.map((s) => Date.parse(s!));
    assert.deepEqual([...ms].sort((a, b) => a - b), ms, 'stages in clock order');
    assert.equal(tl.alerts.length, 1);
    assert.equal(tl.alerts[0]!.severity, 'critical');
    assert.deepEqual(tl.alerts[0]!.deliveries.map((d) => d.channel).sort(), ['dashboard', 'ehr', 'pager', 'ris']);
  });

  await t.test('the webhook body carries a signature the receiver verifies, and the finding', async () => {
    await webhook.received(1);
    assert.equal(webhook.rejected.length, 0);
    assert.equal(webhook.deliveries.length, 1);
    const body = webhook.deliveries[0]!.json as { event: string; alert: { severity: string; analysis: { findings: { subtype: string; volumeMl: number }[] } } };
    assert.equal(body.event, 'alert.raised');
    assert.equal(body.alert.severity, 'critical');
    const f = body.alert.analysis.findings.find((x) => x.subtype === 'intraparenchymal');
    assert.ok(f, 'an intraparenchymal finding');
    assert.ok(Math.abs(f.volumeMl - 12) / 12 < 0.25, `volume ${f.volumeMl} mL near the truth of 12 mL`);
  });

  await t.test('the RIS gets an ORU^R01 that an independent parser reads, with the volume in mL', async () => {
    await mllp.received(1);
    const parsed = new hl7v2.Parser().parse(mllp.messages[0]!.text) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const obx = (parsed.PATIENT_RESULT[0].ORDER_OBSERVATION[0].OBSERVATION as { OBX: Record<string, any> }[]).map((o) => o.OBX); // eslint-disable-line @typescript-eslint/no-explicit-any
    // OBX-5's type varies with OBX-2, so the parser leaves it as the raw CWE string.
    assert.equal(obx[0]!['3']['1'], '1386000');
    assert.equal(String([obx[0]!['5']].flat()[0]), '52101004^Present^SCT');
    const volume = obx.find((o) => o['3']['1'] === '118565006');
    assert.ok(volume, 'a volume OBX');
    assert.equal(volume['2'], 'NM');
    assert.equal(volume['6']['1'], 'mL');
    const ml = Number([volume['5']].flat()[0]);
    assert.ok(Math.abs(ml - 12) / 12 < 0.25, `OBX volume ${ml}`);
    assert.equal(parsed.PATIENT_RESULT[0].ORDER_OBSERVATION[0].OBR['25'], 'F');
  });

  await t.test('the EHR gets a transaction Bundle valid against the FHIR R4 schema', async () => {
    await fhir.received(1);
    const bundle = fhir.bundles[0]!;
    assert.deepEqual(fhirSchemaErrors({ resourceType: 'Bundle', ...bundle }), []);
    const types = bundle.entry.map((e) => e.resource.resourceType);
    for (const r of ['DiagnosticReport', 'Observation', 'Communication']) assert.ok(types.includes(r), `${r} in the bundle`);
  });

  await t.test('the SR, SEG and key image are in the study and pass dciodvfy', async () => {
    const db = new Database(join(node.dataDir, 'index.sqlite'), { readonly: true, fileMustExist: true });
    let rows: { sop_class_uid: string; blob_key: string; study_uid: string }[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && rows.length < 3) {
      rows = db.prepare(`SELECT i.sop_class_uid, i.blob_key, se.study_uid FROM instances i JOIN series se ON se.series_uid = i.series_uid WHERE i.protocol = 'local'`).all() as typeof rows;
      if (rows.length < 3) await delay(100);
    }
    db.close();
    assert.deepEqual(rows.map((r) => r.sop_class_uid).sort(), ['1.2.840.10008.5.1.4.1.1.66.4', '1.2.840.10008.5.1.4.1.1.7', '1.2.840.10008.5.1.4.1.1.88.34']);
    for (const r of rows) {
      assert.equal(r.study_uid, positive.studyInstanceUid, 'results are in the source study');
      const out = spawnSync('dciodvfy', [join(node.dataDir, 'instances', r.blob_key)], { encoding: 'utf8' });
      const errors = `${out.stdout}${out.stderr}`.split('\n').filter((l) => l.startsWith('Error'));
      assert.deepEqual(errors, [], `dciodvfy on ${r.sop_class_uid}`);
    }
  });

  await t.test('time_to_alert_seconds is exported', async () => {
    const metrics = await (await fetch(`${node.httpUrl}/metrics`)).text();
    assert.match(metrics, /medge_time_to_alert_seconds_count\{severity="critical"\} 1\n/);
  });

  await t.test('a negative series raises no alert', async () => {
    const negative = await phantom(join(work, 'negative'), 12, []);
    await send(node, negative.files);
    const n = await waitFor(node, negative.studyInstanceUid, (x) => !!x.analysisFinishedAt, 'the negative analysis');
    assert.equal(n.analysisStatus, 'negative');
    assert.deepEqual(n.alerts, []);
    assert.equal(webhook.deliveries.length, 1, 'no second webhook call');
  });

  await t.test('a series re-sent with extra slices supersedes without a second alert', async () => {
    const series = await phantom(join(work, 'partial'), 13, [{ subtype: 'intraparenchymal', volumeMl: 10, location: 'basal-ganglia', side: 'right' }]);
    const sorted = [...series.files].sort();
    await send(node, sorted.slice(0, sorted.length - 6));
    const first = await waitFor(node, series.studyInstanceUid, (x) => x.alerts.length > 0, 'the alert on the partial series');
    await send(node, sorted);
    const alertsOf = async () => ((await (await fetch(`${node.httpUrl}/api/alerts?limit=100`)).json()) as { alerts: { id: string; studyInstanceUid: string; revision: number }[] }).alerts;
    const deadline = Date.now() + 60_000;
    let mine: { id: string; revision: number }[] = [];
    while (Date.now() < deadline) {
      mine = (await alertsOf()).filter((a) => a.studyInstanceUid === series.studyInstanceUid);
      if (mine.some((a) => a.revision >= 2)) break;
      await delay(100);
    }
    assert.equal(mine.length, 1, 'one alert for the study');
    assert.equal(mine[0]!.id, first.alerts[0]!.id);
    assert.equal(mine[0]!.revision, 2, 'the superseding analysis updated the alert');
    const study = (await (await fetch(`${node.httpUrl}/api/studies/${series.studyInstanceUid}`)).json()) as { series: { analyses: { superseded: boolean; status: string }[] }[] };
    const analyses = study.series.flatMap((s) => s.analyses);
    assert.equal(analyses.filter((a) => !a.superseded && a.status === 'positive').length, 1);
    assert.ok(analyses.some((a) => a.superseded), 'the first analysis is marked superseded');
  });
});

test('channels that are down get the alert when they come back, across a crash of the node', { timeout: 240_000 }, async (t) => {
  if (!requireTool('storescu', DCMTK)) return t.skip(skipMessage('storescu', DCMTK));
  const work = await mkdtemp(join(tmpdir(), 'medge-e2e-faults-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const webhook = await startWebhookReceiver({ secret: SECRET });
  const fhir = await startFhirServer();
  const risPort = await freePort();
  t.after(() => Promise.all([webhook.close(), fhir.close()]));
  webhook.failNext(2, 500);
  fhir.failNext(1, 503);
  const config = join(work, 'medge.yaml');
  await writeFile(config, configYaml([
    `    - { id: pager, type: webhook, tier: 0, url: '${webhook.url}', secret: '${SECRET}' }`,
    `    - { id: ris, type: hl7, tier: 0, host: 127.0.0.1, port: ${risPort} }`,
    `    - { id: ehr, type: fhir, tier: 0, baseUrl: '${fhir.url}' }`,
  ].join('\n') + '\n'));
  const dataDir = join(work, 'data');
  let node = await startMedge({ dataDir, args: ['--config', config] });
  t.after(() => node.stop());

  const series = await phantom(join(work, 'positive'), 21, [{ subtype: 'subdural', volumeMl: 20, location: 'convexity', side: 'right' }]);
  await send(node, series.files);
  // HTTP 500 twice and 503 once, then accepted; the RIS refuses connections (nothing listens).
  const before = await waitFor(node, series.studyInstanceUid, (x) => {
    const d = new Map(x.alerts[0]?.deliveries.map((y) => [y.channel, y.deliveredAt]));
    return !!d.get('pager') && !!d.get('ehr');
  }, 'webhook and FHIR delivery after their failures');
  assert.equal(before.alerts[0]!.deliveries.find((d) => d.channel === 'ris')?.deliveredAt ?? null, null, 'the RIS is down');
  assert.equal(webhook.deliveries.length, 1);
  assert.equal(fhir.bundles.length, 1);

  await node.kill();
  const mllp = await startMllpListener({ port: risPort });
  t.after(() => mllp.close());
  mllp.failNext(1, 'AE');
  node = await startMedge({ dataDir, args: ['--config', config] });
  const after = await waitFor(node, series.studyInstanceUid, (x) => !!x.alerts[0]?.deliveries.find((d) => d.channel === 'ris')?.deliveredAt, 'the RIS delivery after the restart');
  assert.equal(after.alerts.length, 1);
  assert.equal(after.alerts[0]!.id, before.alerts[0]!.id, 'the same alert, not a new one');
  await mllp.received(1);
  assert.deepEqual(mllp.messages.map((m) => m.answer), ['AE', 'AA'], 'a NAK (AE) is retried');
  await delay(500);
  assert.equal(webhook.deliveries.length, 1, 'nothing sent twice after the restart');
  assert.equal(fhir.bundles.length, 1, 'nothing sent twice after the restart');
});
