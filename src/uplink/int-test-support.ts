import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { renderHeadPhantom } from '../phantom/render.js';
import { writePhantomSeries } from '../phantom/write-series.js';
import { storeFiles } from '../dimse/scu.js';
import { reissueSeries } from '../../bench/lib/reissue-uids.js';
import { orthancJson, type OrthancInstance } from '../../test/helpers/orthanc.js';

export const run = promisify(execFile);

/**
 * Small head CT phantoms for the uplink's integration tests and benchmark: 20 slices of 5 mm at
 * 192 x 192 (1.2 mm pixels, fine enough for the ICH analyzer), with a 15 mL bleed or without;
 * about 1.5 MB and 0.3 to 0.5 s of analysis each on this machine.
 */
export async function writePhantoms(dir: string, opts: { rows?: number; slices?: number } = {}): Promise<{ pos: string; neg: string }> {
  const out = { pos: join(dir, 'template-pos'), neg: join(dir, 'template-neg') };
  const rows = opts.rows ?? 192;
  for (const [key, bleeds] of [['pos', [{ subtype: 'intraparenchymal' as const, volumeMl: 15, location: 'basal-ganglia' as const }]], ['neg', []]] as const) {
    const { volume, truth } = renderHeadPhantom({ seed: 3, rows, columns: rows, pixelSpacing: (192 * 1.2) / rows, sliceThickness: 5, coverageMm: (opts.slices ?? 20) * 5, bleeds: [...bleeds] });
    await writePhantomSeries(volume, truth, { dir: out[key], intercept: -1024 });
  }
  return out;
}

/** A new study (new UIDs, same bytes otherwise) from a template series. */
export async function newStudy(template: string, dir: string, n: number) {
  return reissueSeries(template, join(dir, `study-${n}`), n);
}

/** C-STOREs files to a node with medge's own SCU (one association); throws when one fails. */
export async function sendTo(port: number, files: string[]): Promise<void> {
  const { summary, results } = await storeFiles({ host: '127.0.0.1', port, calledAe: 'MEDGE', callingAe: 'CT1', files });
  if (summary.failed > 0) throw new Error(`C-STORE to the node failed: ${results.find((r) => !r.ok)?.error?.message}`);
}

/** Writes a medge configuration file with these uplink destinations and test-friendly timings. */
export async function writeConfig(dir: string, destinations: unknown[], uplink: Record<string, unknown> = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'medge.yaml');
  const config = {
    log: { level: 'warn' },
    pipeline: { quietMs: 1000, geometrySettleMs: 300 },
    uplink: { retryInitialMs: 200, retryMaxMs: 2000, breakerFailures: 3, breakerCoolDownMs: 500, ...uplink, destinations },
  };
  await writeFile(file, stringify(config));
  return file;
}

/** The node's index, read-only while the node runs (WAL). */
export function readIndex<T>(dataDir: string, sql: string, ...args: unknown[]): T[] {
  const db = new Database(join(dataDir, 'index.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(everyMs);
  }
}

/** How many instances with this SOP Instance UID the Orthanc holds, asked with QIDO-RS (PS3.18 10.6). */
export async function qidoCount(orthanc: OrthancInstance, sop: string): Promise<number> {
  const list = await orthancJson<unknown[]>(orthanc.httpUrl, `/dicom-web/instances?SOPInstanceUID=${sop}`, { headers: orthanc.authHeaders });
  return (list ?? []).length;
}

/** The node's uplink status, as GET /api/uplink answers it. */
export async function uplinkStatus(httpUrl: string): Promise<{ destinations: { id: string; link: string; reason: string | null; queue: { pending: number; parked: number; confirmed: number }; parkedItems: { reason: string | null }[]; bytesOut: { total: number; byKind: Record<string, number>; reductionPercent: number | null } }[]; bytesInTotal: number }> {
  const res = await fetch(`${httpUrl}/api/uplink`);
  return (await res.json()) as never;
}
