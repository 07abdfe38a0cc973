/**
 * The uplink (issue 5), through the link simulator at 50 Mbit/s and 40 ms round trip to a private
 * Orthanc (DICOMweb plugin) as the cloud PACS:
 * 1. bytes sent over bytes received for each policy (results, results+alerts, full-study), for a
 *    set of 512 x 512 head CTs with and without bleeds (goal: results <= 1 % of the bytes received);
 * 2. time from a critical alert to its study's results confirmed at the cloud (goal: within 2 s);
 * 3. a backlog of `--backlog` studies (the '1-hour outage', 192 x 192 phantoms to keep it short)
 *    drained after the link returns: in priority order, at the link's rate, nothing lost.
 * Anchors: the product brief's 70-90 % reduction; Orthanc does not retry failed forwards; MONAI's
 * gateway loses queued uploads on a crash. Run with `npm run bench:uplink [-- --studies 4 --backlog 100]`.
 */
import { createServer } from 'node:http';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLinkSimulator, type LinkSimulator } from '../src/uplink/link-simulator.js';
import { newStudy, qidoCount, readIndex, sendTo, uplinkStatus, waitFor, writeConfig, writePhantoms } from '../src/uplink/int-test-support.js';
import { startMedge } from '../test/helpers/medge-process.js';
import { startOrthanc } from '../test/helpers/orthanc.js';
import { formatTable } from './lib/table.js';

