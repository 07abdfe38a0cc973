/**
 * The uplink (issue 5), through the link simulator at 50 Mbit/s and 40 ms round trip to private
 * Orthancs (DICOMweb plugin) as the cloud PACS:
 * 1. bytes sent over bytes received per policy, for a set of head CTs that each hold a thick (5 mm,
 *    30 slices) and a thin (0.625 mm, 240 slices) 512 x 512 reconstruction, half with a bleed; for
 *    the whole set and for the thick and the thin series apart (goal: results <= 1 %). `results` is
 *    measured twice: compressed (the default) and with compressResults: false (as before);
 * 2. time from a critical alert to its results confirmed at the cloud (goal: within 2 s);
 * 3. a backlog of `--backlog` studies (the '1-hour outage'; 192 x 192 x 20 phantoms, to keep it
 *    short) drained after the link returns, once per setting (uncompressed one request at a time
 *    as before, then compressed with 1 to 4 requests in flight): priority order, rate, nothing lost.
 * Anchors: the product brief's 70-90 % reduction; Orthanc does not retry failed forwards; MONAI's
 * gateway loses queued uploads on a crash. Run with `npm run bench:uplink [-- --studies 4 --backlog 100]`; `-- --only backlog
 * [--settings c3,tuned,memory]` runs part 3 alone (about a minute).
 */
import { createServer } from 'node:http';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLinkSimulator, type LinkSimulator } from '../src/uplink/link-simulator.js';
import { readIndex, sendTo, uplinkStatus, waitFor, writeConfig } from '../src/uplink/int-test-support.js';
import { startMedge } from '../test/helpers/medge-process.js';
import { orthancJson, startOrthanc, type OrthancInstance, type OrthancOptions } from '../test/helpers/orthanc.js';
import { formatTable } from './lib/table.js';
import { setStudy, writeStudySetTemplates } from './lib/uplink-study-set.js';
import { receivedByGroup, sentByGroup, type SeriesInfo } from './lib/uplink-accounting.js';
import { drainBacklog, SETTINGS, type ArchiveKind, type BacklogArchive } from './lib/uplink-backlog.js';
import { startMemoryArchive, type MemoryArchive } from './lib/memory-archive.js';

const { values: opts } = parseArgs({ options: {
  studies: { type: 'string', default: '4' },
  backlog: { type: 'string', default: '100' },
  /** `--only backlog`: part 3 alone (about a minute), to iterate on the drain. */
  only: { type: 'string' },
  /** Comma-separated backlog setting ids (bench/lib/uplink-backlog.ts SETTINGS); default all. */
  settings: { type: 'string' },
} });
/**
 * A cloud archive is sized for its job and does not fsync each file on a 2-core box it shares with
 * the sender: Orthanc 1.10's storage and SQLite index in memory (/dev/shm), SyncStorageArea off
 * (default true since 1.7.4: an fsync per file), no MD5 per attachment, jobs not saved to the index.
 */
