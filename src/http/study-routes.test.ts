import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiHarness } from './api-test-support.js';
import { studyState } from './api-worklist.js';
import { AX, COR, STUDY, ich, recordAnalysis, seedSeries } from '../alerts/test-support.js';

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

test('GET /api/studies/:uid: the timeline has every stage as ISO 8601 with ms, local results excluded', async () => {
  const { app, db, dispatcher, analyse, channels, clock } = apiHarness();
  dispatcher.start();
  db.prepare(
    `INSERT INTO series_state (series_uid, study_uid, state, ready_at, ready_trigger, instances_at_ready, queued_at, analysis_started_at, analysis_finished_at)
     VALUES (?, ?, 'done', ?, 'association-released', 3, ?, ?, ?)`,
  ).run(AX, STUDY, clock.now() - 1100, clock.now() - 1100, clock.now() - 300, clock.now());
  const a = analyse(AX, 'positive', [8]);
  await channels[0]!.delivered(1);
  await dispatcher.idle();
  // The node's own SR arrives later: it is not a received instance.
  seedSeries(db, { study: STUDY, series: `${STUDY}.99`, at: clock.now() + 500, instances: 1, protocol: 'local' });
  clock.advance(60_000);
  dispatcher.acknowledge(dispatcher.list()[0]!.id, 'Dr Who');

  const res = await app.inject({ method: 'GET', url: `/api/studies/${STUDY}` });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  const t = body.timeline;
  assert.deepEqual(Object.keys(t).sort(), ['alerts', 'analysisFinishedAt', 'analysisStartedAt', 'analysisStatus', 'firstReceivedAt', 'lastReceivedAt', 'readyAt', 'readyTrigger'].sort());
  for (const k of ['firstReceivedAt', 'lastReceivedAt', 'readyAt', 'analysisStartedAt', 'analysisFinishedAt']) assert.match(t[k], ISO_MS, k);
  const seeded = clock.now() - 60_000 - 5000;
  assert.equal(t.firstReceivedAt, new Date(seeded).toISOString());
  assert.equal(t.lastReceivedAt, new Date(seeded + 2).toISOString(), 'the SR the node stored is not counted');
  assert.equal(t.readyAt, new Date(a.readyAt!).toISOString());
  assert.equal(t.readyTrigger, 'association-released');
  assert.equal(t.analysisStartedAt, new Date(a.startedAt).toISOString());
  assert.equal(t.analysisFinishedAt, new Date(a.finishedAt).toISOString());
  assert.equal(t.alerts.length, 1);
  const al = t.alerts[0];
  assert.deepEqual(Object.keys(al).sort(), ['acknowledgedAt', 'acknowledgedBy', 'deliveries', 'dispatchedAt', 'headline', 'id', 'severity'].sort());
  assert.equal(al.severity, 'critical');
  assert.equal(al.dispatchedAt, new Date(a.finishedAt).toISOString());
  assert.deepEqual(al.deliveries, [
    { channel: 'dashboard', deliveredAt: new Date(a.finishedAt).toISOString() },
    { channel: 'rec0', deliveredAt: new Date(a.finishedAt).toISOString() },
  ]);
  assert.equal(al.acknowledgedBy, 'Dr Who');
  assert.match(al.acknowledgedAt, ISO_MS);

  assert.equal(body.study.patient.name, 'DOE^JANE');
  assert.equal(body.study.state, 'positive');
  const ax = body.series.find((s: { seriesInstanceUid: string }) => s.seriesInstanceUid === AX);
  assert.equal(ax.pipeline.state, 'done');
  assert.equal(ax.analyses[0].status, 'positive');
  assert.equal(body.series.find((s: { seriesInstanceUid: string }) => s.seriesInstanceUid === `${STUDY}.99`).results, true);
  assert.equal((await app.inject({ method: 'GET', url: '/api/studies/1.2.3.404' })).statusCode, 404);
  await dispatcher.stop();
});

test('a superseded analysis stays in the study, marked; the alert and the state follow the new one', async () => {
  const { app, dispatcher, analyse } = apiHarness();
  dispatcher.start();
  const first = analyse(AX, 'positive', [8]);
  const second = analyse(AX, 'negative');
  const body = (await app.inject({ method: 'GET', url: `/api/studies/${STUDY}` })).json();
  const ax = body.series.find((s: { seriesInstanceUid: string }) => s.seriesInstanceUid === AX);
  assert.deepEqual(ax.analyses.map((x: { id: number; superseded: boolean; supersededBy: number | null }) => [x.id, x.superseded, x.supersededBy]), [[second.id, false, null], [first.id, true, second.id]]);
  assert.equal(body.study.state, 'negative');
  assert.equal(body.alerts[0].state, 'retracted');
  assert.equal(body.timeline.analysisStatus, 'negative');
  await dispatcher.stop();
});

