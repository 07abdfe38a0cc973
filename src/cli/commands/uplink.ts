import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MedgeError } from '../../errors.js';
import type { UplinkStatus } from '../../uplink/uplink-status.js';
import { parseCommandArgs } from '../parse-args.js';

const HELP = `Usage: medge uplink status [--data DIR | --url URL] [--json]
       medge uplink retry ID|--all [--destination ID] [--data DIR | --url URL]

Asks a running node (its HTTP API; the port is read from DIR/ports.json) about the uplink to the
cloud PACS (docs/uplink.md).

  status   per destination: link state (up, degraded, down) and why, queue depth, age of the
           oldest waiting item, parked items with the destination's reason, bytes sent by kind
           and the reduction against the bytes received
  retry    put a parked or waiting item back (due now), or every one with --all, and close the
           destination's circuit breaker: after fixing credentials, a certificate or the archive.
           Accepted only on the node itself (loopback).

Options:
  --data DIR          the node's data directory   [./data]
  --url URL           the node's HTTP address instead, e.g. http://127.0.0.1:8080
  --destination ID    with retry --all: only this destination
  --json              status as JSON
  -h, --help          this text`;

/** `medge uplink status|retry`. */
export async function runUplink(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('uplink', argv, {
    data: { type: 'string', default: './data' },
    url: { type: 'string' },
    all: { type: 'boolean', default: false },
    destination: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  }, true);
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${HELP}\n`);
    return values.help ? 0 : 2;
  }
  const [sub, ...rest] = positionals;
  const base = values.url ? values.url.replace(/\/$/, '') : await urlFromData(values.data!);
  if (sub === 'status' && rest.length === 0) {
    const status = (await call(base, 'GET', '/api/uplink')) as UplinkStatus;
    process.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
    return status.destinations.some((d) => d.link === 'down' || d.queue.parked > 0) ? 3 : 0;
  }
  if (sub === 'retry') {
    if (values.all === (rest.length > 0)) throw new MedgeError('MEDGE_ERR_CLI_USAGE', "give one item id or --all; see 'medge uplink --help'", {});
    const id = Number(rest[0]);
    if (!values.all && !(Number.isInteger(id) && id > 0)) throw new MedgeError('MEDGE_ERR_CLI_USAGE', `an item id is a whole number, got '${rest[0]}'`, {});
    const body = values.all ? { all: true, ...(values.destination ? { destination: values.destination } : {}) } : { id };
    const answer = (await call(base, 'POST', '/api/uplink/retry', body)) as { items?: number; id?: number; destination?: string };
    process.stdout.write(values.all ? `${answer.items} item(s) due again now\n` : `item ${answer.id} (${answer.destination}) due again now\n`);
    return 0;
  }
  throw new MedgeError('MEDGE_ERR_CLI_USAGE', `unknown 'medge uplink ${positionals.join(' ')}'; see 'medge uplink --help'`, {});
}

async function urlFromData(dir: string): Promise<string> {
  const file = join(resolve(dir), 'ports.json');
  try {
    const ports = JSON.parse(await readFile(file, 'utf8')) as { http?: number };
    if (typeof ports.http !== 'number') throw new Error('no http port in it');
    return `http://127.0.0.1:${ports.http}`;
  } catch (err) {
    throw new MedgeError('MEDGE_ERR_CLI_USAGE', `cannot find the node's HTTP port in ${file} (${(err as Error).message}): is the node running with this --data, or give --url`, { file });
  }
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  } catch (err) {
    throw new MedgeError('MEDGE_ERR_CLI_USAGE', `cannot reach the node at ${base} (${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message})`, { url: base });
  }
  const answer = (await res.json().catch(() => ({}))) as { error?: { message?: string; code?: string } };
  if (!res.ok) throw new MedgeError('MEDGE_ERR_CLI_USAGE', `the node answered HTTP ${res.status}: ${answer.error?.message ?? ''} [${answer.error?.code ?? ''}]`, { status: res.status });
  return answer;
}

const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
const age = (ms: number | null) => (ms === null ? '-' : ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);

export function formatStatus(s: UplinkStatus): string {
  const lines = [`received: ${mb(s.bytesInTotal)} (${Object.entries(s.bytesIn).map(([p, b]) => `${p} ${mb(b)}`).join(', ') || 'nothing yet'})`];
  if (s.destinations.length === 0) lines.push('no uplink destination is configured (uplink.destinations)');
  for (const d of s.destinations) {
    const p = d.policy;
    lines.push('', `${d.id}  ${d.type} ${d.target}`);
    lines.push(`  policy    ${p.what}, ${p.when}${p.window ? ` ${p.window}` : ''}${p.maxBytesPerSecond ? ` cap ${mb(p.maxBytesPerSecond)}/s` : ''}, ${p.privacy}`);
    lines.push(`  link      ${d.link.toUpperCase()}${d.reason ? `: ${d.reason}` : ''}${d.nextProbeAt ? ` (next try ${d.nextProbeAt})` : ''}`);
    if (d.window) lines.push(`  window    ${d.window.open ? 'open' : `closed, opens ${d.window.nextOpenAt}`}`);
    lines.push(`  queue     ${d.queue.pending} pending (oldest ${age(d.queue.oldestPendingAgeMs)}), ${d.queue.parked} parked, ${d.queue.confirmed} confirmed${d.lastConfirmedAt ? `, last ${d.lastConfirmedAt}` : ''}`);
    const kinds = Object.entries(d.bytesOut.byKind).map(([k, b]) => `${k} ${mb(b)}`).join(', ');
    lines.push(`  sent      ${mb(d.bytesOut.total)}${kinds ? ` (${kinds})` : ''}${d.bytesOut.reductionPercent !== null ? `, reduction ${d.bytesOut.reductionPercent.toFixed(1)} %` : ''}`);
    for (const it of d.parkedItems) lines.push(`  parked #${it.id} ${it.kind} ${it.ref} after ${it.attempts} attempt(s): ${it.reason ?? '?'}`);
  }
  return `${lines.join('\n')}\n`;
}
