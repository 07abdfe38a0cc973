import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinkSimulator } from './link-simulator.js';
import { newStudy, qidoCount, readIndex, run, sendTo, uplinkStatus, waitFor, writeConfig, writePhantoms } from './int-test-support.js';
import { startMedge } from '../../test/helpers/medge-process.js';
import { requireOrthanc, startOrthanc } from '../../test/helpers/orthanc.js';
import { ORTHANC_HINT, skipMessage } from '../../test/helpers/peers.js';
import { repoRoot } from '../../test/helpers/real-data.js';

/**
 * The uplink against a real private Orthanc (DICOMweb plugin, basic authentication) as the cloud
 * PACS, reached through the link simulator on loopback: an outage while 20 studies arrive, SIGKILLs
 * while draining through a slow link, and destinations that cannot work (wrong credentials, TLS).
 */

const MBIT = 1_000_000;
const credentials = { user: 'medge', password: 'uplink-secret-pw' };

test('uplink to Orthanc through the link simulator', async (t) => {
  if (!requireOrthanc()) return t.skip(skipMessage('Orthanc with orthanc-dicomweb', ORTHANC_HINT));
  const dir = await mkdtemp(join(tmpdir(), 'medge-uplink-int-'));
  const orthanc = await startOrthanc({ credentials });
  const link = await createLinkSimulator({ target: { host: '127.0.0.1', port: orthanc.httpPort }, rateBitsPerSecond: 50 * MBIT, delayMs: 20 });
  const templates = await writePhantoms(dir);
  const cloud = (id: string, extra: Record<string, unknown> = {}) => ({
    id, type: 'stow-rs', baseUrl: link.url('/dicom-web'), auth: { basic: credentials }, timeoutMs: 3000,
    policy: { what: 'results', when: 'immediate', privacy: 'identified' }, ...extra,
  });
  try {
    await t.test('outage: the link is cut while 20 studies arrive; the node ingests and alerts; back up, every result arrives once, critical first; bad destinations are down with their reason', async () => {
      const config = await writeConfig(join(dir, 'n1'), [
        cloud('cloud'),
        cloud('badauth', { auth: { basic: { user: 'medge', password: 'wrong-password' } } }),
        cloud('badtls', { baseUrl: `https://127.0.0.1:${orthanc.httpPort}/dicom-web` }),
      ]);
      const node = await startMedge({ dataDir: join(dir, 'n1', 'data'), args: ['--config', config] });
      try {
        await link.cut('refuse');
        const studies: { uid: string; critical: boolean }[] = [];
        for (let i = 0; i < 20; i++) {
          const critical = i % 2 === 1;
          const s = await newStudy(critical ? templates.pos : templates.neg, join(dir, 'n1'), i + 1);
          await sendTo(node.dicomPort, s.files);
          studies.push({ uid: s.studyInstanceUid, critical });
        }
        const withResults = () => readIndex<{ study: string; results: string }>(node.dataDir, `SELECT study_uid AS study, results FROM analyses WHERE results IS NOT NULL`);
        await waitFor('20 analyses with results', () => (withResults().length >= 20 ? true : undefined), 60_000);
        const alerts = readIndex<{ study: string }>(node.dataDir, `SELECT study_uid AS study FROM alerts WHERE severity = 'critical'`);
        assert.deepEqual(alerts.map((a) => a.study).sort(), studies.filter((s) => s.critical).map((s) => s.uid).sort(), 'alerts raised while the link was down');
        const down = await uplinkStatus(node.httpUrl);
        const cloudDown = down.destinations.find((d) => d.id === 'cloud')!;
        assert.equal(cloudDown.link, 'down');
        const expected = withResults().flatMap((a) => (JSON.parse(a.results) as { sopInstanceUid: string }[]).map((r) => ({ sop: r.sopInstanceUid, study: a.study })));
        assert.equal(cloudDown.queue.pending, expected.length);

        await link.restore();
        await waitFor('the cloud queue drained', async () => ((await uplinkStatus(node.httpUrl)).destinations.find((d) => d.id === 'cloud')!.queue.pending === 0 ? true : undefined), 30_000);
        for (const e of expected) assert.equal(await qidoCount(orthanc, e.sop), 1, `${e.sop} at Orthanc once`);
        const done = readIndex<{ ref: string; doneAt: number; study: string }>(node.dataDir, `SELECT ref, done_at AS doneAt, json_extract(payload, '$.study') AS study FROM outbox WHERE kind = 'uplink' AND destination = 'cloud'`);
        const criticalStudies = new Set(studies.filter((s) => s.critical).map((s) => s.uid));
        const lastCritical = Math.max(...done.filter((d) => criticalStudies.has(d.study)).map((d) => d.doneAt));
        const firstRoutine = Math.min(...done.filter((d) => !criticalStudies.has(d.study)).map((d) => d.doneAt));
        assert.ok(lastCritical <= firstRoutine, `critical results confirmed first (last critical ${lastCritical}, first routine ${firstRoutine})`);

        const { stdout } = await run(process.execPath, [join(repoRoot(), 'bin', 'medge.js'), 'uplink', 'status', '--data', node.dataDir]).catch((e: { stdout: string; code: number }) => e);
        console.log(stdout);
        assert.match(stdout, /badauth[\s\S]*link +DOWN: .*refused the credentials[\s\S]*badtls/);
        assert.match(stdout, /badtls[\s\S]*link +DOWN: TLS .*failed/);
        assert.ok(!stdout.includes(credentials.password) && !stdout.includes('wrong-password'), 'no secret in the status');
        const bad = (await uplinkStatus(node.httpUrl)).destinations.filter((d) => d.id !== 'cloud');
        for (const d of bad) assert.deepEqual([d.queue.pending, d.queue.parked], [expected.length, 0], `${d.id}: nothing lost, nothing parked`);
      } finally {
        await node.stop();
      }
    });

    await t.test('crash: SIGKILLed three times while draining through a 2 Mbit/s link; nothing lost or duplicated at Orthanc', async () => {
      link.setRate(2 * MBIT);
      const config = await writeConfig(join(dir, 'n2'), [cloud('cloud', { policy: { what: 'full-study', when: 'immediate', privacy: 'identified' } })]);
      const dataDir = join(dir, 'n2', 'data');
      await link.cut('refuse');
      let node = await startMedge({ dataDir, args: ['--config', config] });
      const sent: string[] = [];
      for (let i = 0; i < 2; i++) {
        const s = await newStudy(i === 0 ? templates.pos : templates.neg, join(dir, 'n2'), 100 + i);
        await sendTo(node.dicomPort, s.files);
      }
      await waitFor('2 analyses with results', () => (readIndex(node.dataDir, `SELECT 1 FROM analyses WHERE results IS NOT NULL`).length >= 2 ? true : undefined), 30_000);
      const items = readIndex<{ ref: string }>(dataDir, `SELECT ref FROM outbox WHERE kind = 'uplink'`).map((r) => r.ref);
      sent.push(...items);
      await link.restore();
      for (let k = 0; k < 3; k++) {
        await new Promise((r) => setTimeout(r, 1500));
        await node.kill();
        node = await startMedge({ dataDir, args: ['--config', config] });
      }
      await waitFor('drained after the kills', async () => ((await uplinkStatus(node.httpUrl)).destinations[0]!.queue.pending === 0 ? true : undefined), 60_000);
      const counts = await Promise.all(sent.map((sop) => qidoCount(orthanc, sop)));
      assert.deepEqual(counts.filter((c) => c !== 1), [], `each of ${sent.length} instances at Orthanc exactly once`);
      const attempts = readIndex<{ attempts: number }>(dataDir, `SELECT attempts FROM outbox WHERE kind = 'uplink'`).map((r) => r.attempts);
      console.log(`# crash: ${sent.length} items, ${attempts.filter((a) => a > 1).length} attempted more than once (refused during the outage, or in flight at a kill: checked by QIDO-RS before any resend)`);
      await node.stop();
      link.setRate(50 * MBIT);
    });
  } finally {
    await link.close();
    await orthanc.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