const TUNED_ORTHANC: OrthancOptions = {
  parentDir: '/dev/shm',
  extraConfig: { SyncStorageArea: false, StorageCompression: false, StoreMD5ForAttachments: false, SaveJobs: false },
};
const MBIT = 1_000_000;
const RATE = 50 * MBIT;
const mb = (n: number) => (n / 1e6).toFixed(2);
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(2)} %`;
const out = (s: string) => process.stdout.write(s);

async function main(): Promise<void> {
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'medge-bench-uplink-'));
  const orthancs: OrthancInstance[] = [];
  const links: LinkSimulator[] = [];
  const alertsIn = new Map<string, string[]>();
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c)).on('end', () => {
      const list = alertsIn.get(req.url ?? '') ?? [];
      list.push(body);
      alertsIn.set(req.url ?? '', list);
      res.writeHead(204).end();
    });
  }).listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const alertBase = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/alerts`;
  const memories: MemoryArchive[] = [];
  const orthanc = async (options?: OrthancOptions) => {
    const o = await startOrthanc(options);
    orthancs.push(o);
    return o;
  };
  const archive = async (kind: ArchiveKind): Promise<BacklogArchive> => {
    if (kind === 'memory') {
      const m = await startMemoryArchive();
      memories.push(m);
      return m;
    }
    const o = await orthanc(kind === 'orthanc-tuned' ? TUNED_ORTHANC : undefined);
    return {
      port: o.httpPort,
      async received() {
        const held = new Map<string, number>();
        for (const i of await orthancJson<{ MainDicomTags: { SOPInstanceUID: string } }[]>(o.httpUrl, '/instances?expand')) {
          held.set(i.MainDicomTags.SOPInstanceUID, (held.get(i.MainDicomTags.SOPInstanceUID) ?? 0) + 1);
        }
        return held;
      },
    };
  };
  const wan = async (port: number, shaped = true) => {
    const l = await createLinkSimulator({ target: { host: '127.0.0.1', port }, rateBitsPerSecond: shaped ? RATE : 0, delayMs: shaped ? 20 : 0 });
    links.push(l);
    return l;
  };
  try {
    if (opts.only !== 'backlog') await policiesAndAlert();
    // 3. The '1-hour outage' backlog, drained once per setting.
    const wanted = opts.settings?.split(',');
    const settings = wanted ? SETTINGS.filter((s) => wanted.includes(s.id)) : SETTINGS;
    await drainBacklog({ work, backlog: Number(opts.backlog), archive, wan, out, settings });
    out(`\nwhole benchmark: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  } finally {
    receiver.close();
    for (const l of links) await l.close();
    for (const o of orthancs) await o.stop();
    for (const m of memories) await m.stop();
    await rm(work, { recursive: true, force: true });
  }

  async function policiesAndAlert(): Promise<void> {
    // 1. One destination per policy, each over its own 50 Mbit/s link; the uncompressed results go
    // to an Orthanc of their own, so that each Orthanc holds one version of every result.
    const t0 = Date.now();
    const templates = await writeStudySetTemplates(join(work, 'templates'));
    out(`study set templates rendered in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const [cloud, raw] = [await orthanc(), await orthanc()];
    const results = { what: 'results', when: 'immediate', privacy: 'identified' };
    const dests = [
      { id: 'results', type: 'stow-rs', baseUrl: (await wan(cloud.httpPort)).url('/dicom-web'), policy: results },
      { id: 'results-uncompressed', type: 'stow-rs', baseUrl: (await wan(raw.httpPort)).url('/dicom-web'), compressResults: false, policy: results },
      { id: 'results-alerts', type: 'stow-rs', baseUrl: (await wan(cloud.httpPort)).url('/dicom-web'), alertUrl: `${alertBase}/results-alerts`, policy: { ...results, what: 'results+alerts' } },
      { id: 'full-study', type: 'stow-rs', baseUrl: (await wan(cloud.httpPort)).url('/dicom-web'), policy: { ...results, what: 'full-study' } },
    ];
    const label: Record<string, string> = { results: 'results (compressed)', 'results-uncompressed': 'results, compressResults: false', 'results-alerts': 'results+alerts', 'full-study': 'full-study' };
    const config = await writeConfig(join(work, 'n1'), dests);
    const node = await startMedge({ dataDir: join(work, 'n1', 'data'), args: ['--config', config], env: { MEDGE_LOG_LEVEL: 'warn' } });
    const studies = Number(opts.studies);
    const seriesInfo = new Map<string, SeriesInfo>();
    for (let i = 1; i <= studies; i++) {
      const s = await setStudy(templates, join(work, 'n1'), i);
      for (const series of s.series) {
        seriesInfo.set(series.seriesInstanceUid, { thickness: series.thickness, positive: s.positive });
        await sendTo(node.dicomPort, series.files);
      }
    }
    await waitFor('every queue drained', async () => {
      const st = await uplinkStatus(node.httpUrl);
      const analysed = readIndex(node.dataDir, `SELECT 1 FROM analyses WHERE results IS NOT NULL`).length >= 2 * studies;
      return analysed && st.destinations.every((d) => d.queue.pending === 0) ? st : undefined;
    }, 600_000, 500);
    const st = await uplinkStatus(node.httpUrl);
    const received = receivedByGroup(node.dataDir, seriesInfo);
    const parts: [string, string][] = [
      ['all', `${studies} studies, both series`], ['thick', '  thick series only (5 mm)'], ['thin', '  thin series only (0.625 mm)'],
      ['thick+bleed', '    thick, studies with a bleed'], ['thin+bleed', '    thin, studies with a bleed'],
    ];
    const rows: string[][] = [];
    for (const d of st.destinations) {
      const sent = await sentByGroup({ dataDir: node.dataDir, destination: d.id, orthanc: d.id === 'results-uncompressed' ? raw : cloud, seriesInfo, alertBodies: alertsIn.get(`/alerts/${d.id}`) ?? [] });
      const goalRow = d.id === 'results' || d.id === 'results-uncompressed';
      for (const [part, what] of parts) {
        if (part.includes('+bleed') && !goalRow) continue;
        const ratio = (sent[part] ?? 0) / received[part]!;
        const goal = goalRow ? (ratio <= 0.01 ? 'goal <= 1 %: met' : 'goal <= 1 %: MISSED') : '';
        rows.push([part === 'all' ? label[d.id]! : '', what, mb(received[part]!), mb(sent[part] ?? 0), pct(sent[part] ?? 0, received[part]!), `${(100 - ratio * 100).toFixed(1)} %`, goal]);
      }
      if (sent.all !== d.bytesOut.total) rows.push(['', `  (the node's meter says ${mb(d.bytesOut.total)} MB)`, '', '', '', '', '']);
    }
    out(`\n1. Bytes sent over bytes received, ${studies} head CTs (half with a bleed), each a 5 mm (30 slices) and a 0.625 mm (240 slices) series of 512 x 512, 50 Mbit/s, 40 ms RTT\n`);
    out(`${formatTable(['policy', 'series', 'received MB', 'sent MB', 'sent/received', 'reduction', ''], rows)}\n`);
    for (const d of st.destinations.slice(0, 2)) out(`${label[d.id]} by kind (MB): ${Object.entries(d.bytesOut.byKind).map(([k, b]) => `${k} ${mb(b)}`).join(', ')}\n`);
    out(`anchor: the product brief promises a 70-90 % reduction; alert notices received: ${alertsIn.get('/alerts/results-alerts')?.length ?? 0}\n`);

    // 2. One more critical study on an idle node: the alert -> its results confirmed at the cloud.
    const s = await setStudy(templates, join(work, 'n1'), 901);
    for (const series of s.series) await sendTo(node.dicomPort, series.files);
    const timing = await waitFor('the critical study confirmed', () => {
      const alert = readIndex<{ at: number }>(node.dataDir, `SELECT dispatched_at AS at FROM alerts WHERE study_uid = ?`, s.studyInstanceUid)[0];
      const items = readIndex<{ analysis: number; doneAt: number | null }>(node.dataDir,
        `SELECT json_extract(payload, '$.analysisId') AS analysis, done_at AS doneAt FROM outbox WHERE kind = 'uplink' AND destination = 'results' AND json_extract(payload, '$.study') = ?`, s.studyInstanceUid);
      if (!alert || items.length < 6 || items.some((i) => i.doneAt === null)) return undefined;
      const first = Math.min(...items.map((i) => i.analysis));
      const done = (mine: boolean) => Math.max(...items.filter((i) => (i.analysis === first) === mine).map((i) => i.doneAt!));
      return { alertAt: alert.at, first: done(true), second: done(false) };
    }, 120_000, 50);
    const ms = timing.first - timing.alertAt;
    out(`\n2. Critical alert dispatched -> the SR, SEG and key image of the analysis that raised it confirmed at the cloud: ${ms} ms (goal within 2000 ms: ${ms <= 2000 ? 'met' : 'MISSED'}); the other series' results ${timing.second - timing.alertAt} ms after the alert (that series arrived later)\n`);
    await node.stop();
    for (const o of orthancs.splice(0)) await o.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
