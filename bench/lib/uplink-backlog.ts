import { join } from 'node:path';
import { newStudy, readIndex, sendTo, uplinkStatus, waitFor, writeConfig, writePhantoms } from '../../src/uplink/int-test-support.js';
import type { LinkSimulator } from '../../src/uplink/link-simulator.js';
import { startMedge } from '../../test/helpers/medge-process.js';
import { orthancJson, type OrthancInstance } from '../../test/helpers/orthanc.js';
import { formatTable } from './table.js';

/**
 * Part 3 of the uplink benchmark: a backlog of `backlog` studies (one in four critical) piles up
 * while the links are cut, then is drained once per setting, each to its own Orthanc over its own
 * 50 Mbit/s, 40 ms link, one after the other so that they do not share the machine: the uplink as
 * it was (uncompressed results, one request at a time), then compressed with 1 to 4 requests in
 * flight. For each: the drain time against the time the link alone needs for the same bytes,
 * whether every critical item started and was confirmed before any routine one, and whether the
 * Orthanc holds every item exactly once.
 */

const RATE = 50_000_000;

export interface BacklogSetting {
  id: string;
  label: string;
  compressResults: boolean;
  concurrency: number;
  /** Loopback without the link's rate and delay: what the archive alone allows. */
  unshaped?: boolean;
}

export const SETTINGS: BacklogSetting[] = [
  { id: 'before', label: 'uncompressed, 1 in flight (as before)', compressResults: false, concurrency: 1 },
  { id: 'c1', label: 'compressed, 1 in flight', compressResults: true, concurrency: 1 },
  { id: 'c2', label: 'compressed, 2 in flight', compressResults: true, concurrency: 2 },
  { id: 'c3', label: 'compressed, 3 in flight (default)', compressResults: true, concurrency: 3 },
  { id: 'c4', label: 'compressed, 4 in flight', compressResults: true, concurrency: 4 },
  { id: 'archive', label: 'compressed, 3 in flight, no link (Orthanc alone)', compressResults: true, concurrency: 3, unshaped: true },
];

export async function drainBacklog(o: { work: string; backlog: number; orthanc(): Promise<OrthancInstance>; wan(o: OrthancInstance, shaped: boolean): Promise<LinkSimulator>; out(s: string): void; settings?: BacklogSetting[] }): Promise<void> {
  const small = await writePhantoms(join(o.work, 'small'));
  const targets: { id: string; label: string; orthanc: OrthancInstance; link: LinkSimulator; unshaped: boolean }[] = [];
  const dests = [];
  for (const s of o.settings ?? SETTINGS) {
    const orthanc = await o.orthanc();
    const link = await o.wan(orthanc, !s.unshaped);
    targets.push({ id: s.id, label: s.label, orthanc, link, unshaped: s.unshaped === true });
    dests.push({ id: s.id, type: 'stow-rs', baseUrl: link.url('/dicom-web'), compressResults: s.compressResults, concurrency: s.concurrency, policy: { what: 'results', when: 'immediate', privacy: 'identified' } });
  }
  const config = await writeConfig(join(o.work, 'n3'), dests);
  const node = await startMedge({ dataDir: join(o.work, 'n3', 'data'), args: ['--config', config], env: { MEDGE_LOG_LEVEL: 'warn' } });
  try {
    for (const t of targets) await t.link.cut('refuse');
    const critical = new Set<string>();
    const t0 = Date.now();
    for (let i = 0; i < o.backlog; i++) {
      const pos = i % 4 === 3;
      const st = await newStudy(pos ? small.pos : small.neg, join(o.work, 'n3'), 1000 + i);
      if (pos) critical.add(st.studyInstanceUid);
      await sendTo(node.dicomPort, st.files);
    }
    await waitFor(`${o.backlog} analyses`, () => (readIndex(node.dataDir, `SELECT 1 FROM analyses WHERE results IS NOT NULL`).length >= o.backlog ? true : undefined), 900_000, 1000);
    o.out(`\n(backlog of ${o.backlog} studies received and analysed in ${((Date.now() - t0) / 1000).toFixed(0)} s while the links were cut)\n`);
    const rows: string[][] = [];
    for (const t of targets) {
      const pending = (await uplinkStatus(node.httpUrl)).destinations.find((d) => d.id === t.id)!.queue.pending;
      const before = t.link.stats().bytesUp;
      const start = Date.now();
      await t.link.restore();
      await waitFor(`${t.id} drained`, async () => ((await uplinkStatus(node.httpUrl)).destinations.find((d) => d.id === t.id)!.queue.pending === 0 ? true : undefined), 900_000, 50);
      const wire = t.link.stats().bytesUp - before;
      const items = readIndex<{ ref: string; startedAt: number; doneAt: number; study: string }>(node.dataDir,
        `SELECT ref, last_attempt_at AS startedAt, done_at AS doneAt, json_extract(payload, '$.study') AS study FROM outbox WHERE kind = 'uplink' AND destination = ?`, t.id);
      // The breaker finds the link back with its next probe (within the cool-down, 0.5 to 5 s here);
      // the drain runs from that probe's start (every item's last attempt is its successful one) to the last confirmation.
      const probeAt = Math.min(...items.map((d) => d.startedAt));
      const drainMs = Math.max(...items.map((d) => d.doneAt)) - probeAt;
      const crit = items.filter((d) => critical.has(d.study));
      const routine = items.filter((d) => !critical.has(d.study));
      const first = (key: 'startedAt' | 'doneAt') => Math.max(...crit.map((d) => d[key])) <= Math.min(...routine.map((d) => d[key]));
      const held = new Map<string, number>();
      const at = await orthancJson<{ MainDicomTags: { SOPInstanceUID: string } }[]>(t.orthanc.httpUrl, '/instances?expand');
      for (const i of at) held.set(i.MainDicomTags.SOPInstanceUID, (held.get(i.MainDicomTags.SOPInstanceUID) ?? 0) + 1);
      const notOnce = items.filter((d) => held.get(d.ref) !== 1).length + Math.max(0, at.length - items.length);
      const atRateMs = t.unshaped ? Number.NaN : (wire * 8 * 1000) / RATE;
      rows.push([t.label, String(pending), `${((probeAt - start) / 1000).toFixed(2)} s`, `${(drainMs / 1000).toFixed(2)} s`, `${(wire / 1e6).toFixed(2)} MB`, t.unshaped ? '' : `${(atRateMs / 1000).toFixed(2)} s`, t.unshaped ? '' : `${((atRateMs / drainMs) * 100).toFixed(0)} %`, `${(pending / (drainMs / 1000)).toFixed(0)}/s`, first('startedAt') ? 'yes' : 'NO', first('doneAt') ? 'yes' : 'NO', String(notOnce)]);
    }
    o.out(`\n3. Backlog of ${o.backlog} studies (${critical.size} critical) after the outage, each setting to its own Orthanc over its own 50 Mbit/s, 40 ms link\n`);
    o.out(`${formatTable(['setting', 'items', 'link found back after', 'drain time', 'on the wire', 'the link alone', 'link use', 'items', 'critical started first', 'critical confirmed first', 'not exactly once'], rows)}\n`);
    o.out('anchors: Orthanc does not retry a failed forward by itself (a job fails and stays failed); MONAI Deploy\'s informatics gateway loses queued uploads when it crashes\n');
  } finally {
    await node.stop();
  }
}
