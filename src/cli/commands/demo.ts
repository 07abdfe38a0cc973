import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig } from '../../config/load.js';
import { storeFiles } from '../../dimse/scu.js';
import { MedgeError } from '../../errors.js';
import { startNode, type RunningNode } from '../../node.js';
import { tuneV8 } from '../../util/v8-tuning.js';
import { createLogger } from '../../observability/log.js';
import { renderHeadPhantom } from '../../phantom/render.js';
import { writePhantomSeries } from '../../phantom/write-series.js';
import { parseCommandArgs } from '../parse-args.js';
import { parseBleed } from './phantom.js';
import { timelineLines, type StudyView } from './demo-timeline.js';

const HELP = `medge demo: a head CT with a bleed goes through the node, from scanner to alert

Usage: medge demo [options]

Starts a node on free ports with a temporary data directory (or attaches to a running one), plays a
synthetic head CT with a bleed into it the way a scanner does (DIMSE C-STORE, one association),
prints each stage of the study's timeline and the alert as they happen, then where to look.

Options:
  --attach DIR         use the running node whose data directory is DIR (reads DIR/ports.json)
  --bleed SPEC         SUBTYPE:VOLUME_ML[:LOCATION[:SIDE]]    [intraparenchymal:12:basal-ganglia:left]
                       ('none' sends a normal head CT: no alert is expected)
  --thickness MM       slice thickness, 0.625 to 5              [5]
  --seed N             phantom seed                              [1]
  --exit               stop the node it started once the alert is out (default: keep it running
                       until Ctrl-C, so that the study can be looked at)
  --keep               keep the temporary data directory
  -h, --help           this text

Synthetic studies are for demonstration and testing, never for diagnosis.`;

/** How long the demo waits for the alert (or the negative result) before it gives up, ms. */
const PATIENCE_MS = 60_000;

