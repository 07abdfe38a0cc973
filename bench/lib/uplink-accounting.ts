import { readIndex } from '../../src/uplink/int-test-support.js';
import { orthancJson, type OrthancInstance } from '../../test/helpers/orthanc.js';
import type { Thickness } from './uplink-study-set.js';

/**
 * Bytes received and sent per reconstruction (thick, thin) for the uplink benchmark, so that a
 * ratio over the whole set cannot hide how one kind of series does. Received: the instances'
 * sizes in the node's index. Sent: per confirmed outbox item, what the destination holds (Orthanc's
 * FileSize of the SOP Instance: the file as it was sent, compressed or not), the received size of
 * a forwarded instance, the alert notice's JSON; each counted under the series it derives from
 * (a result under the series its analysis read). Items of series the benchmark did not send (none
 * in a clean run) count in 'all' only.
 */

/** Bytes per group: 'all', 'thick', 'thin', and 'thick+bleed', 'thin+bleed' (the series of the studies with a bleed). */
export type ByGroup = Record<string, number>;

/** What the benchmark knows of each series it sent. */
export interface SeriesInfo {
  thickness: Thickness;
  positive: boolean;
}

function add(out: ByGroup, info: SeriesInfo | undefined, bytes: number): void {
  const groups = ['all', ...(info ? [info.thickness, ...(info.positive ? [`${info.thickness}+bleed`] : [])] : [])];
  for (const g of groups) out[g] = (out[g] ?? 0) + bytes;
}

export function receivedByGroup(dataDir: string, seriesInfo: Map<string, SeriesInfo>): ByGroup {
  const out: ByGroup = {};
  for (const r of readIndex<{ series: string; bytes: number }>(dataDir, `SELECT series_uid AS series, sum(size) AS bytes FROM instances WHERE protocol != 'local' GROUP BY series_uid`)) {
    if (seriesInfo.has(r.series)) add(out, seriesInfo.get(r.series), r.bytes);
  }
  return out;
}

async function orthancFileSize(orthanc: OrthancInstance, sop: string): Promise<number> {
  const found = await orthancJson<{ ID: string; Type: string }[]>(orthanc.httpUrl, '/tools/lookup', { method: 'POST', body: sop, headers: orthanc.authHeaders });
  const id = found.find((f) => f.Type === 'Instance')?.ID;
  if (!id) throw new Error(`instance ${sop} is not at Orthanc`);
  return (await orthancJson<{ FileSize: number }>(orthanc.httpUrl, `/instances/${id}`, { headers: orthanc.authHeaders })).FileSize;
}

export async function sentByGroup(o: { dataDir: string; destination: string; orthanc: OrthancInstance; seriesInfo: Map<string, SeriesInfo>; alertBodies: string[] }): Promise<ByGroup> {
  const out: ByGroup = {};
  const items = readIndex<{ ref: string; kind: string; series: string; source: string | null; size: number | null }>(o.dataDir,
    `SELECT o.ref, json_extract(o.payload, '$.kind') AS kind, json_extract(o.payload, '$.series') AS series, a.series_uid AS source, i.size AS size
     FROM outbox o LEFT JOIN analyses a ON a.id = json_extract(o.payload, '$.analysisId') LEFT JOIN instances i ON i.sop_uid = o.ref
     WHERE o.kind = 'uplink' AND o.destination = ? AND o.state = 'done'`, o.destination);
  const alerts = new Map(o.alertBodies.map((b) => {
    const doc = JSON.parse(b) as { alertId: string; revision: number; change: string };
    return [`alert:${doc.alertId}:r${doc.revision}:${doc.change}`, Buffer.byteLength(b)];
  }));
  for (const item of items) {
    let bytes: number;
    let series: string;
    if (item.kind === 'alert') [bytes, series] = [alerts.get(item.ref) ?? 0, item.series];
    else if (item.kind === 'instance') [bytes, series] = [item.size ?? 0, item.series];
    else [bytes, series] = [await orthancFileSize(o.orthanc, item.ref), item.source ?? ''];
    add(out, o.seriesInfo.get(series), bytes);
  }
  return out;
}