const { values: opts } = parseArgs({ options: { studies: { type: 'string', default: '4' }, backlog: { type: 'string', default: '100' } } });
const MBIT = 1_000_000;
const RATE = 50 * MBIT;
const mb = (n: number) => (n / 1e6).toFixed(2);

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'medge-bench-uplink-'));
  const orthanc = await startOrthanc();
  const links: LinkSimulator[] = [];
  const alertsIn: string[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c)).on('end', () => (alertsIn.push(body), res.writeHead(204).end()));
  }).listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const alertUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/alerts`;
  const wan = async () => {
    const l = await createLinkSimulator({ target: { host: '127.0.0.1', port: orthanc.httpPort }, rateBitsPerSecond: RATE, delayMs: 20 });
    links.push(l);
    return l;
  };
  try {
    // 1 and 2: three destinations, one per policy, each over its own 50 Mbit/s link.
    const big = await writePhantoms(join(work, 'big'), { rows: 512, slices: 30 });
    const policies = ['results', 'results+alerts', 'full-study'] as const;
    const dests = [];
    for (const what of policies) {
      const l = await wan();
      dests.push({ id: what.replace('+', '-'), type: 'stow-rs', baseUrl: l.url('/dicom-web'), alertUrl, policy: { what, when: 'immediate', privacy: 'identified' } });
    }
    const config = await writeConfig(join(work, 'n1'), dests);
    const node = await startMedge({ dataDir: join(work, 'n1', 'data'), args: ['--config', config], env: { MEDGE_LOG_LEVEL: 'warn' } });
    const studies = Number(opts.studies);
    for (let i = 0; i < studies; i++) {
      const s = await newStudy(i % 2 ? big.pos : big.neg, join(work, 'n1'), i + 1);
      await sendTo(node.dicomPort, s.files);
    }
    await waitFor('every queue drained', async () => {
      const st = await uplinkStatus(node.httpUrl);
      const analysed = readIndex(node.dataDir, `SELECT 1 FROM analyses WHERE results IS NOT NULL`).length >= studies;
      return analysed && st.destinations.every((d) => d.queue.pending === 0) ? st : undefined;
    }, 600_000, 500);
    const st = await uplinkStatus(node.httpUrl);
    const rows = st.destinations.map((d, i) => {
      const ratio = (d.bytesOut.total / st.bytesInTotal) * 100;
      return [policies[i]!, mb(st.bytesInTotal), mb(d.bytesOut.total), mb(links[i]!.stats().bytesUp), `${ratio.toFixed(2)} %`, `${(100 - ratio).toFixed(1)} %`, policies[i] === 'results' ? (ratio <= 1 ? 'goal <= 1 %: met' : 'goal <= 1 %: MISSED') : ''];
    });
    process.stdout.write(`\n1. Bytes sent over bytes received, ${studies} head CTs of 512 x 512 x 30 (half with a bleed), 50 Mbit/s, 40 ms RTT\n`);
    process.stdout.write(`${formatTable(['policy', 'received MB', 'sent MB (DICOM)', 'on the wire MB', 'sent/received', 'reduction', ''], rows)}\n`);
    process.stdout.write(`results by kind (MB): ${Object.entries(st.destinations[0]!.bytesOut.byKind).map(([k, b]) => `${k} ${mb(b)}`).join(', ')}\n`);
    process.stdout.write(`anchor: the product brief promises a 70-90 % reduction; alert notices received: ${alertsIn.length}\n`);

    // 2: one more critical study on an idle node: alert dispatched -> its results confirmed at the cloud.
    const s = await newStudy(big.pos, join(work, 'n1'), 900);
    await sendTo(node.dicomPort, s.files);
    const timing = await waitFor('the critical study confirmed', () => {
      const alert = readIndex<{ at: number }>(node.dataDir, `SELECT dispatched_at AS at FROM alerts WHERE study_uid = ?`, s.studyInstanceUid)[0];
      const items = readIndex<{ doneAt: number | null }>(node.dataDir, `SELECT done_at AS doneAt FROM outbox WHERE kind = 'uplink' AND destination = 'results' AND json_extract(payload, '$.study') = ?`, s.studyInstanceUid);
      if (!alert || items.length < 3 || items.some((i) => i.doneAt === null)) return undefined;
      return { alertAt: alert.at, confirmedAt: Math.max(...items.map((i) => i.doneAt!)) };
    }, 60_000, 50);
    const ms = timing.confirmedAt - timing.alertAt;
    process.stdout.write(`\n2. Critical alert dispatched -> its SR, SEG and key image confirmed at the cloud: ${ms} ms (goal within 2000 ms: ${ms <= 2000 ? 'met' : 'MISSED'})\n`);
    await node.stop();

    // 3: the '1-hour outage' backlog.
    const small = await writePhantoms(join(work, 'small'));
    const l = await wan();
    const config3 = await writeConfig(join(work, 'n3'), [{ id: 'cloud', type: 'stow-rs', baseUrl: l.url('/dicom-web'), policy: { what: 'results', when: 'immediate', privacy: 'identified' } }]);
    const node3 = await startMedge({ dataDir: join(work, 'n3', 'data'), args: ['--config', config3], env: { MEDGE_LOG_LEVEL: 'warn' } });
    await l.cut('refuse');
    const backlog = Number(opts.backlog);
    const critical = new Set<string>();
    for (let i = 0; i < backlog; i++) {
      const pos = i % 4 === 3;
      const st3 = await newStudy(pos ? small.pos : small.neg, join(work, 'n3'), 1000 + i);
      if (pos) critical.add(st3.studyInstanceUid);
      await sendTo(node3.dicomPort, st3.files);
    }
    await waitFor(`${backlog} analyses`, () => (readIndex(node3.dataDir, `SELECT 1 FROM analyses WHERE results IS NOT NULL`).length >= backlog ? true : undefined), 900_000, 1000);
    const pending = (await uplinkStatus(node3.httpUrl)).destinations[0]!.queue.pending;
    const bytesBefore = l.stats().bytesUp;
    const t0 = Date.now();
    await l.restore();
    await waitFor('backlog drained', async () => ((await uplinkStatus(node3.httpUrl)).destinations[0]!.queue.pending === 0 ? true : undefined), 900_000, 100);
    const drainMs = Date.now() - t0;
    const wire = l.stats().bytesUp - bytesBefore;
    const done = readIndex<{ ref: string; doneAt: number; study: string }>(node3.dataDir, `SELECT ref, done_at AS doneAt, json_extract(payload, '$.study') AS study FROM outbox WHERE kind = 'uplink'`);
    const lastCritical = Math.max(...done.filter((d) => critical.has(d.study)).map((d) => d.doneAt));
    const firstRoutine = Math.min(...done.filter((d) => !critical.has(d.study)).map((d) => d.doneAt));
    let lost = 0;
    for (const d of done) if ((await qidoCount(orthanc, d.ref)) !== 1) lost++;
    const atRateMs = (wire * 8 * 1000) / RATE;
    process.stdout.write(`\n3. Backlog of ${backlog} studies (${pending} result objects, ${critical.size} critical studies) after the outage\n`);
    process.stdout.write(`${formatTable(['drain time', 'on the wire', 'at 50 Mbit/s would take', 'link use', 'critical all first', 'not exactly once at Orthanc'], [[
      `${(drainMs / 1000).toFixed(1)} s`, `${mb(wire)} MB`, `${(atRateMs / 1000).toFixed(1)} s`, `${((atRateMs / drainMs) * 100).toFixed(0)} %`, lastCritical <= firstRoutine ? 'yes' : 'NO', String(lost),
    ]])}\n`);
    process.stdout.write('anchors: Orthanc does not retry a failed forward by itself (a job fails and stays failed); MONAI Deploy\'s informatics gateway loses queued uploads when it crashes\n');
    await node3.stop();
  } finally {
    receiver.close();
    for (const l of links) await l.close();
    await orthanc.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