test('GET /api/studies: unacknowledged critical first, then urgent, then other alerts, then latest activity', async () => {
  const rules = [{ finding: 'intracranial-hemorrhage', minVolumeMl: 10, severity: 'critical' as const }, { finding: 'intracranial-hemorrhage', minVolumeMl: 0, severity: 'urgent' as const }];
  const { app, db, dispatcher, events, clock } = apiHarness({ rules });
  dispatcher.start();
  const study = (n: string, status: 'positive' | 'negative' | null, volume = 0) => {
    const uid = `1.2.826.0.1.3680043.10.2.${n}`;
    clock.advance(1000);
    seedSeries(db, { study: uid, series: `${uid}.1`, at: clock.now() - 2000, patientId: `P${n}`, patientName: `PATIENT^${n}` });
    if (status) events.emit('analysis-finished', recordAnalysis(db, { study: uid, series: `${uid}.1`, status, findings: volume ? [ich(volume)] : [], at: clock.now() }));
    return uid;
  };
  const critical = study('1', 'positive', 20);
  const urgent = study('2', 'positive', 2);
  const ackedCritical = study('3', 'positive', 30);
  const negative = study('4', 'negative');
  const retracted = study('5', 'positive', 15);
  const receiving = study('6', null);
  events.emit('analysis-finished', recordAnalysis(db, { study: retracted, series: `${retracted}.1`, status: 'negative', at: clock.now() }));
  dispatcher.acknowledge(dispatcher.list({ studyInstanceUid: ackedCritical })[0]!.id, 'Dr A');
  const rows = (await app.inject({ method: 'GET', url: '/api/studies' })).json().studies;
  assert.deepEqual(rows.map((r: { studyInstanceUid: string }) => r.studyInstanceUid), [critical, urgent, ackedCritical, retracted, receiving, negative, STUDY]);
  const top = rows[0];
  assert.deepEqual(top.patient, { name: 'PATIENT^1', id: 'P1' });
  assert.deepEqual(top.modalities, ['CT']);
  assert.equal(top.instances, 3);
  assert.equal(top.state, 'positive');
  assert.equal(top.alert.severity, 'critical');
  assert.equal(top.alert.acknowledgedAt, null);
  assert.equal(rows[2].alert.acknowledgedBy, 'Dr A');
  assert.equal(rows[3].alert.state, 'retracted');
  assert.equal(rows[4].alert, null);
  assert.equal((await app.inject({ method: 'GET', url: '/api/studies?limit=2' })).json().studies.length, 2);
  assert.equal((await app.inject({ method: 'GET', url: '/api/studies?limit=0' })).statusCode, 400);
  await dispatcher.stop();
});

test('study state from the series states and current analyses', () => {
  assert.equal(studyState(['receiving'], []), 'receiving');
  assert.equal(studyState(['done', 'queued'], ['negative']), 'queued');
  assert.equal(studyState(['running', 'done'], ['positive']), 'analysing');
  assert.equal(studyState(['done', 'done'], ['negative', 'positive']), 'positive');
  assert.equal(studyState(['done', 'receiving'], ['not-applicable']), 'not-applicable');
  assert.equal(studyState([], []), 'received');
});

test('DELETE /api/studies/:uid: from loopback with "by" it removes the study, GET then says who removed it and when; held 409, remote 403, no "by" 400, unknown 404', async () => {
  const { app, db, events } = apiHarness();
  const removedEvents: unknown[] = [];
  events.on('study-removed', (r) => removedEvents.push(r));
  // The harness holds STUDY with two series of 3 instances (AX, COR).
  const url = `/api/studies/${STUDY}`;

  const remote = await app.inject({ method: 'DELETE', url, remoteAddress: '10.1.2.3', payload: { by: 'PACS admin' } });
  assert.equal(remote.statusCode, 403);
  assert.equal((await app.inject({ method: 'DELETE', url, remoteAddress: '127.0.0.1', payload: {} })).statusCode, 400);

  db.prepare(`INSERT INTO series_state (series_uid, study_uid, state) VALUES (?, ?, 'running')`).run(AX, STUDY);
  const held = await app.inject({ method: 'DELETE', url, remoteAddress: '127.0.0.1', payload: { by: 'PACS admin' } });
  assert.equal(held.statusCode, 409);
  assert.equal(held.json().error.code, 'MEDGE_ERR_STORE_STUDY_HELD');
  assert.match(held.json().error.message, /1 series not yet analysed/);
  db.prepare(`UPDATE series_state SET state = 'done'`).run();

  const ok = await app.inject({ method: 'DELETE', url, remoteAddress: '127.0.0.1', payload: { by: 'PACS admin' } });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.json().instances, 6);
  assert.equal(ok.json().reason, 'operator');
  assert.equal(removedEvents.length, 1);

  const gone = await app.inject({ method: 'GET', url });
  assert.equal(gone.statusCode, 404);
  assert.match(gone.json().error.message, /removed by PACS admin at \d{4}-/);
  assert.equal(gone.json().error.fields.removed.requestedBy, 'PACS admin');
  assert.equal((await app.inject({ method: 'GET', url: '/api/studies' })).json().studies.length, 0, 'gone from the worklist');
  const removals = (await app.inject({ method: 'GET', url: '/api/removals' })).json().removals;
  assert.equal(removals.length, 1);
  assert.deepEqual([removals[0].studyInstanceUid, removals[0].reason, removals[0].requestedBy, removals[0].instances], [STUDY, 'operator', 'PACS admin', 6]);
  assert.match(removals[0].removedAt, /^\d{4}-\d\d-\d\dT/);
  const again = await app.inject({ method: 'DELETE', url, remoteAddress: '127.0.0.1', payload: { by: 'PACS admin' } });
  assert.equal(again.statusCode, 404);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/studies/1.2.3.404', remoteAddress: '127.0.0.1', payload: { by: 'x' } })).json().error.message, 'no study 1.2.3.404');
});
