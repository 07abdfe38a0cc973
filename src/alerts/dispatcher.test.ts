import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AX, COR, STUDY, dispatcherHarness as setup, recordAnalysis } from './test-support.js';

test('a positive analysis raises one critical alert, in the outbox before it is sent, and records delivery and time to alert', async () => {
  const { db, channels, dispatcher, analyse, changes, metrics, clock } = setup();
  dispatcher.start();
  const a = analyse(AX, 'positive', [12.34, 0.8]);
  // Written synchronously with the analysis event, before any channel was called.
  const alerts = dispatcher.list();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.severity, 'critical');
  assert.equal(alerts[0]!.analysisId, a.id);
  assert.equal(alerts[0]!.headline, 'Intracranial hemorrhage, 12.3 mL, left frontal intraparenchymal (+1 more)');
  assert.equal((db.prepare(`SELECT count(*) AS n FROM outbox WHERE state = 'pending'`).get() as { n: number }).n, 1);
  await channels[0]!.delivered(1);
  await dispatcher.idle();
  const m = channels[0]!.messages[0]!;
  assert.equal(m.event, 'raised');
  assert.equal(m.revision, 1);
  assert.equal(m.patient.name, 'DOE^JANE');
  assert.equal(m.study.accessionNumber, 'ACC1');
  assert.equal(m.links.study, `/api/studies/${STUDY}`);
  assert.deepEqual(m.analysis.findings.map((f) => f.volumeMl), [12.34, 0.8]);
  const view = dispatcher.get(alerts[0]!.id)!;
  assert.equal(view.deliveries.length, 1);
  assert.equal(view.deliveries[0]!.deliveredAt, new Date(clock.now()).toISOString());
  assert.equal(view.deliveries[0]!.detail, 'recorded');
  assert.equal(view.deliveries[0]!.state, 'done');
  assert.deepEqual(changes, ['raised', 'delivered:rec0']);
  assert.deepEqual(metrics.histogramValue('medge_time_to_alert_seconds', { severity: 'critical' }), { count: 1, sum: 0.7 });
  assert.equal(metrics.histogramValue('medge_alert_delivery_seconds', { channel: 'rec0' }).count, 1);
  await dispatcher.stop();
});

test('one alert per study: another positive series adds nothing; a superseding analysis updates it (revision 2), a negative one retracts it', async () => {
  const { channels, dispatcher, analyse, clock } = setup();
  dispatcher.start();
  analyse(AX, 'positive', [5]);
  await channels[0]!.delivered(1);
  clock.advance(1000);
  analyse(COR, 'positive', [6]);
  await dispatcher.idle();
  assert.equal(dispatcher.list().length, 1, 'deduplicated per study');
  assert.equal(channels[0]!.messages.length, 1, 'nothing re-sent for the same finding');

  clock.advance(1000);
  analyse(AX, 'positive', [7.5]);
  await channels[0]!.delivered(2);
  const updated = channels[0]!.messages[1]!;
  assert.equal(updated.event, 'updated');
  assert.equal(updated.revision, 2);
  assert.equal(updated.alertId, channels[0]!.messages[0]!.alertId);
  assert.equal(updated.analysis.findings[0]!.volumeMl, 7.5);
  assert.equal(dispatcher.list().length, 1);

  clock.advance(1000);
  analyse(AX, 'negative');
  await channels[0]!.delivered(3);
  // The coronal series still shows the bleed: the alert moves to it instead of being retracted.
  const moved = channels[0]!.messages[2]!;
  assert.equal(moved.event, 'updated');
  assert.equal(moved.series.seriesInstanceUid, COR);

  clock.advance(1000);
  analyse(COR, 'negative');
  await channels[0]!.delivered(4);
  const retracted = channels[0]!.messages[3]!;
  assert.equal(retracted.event, 'retracted');
  assert.equal(retracted.revision, 4);
  assert.equal(retracted.headline, 'Intracranial hemorrhage no longer found');
  const view = dispatcher.list()[0]!;
  assert.equal(view.state, 'retracted');
  assert.equal(view.deliveries.length, 4, 'one delivery per revision');
  await dispatcher.stop();
});

test('a negative analysis raises nothing, and a failed one changes nothing', async () => {
  const { channels, dispatcher, analyse, db, events, clock } = setup();
  dispatcher.start();
  analyse(AX, 'negative');
  assert.deepEqual(dispatcher.list(), []);
  analyse(AX, 'positive', [3]);
  await channels[0]!.delivered(1);
  const failed = recordAnalysis(db, { study: STUDY, series: AX, status: 'failed', at: clock.now() });
  events.emit('analysis-finished', failed);
  analyse(COR, 'negative');
  await dispatcher.idle();
  assert.equal(dispatcher.list()[0]!.state, 'active');
  assert.equal(channels[0]!.messages.length, 1);
  await dispatcher.stop();
});

test('rules decide the severity; a finding no rule matches raises nothing', async () => {
  const rules = [{ finding: 'intracranial-hemorrhage', minVolumeMl: 10, severity: 'critical' as const }, { finding: 'intracranial-hemorrhage', minVolumeMl: 1, severity: 'urgent' as const }];
  const { dispatcher, analyse } = setup({ rules });
  dispatcher.start();
  analyse(AX, 'positive', [0.5]);
  assert.deepEqual(dispatcher.list(), []);
  analyse(AX, 'positive', [2]);
  assert.equal(dispatcher.list()[0]!.severity, 'urgent');
  analyse(AX, 'positive', [20]);
  assert.equal(dispatcher.list()[0]!.severity, 'critical');
  assert.equal(dispatcher.list()[0]!.revision, 2);
  await dispatcher.stop();
});

test('acknowledgement records who and when; the first stands; an unknown id is MEDGE_ERR_ALERT_NOT_FOUND', async () => {
  const { dispatcher, analyse, clock, changes } = setup();
  dispatcher.start();
  analyse(AX, 'positive', [4]);
  const id = dispatcher.list()[0]!.id;
  clock.advance(30_000);
  const view = dispatcher.acknowledge(id, 'Dr House');
  assert.equal(view.acknowledgedBy, 'Dr House');
  assert.equal(view.acknowledgedAt, new Date(clock.now()).toISOString());
  clock.advance(1000);
  assert.equal(dispatcher.acknowledge(id, 'Dr Other').acknowledgedBy, 'Dr House');
  assert.equal(changes.filter((c) => c === 'acknowledged').length, 1);
  assert.throws(() => dispatcher.acknowledge('nope', 'x'), { code: 'MEDGE_ERR_ALERT_NOT_FOUND' });
  assert.equal(dispatcher.status().alerts.unacknowledged, 0);
  await dispatcher.stop();
});