export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('demo', argv, {
    attach: { type: 'string' }, bleed: { type: 'string' }, thickness: { type: 'string' }, seed: { type: 'string' },
    exit: { type: 'boolean' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const thickness = Number(values.thickness ?? 5);
  if (!(thickness >= 0.5 && thickness <= 10)) throw usage('--thickness must be a number of mm from 0.625 to 5');
  const seed = Number(values.seed ?? 1);
  if (!Number.isInteger(seed)) throw usage('--seed must be a whole number');
  const bleedSpec = values.bleed ?? 'intraparenchymal:12:basal-ganglia:left';
  const bleeds = bleedSpec === 'none' ? [] : [parseBleed(bleedSpec)];

  const work = await mkdtemp(join(tmpdir(), 'medge-demo-'));
  let node: RunningNode | undefined;
  try {
    let dicom: { host: string; port: number; aeTitle: string };
    let httpUrl: string;
    if (values.attach) {
      const ports = await readPorts(values.attach);
      dicom = { host: '127.0.0.1', port: ports.dicom, aeTitle: ports.aeTitle ?? 'MEDGE' };
      httpUrl = `http://127.0.0.1:${ports.http}`;
      process.stdout.write(`attached to the node of ${values.attach}: DICOM port ${ports.dicom}, HTTP ${httpUrl}\n`);
    } else {
      const config = loadConfig({ env: {}, overrides: { dataDir: join(work, 'data'), dicom: { port: 0, host: '127.0.0.1' }, http: { port: 0, host: '127.0.0.1' }, store: { minFreeBytes: 0 } } });
      tuneV8();
      node = await startNode(config, createLogger('warn'));
      dicom = { host: '127.0.0.1', port: node.ports.dicom, aeTitle: config.dicom.aeTitle };
      httpUrl = `http://127.0.0.1:${node.ports.http}`;
      process.stdout.write(`started a node: ${dicom.aeTitle} on DICOM port ${dicom.port}, HTTP ${httpUrl} (data in ${join(work, 'data')})\n`);
    }

    const { volume, truth } = renderHeadPhantom({ seed, sliceThickness: thickness, noiseHu: 4, bleeds });
    const series = await writePhantomSeries(volume, truth, { dir: join(work, 'scanner'), intercept: -1024 });
    const what = truth.bleeds.length ? truth.bleeds.map((b) => `${b.subtype} ${b.volumeMl.toFixed(1)} mL ${b.side} ${b.location}`).join(', ') : 'no bleed';
    process.stdout.write(`scanner: head CT phantom, ${series.files.length} slices of ${thickness} mm, ${what}\n`);

    const sentAt = Date.now();
    const { summary } = await storeFiles({ files: series.files, host: dicom.host, port: dicom.port, calledAe: dicom.aeTitle, callingAe: 'DEMO_CT', timeoutMs: 30_000 });
    process.stdout.write(`scanner: sent ${summary.sent} instances with C-STORE in ${summary.elapsedMs.toFixed(0)} ms${summary.failed ? `, ${summary.failed} FAILED` : ''}\n\n`);
    if (summary.sent === 0) return 1;

    const done = await followTimeline(httpUrl, series.studyInstanceUid, sentAt, bleeds.length > 0);
    process.stdout.write(`\nstudy:    ${httpUrl}/api/studies/${series.studyInstanceUid}\n`);
    process.stdout.write(`worklist: ${httpUrl}/api/studies    alerts: ${httpUrl}/api/alerts    live events: ${httpUrl}/api/events\n`);
    process.stdout.write('(the dashboard and viewer pages arrive with the dashboard issue; these are the JSON endpoints they read)\n');
    if (node && !values.exit && done) {
      process.stdout.write('\nThe node keeps running so that you can look; Ctrl-C stops it.\n');
      await new Promise<void>((resolve) => {
        const stop = () => { process.off('SIGINT', stop).off('SIGTERM', stop); resolve(); };
        process.on('SIGINT', stop).on('SIGTERM', stop);
      });
    }
    return done ? 0 : 1;
  } finally {
    await node?.stop();
    if (!values.keep) await rm(work, { recursive: true, force: true });
  }
}

/**
 * Polls the study's timeline (GET /api/studies/{uid}) and prints each stage once, as it appears,
 * relative to the moment the scanner started sending. Resolves true once the alert is dispatched
 * (or, with no bleed, the analysis finished), false after PATIENCE_MS.
 */
async function followTimeline(httpUrl: string, studyUid: string, sentAt: number, expectAlert: boolean): Promise<boolean> {
  const printed = new Set<string>();
  const deadline = Date.now() + PATIENCE_MS;
  while (Date.now() < deadline) {
    const res = await fetch(`${httpUrl}/api/studies/${studyUid}`).catch(() => undefined);
    if (res?.ok) {
      const view = (await res.json()) as StudyView;
      const { lines, finished } = timelineLines(view, sentAt, expectAlert);
      for (const l of lines) {
        if (printed.has(l.key)) continue;
        printed.add(l.key);
        process.stdout.write(`${l.text}\n`);
      }
      if (finished) return true;
    }
    await delay(25);
  }
  process.stdout.write(`no ${expectAlert ? 'alert' : 'result'} within ${PATIENCE_MS / 1000} s: see the node's log\n`);
  return false;
}

async function readPorts(dir: string): Promise<{ dicom: number; http: number; aeTitle?: string }> {
  try {
    return JSON.parse(await readFile(join(dir, 'ports.json'), 'utf8')) as { dicom: number; http: number; aeTitle?: string };
  } catch (err) {
    throw new MedgeError('MEDGE_ERR_CLI_USAGE', `--attach ${dir}: no readable ports.json there (is a node running with --data ${dir}?)`, { dir }, err);
  }
}

function usage(message: string): MedgeError {
  return new MedgeError('MEDGE_ERR_CLI_USAGE', `${message}; see 'medge demo --help'`);
}

