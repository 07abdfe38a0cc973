import { join } from 'node:path';
import { newStudy, readIndex, sendTo, uplinkStatus, waitFor, writeConfig, writePhantoms } from '../../src/uplink/int-test-support.js';
import type { LinkSimulator } from '../../src/uplink/link-simulator.js';
import { STOW_BATCH } from '../../src/uplink/stow-sender.js';
import { startMedge } from '../../test/helpers/medge-process.js';
import { formatTable } from './table.js';

/**
 * Part 3 of the uplink benchmark: a backlog of `backlog` studies (one in four critical) piles up
 * while the links are cut, then is drained once per setting, each to its own archive over its own
 * 50 Mbit/s, 40 ms link, one after the other so that they do not share the machine: the uplink as
 * it was (uncompressed results, one request at a time), then compressed with 1 to 4 requests in
 * flight, to a stock Orthanc, to an Orthanc configured as a cloud archive would be (no fsync, in
 * memory) and to medge's own STOW-RS server over memory (what the forwarder itself can do). For
 * each: the drain time against the time the link alone needs for the same bytes and round trips,
 * whether every critical item started and was confirmed before any routine one, and whether the
 * archive received every item exactly once.
 */

const RATE = 50_000_000;
const RTT_MS = 40;

/**
 * orthanc: startOrthanc's defaults (fsync of every file, on this machine's disk); orthanc-tuned:
 * the same Orthanc 1.10 without the durability a shared 2-core box pays for (see bench:uplink);
 * memory: medge's STOW-RS routes over the memory blob store (bench/lib/memory-archive.ts).
 */
export type ArchiveKind = 'orthanc' | 'orthanc-tuned' | 'memory';

export interface BacklogArchive {
  /** The archive's HTTP port on loopback (its DICOMweb root is /dicom-web). */
  port: number;
  /** SOP Instance UID -> how many times the archive holds (Orthanc) or received (memory) it. */
  received(): Promise<Map<string, number>>;
}

export interface BacklogSetting {
  id: string;
  label: string;
  archive: ArchiveKind;
  compressResults: boolean;
  concurrency: number;
  /** Loopback without the link's rate and delay: what the archive alone allows. */
  unshaped?: boolean;
}

export const SETTINGS: BacklogSetting[] = [
  { id: 'before', label: 'uncompressed, 1 in flight (as before)', archive: 'orthanc', compressResults: false, concurrency: 1 },
  { id: 'c1', label: 'compressed, 1 in flight', archive: 'orthanc', compressResults: true, concurrency: 1 },
  { id: 'c2', label: 'compressed, 2 in flight', archive: 'orthanc', compressResults: true, concurrency: 2 },
  { id: 'c3', label: 'compressed, 3 in flight (default)', archive: 'orthanc', compressResults: true, concurrency: 3 },
  { id: 'c4', label: 'compressed, 4 in flight', archive: 'orthanc', compressResults: true, concurrency: 4 },
  { id: 'archive', label: 'compressed, 3 in flight, no link (Orthanc alone)', archive: 'orthanc', compressResults: true, concurrency: 3, unshaped: true },
  { id: 'tuned', label: 'tuned Orthanc: compressed, 3 in flight', archive: 'orthanc-tuned', compressResults: true, concurrency: 3 },
  { id: 'tuned-alone', label: 'tuned Orthanc: 3 in flight, no link (alone)', archive: 'orthanc-tuned', compressResults: true, concurrency: 3, unshaped: true },
  { id: 'memory', label: 'memory STOW-RS: compressed, 3 in flight', archive: 'memory', compressResults: true, concurrency: 3 },
  { id: 'memory-c1', label: 'memory STOW-RS: compressed, 1 in flight', archive: 'memory', compressResults: true, concurrency: 1 },
  { id: 'memory-raw', label: 'memory STOW-RS: uncompressed, 3 in flight', archive: 'memory', compressResults: false, concurrency: 3 },
  { id: 'memory-alone', label: 'memory STOW-RS: 3 in flight, no link (alone)', archive: 'memory', compressResults: true, concurrency: 3, unshaped: true },
];

/**
 * What the link alone needs for a drain: the bytes at the rate, plus one round trip for the probe
 * (one item) and one per wave of `concurrency` requests of up to 16 items, critical items first (a
 * routine batch does not start while a critical one is in flight). Connection set-up is not counted.
 */
function linkAloneMs(wireBytes: number, critical: number, routine: number, concurrency: number): { bytesMs: number; roundTripsMs: number } {
  const waves = (n: number) => Math.ceil(Math.ceil(Math.max(0, n) / STOW_BATCH) / concurrency);
  return { bytesMs: (wireBytes * 8 * 1000) / RATE, roundTripsMs: RTT_MS * (1 + waves(critical - 1) + waves(routine)) };
}

export async function drainBacklog(o: { work: string; backlog: number; archive(kind: ArchiveKind): Promise<BacklogArchive>; wan(port: number, shaped: boolean): Promise<LinkSimulator>; out(s: string): void; settings?: BacklogSetting[] }): Promise<void> {
  const small = await writePhantoms(join(o.work, 'small'));
  const targets: { id: string; label: string; archive: BacklogArchive; link: LinkSimulator; unshaped: boolean; concurrency: number }[] = [];
  const dests = [];
  for (const s of o.settings ?? SETTINGS) {
    const archive = await o.archive(s.archive);
    const link = await o.wan(archive.port, !s.unshaped);
    targets.push({ id: s.id, label: s.label, archive, link, unshaped: s.unshaped === true, concurrency: s.concurrency });
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
      const held = await t.archive.received();
      const notOnce = items.filter((d) => held.get(d.ref) !== 1).length + Math.max(0, held.size - items.length);
      const alone = linkAloneMs(wire, crit.length, routine.length, t.concurrency);
      const aloneMs = alone.bytesMs + alone.roundTripsMs;
      const s = (ms: number) => (ms / 1000).toFixed(2);
      rows.push([t.label, String(pending), `${s(probeAt - start)} s`, `${s(drainMs)} s`, `${(wire / 1e6).toFixed(2)} MB`, t.unshaped ? '' : `${s(alone.bytesMs)} + ${s(alone.roundTripsMs)} = ${s(aloneMs)} s`, t.unshaped ? '' : `${((aloneMs / drainMs) * 100).toFixed(0)} %`, `${(pending / (drainMs / 1000)).toFixed(0)}/s`, first('startedAt') ? 'yes' : 'NO', first('doneAt') ? 'yes' : 'NO', String(notOnce)]);
    }
    o.out(`\n3. Backlog of ${o.backlog} studies (${critical.size} critical) after the outage, each setting to its own archive over its own 50 Mbit/s, 40 ms link\n`);
    o.out(`${formatTable(['setting', 'items', 'link found back after', 'drain time', 'on the wire', 'the link alone (bytes + round trips)', 'link alone / drain', 'items', 'critical started first', 'critical confirmed first', 'not exactly once'], rows)}\n`);
    o.out('anchors: Orthanc does not retry a failed forward by itself (a job fails and stays failed); MONAI Deploy\'s informatics gateway loses queued uploads when it crashes\n');
  } finally {
    await node.stop();
  }
}
