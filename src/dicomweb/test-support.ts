/**
 * Helpers for the DICOMweb integration tests only: a running app on port 0 over a real fs store
 * and the real ingest, curl as the client, and multipart/related bodies written to temp files.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../http/app.js';
import { createIngest } from '../ingest/ingest.js';
import { NodeEvents } from '../events/node-events.js';
import { MetricsRegistry } from '../observability/metrics.js';
import { createFsBlobStore } from '../store/fs-blob-store.js';
import { InstanceIndex, openIndexDb } from '../store/index-db.js';
import type { BlobStore } from '../store/blob-store.js';
import { buildFileMeta } from '../dicom/part10.js';

const run = promisify(execFile);

export interface TestApp {
  app: FastifyInstance;
  baseUrl: string;
  index: InstanceIndex;
  store: BlobStore;
  dir: string;
  close(): Promise<void>;
}

export async function startTestApp(options: { minFreeBytes?: number } = {}): Promise<TestApp> {
  const dir = await mkdtemp(join(tmpdir(), 'medge-dicomweb-'));
  await mkdir(join(dir, 'store'));
  const store = createFsBlobStore(join(dir, 'store'));
  const index = new InstanceIndex(openIndexDb(join(dir, 'index.sqlite')));
  const metrics = new MetricsRegistry();
  const log = pino({ level: process.env.MEDGE_TEST_LOG ?? 'silent' });
  const ingest = createIngest({ store, index, events: new NodeEvents(), metrics, log, minFreeBytes: options.minFreeBytes ?? 0 });
  const app = createHttpApp({ ingest, db: index.db, index, store, metrics, log, health: () => ({ status: 'ok' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    index,
    store,
    dir,
    async close() {
      await app.close();
      index.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface CurlResult {
  status: number;
  body: Buffer;
  contentType: string;
  json(): any;
}

/** Runs curl and returns the status, the Content-Type and the body (headers via -w). */
export async function curl(args: string[], dir: string): Promise<CurlResult> {
  const out = join(dir, `curl-${process.hrtime.bigint()}.out`);
  const { stdout } = await run('curl', ['-sS', '-o', out, '-w', '%{http_code} %{content_type}', ...args], { maxBuffer: 1 << 20 });
  const [code, ...ct] = stdout.trim().split(' ');
  const body = await readFile(out);
  await rm(out, { force: true });
  return { status: Number(code), contentType: ct.join(' '), body, json: () => JSON.parse(body.toString('utf8')) };
}

export function stowArgs(url: string, bodyFile: string, boundary: string, contentType?: string): string[] {
  const ct = contentType ?? `multipart/related; type="application/dicom"; boundary=${boundary}`;
  return ['-X', 'POST', '-H', `Content-Type: ${ct}`, '-H', 'Accept: application/dicom+json', '--data-binary', `@${bodyFile}`, url];
}

export type BodyPart = { type: string; bytes: Buffer } | { type: string; file: string };

/** Writes a multipart/related body to `file`, streaming files in (CRLF line ends, as Orthanc sends). */
export async function writeMultipart(file: string, boundary: string, parts: BodyPart[]): Promise<void> {
  const out = createWriteStream(file);
  const write = async (b: Buffer | string) => {
    if (!out.write(b)) await once(out, 'drain');
  };
  for (const part of parts) {
    await write(`--${boundary}\r\nContent-Type: ${part.type}\r\n\r\n`);
    if ('bytes' in part) await write(part.bytes);
    else await write(await readFile(part.file));
    await write('\r\n');
  }
  await write(`--${boundary}--\r\n`);
  out.end();
  await once(out, 'finish');
}

/**
 * Writes a synthetic multi-frame Part 10 file (Multi-frame Grayscale Word Secondary Capture,
 * PS3.3 A.8.4) of about `pixelBytes` of pixel data, as the body of a one-part STOW request, without
 * ever holding the pixel data in memory. Returns the SOP and study UIDs.
 */
export async function writeLargeStowBody(file: string, boundary: string, pixelBytes: number, uids: { study: string; series: string; sop: string }): Promise<void> {
  const rows = 512;
  const columns = 512;
  const frameBytes = rows * columns * 2;
  const frames = Math.max(1, Math.floor(pixelBytes / frameBytes));
  const sopClass = '1.2.840.10008.5.1.4.1.1.7.3';
  const el = (group: number, element: number, vr: string, value: Buffer): Buffer => {
    const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
    const h = Buffer.alloc(long ? 12 : 8);
    h.writeUInt16LE(group, 0);
    h.writeUInt16LE(element, 2);
    h.write(vr, 4, 'latin1');
    if (long) h.writeUInt32LE(value.length, 8);
    else h.writeUInt16LE(value.length, 6);
    return Buffer.concat([h, value]);
  };
  const str = (s: string, pad = ' ') => Buffer.from(s.length % 2 ? s + pad : s, 'latin1');
  const us = (n: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(n);
    return b;
  };
  const header = Buffer.concat([
    buildFileMeta({ mediaStorageSopClassUid: sopClass, mediaStorageSopInstanceUid: uids.sop, transferSyntaxUid: '1.2.840.10008.1.2.1' }),
    el(0x0008, 0x0016, 'UI', str(sopClass, '\0')),
    el(0x0008, 0x0018, 'UI', str(uids.sop, '\0')),
    el(0x0008, 0x0060, 'CS', str('OT')),
    el(0x0010, 0x0020, 'LO', str('SYNTH-LARGE')),
    el(0x0020, 0x000d, 'UI', str(uids.study, '\0')),
    el(0x0020, 0x000e, 'UI', str(uids.series, '\0')),
    el(0x0020, 0x0013, 'IS', str('1')),
    el(0x0028, 0x0002, 'US', us(1)),
    el(0x0028, 0x0004, 'CS', str('MONOCHROME2')),
    el(0x0028, 0x0008, 'IS', str(String(frames))),
    el(0x0028, 0x0010, 'US', us(rows)),
    el(0x0028, 0x0011, 'US', us(columns)),
    el(0x0028, 0x0100, 'US', us(16)),
    el(0x0028, 0x0101, 'US', us(12)),
    el(0x0028, 0x0102, 'US', us(11)),
    el(0x0028, 0x0103, 'US', us(0)),
  ]);
  const pixelHeader = el(0x7fe0, 0x0010, 'OW', Buffer.alloc(0));
  pixelHeader.writeUInt32LE(frames * frameBytes, 8);

  const out = createWriteStream(file);
  const write = async (b: Buffer | string) => {
    if (!out.write(b)) await once(out, 'drain');
  };
  await write(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
  await write(header);
  await write(pixelHeader);
  const frame = Buffer.alloc(frameBytes, 0x11);
  for (let i = 0; i < frames; i++) await write(frame);
  await write(`\r\n--${boundary}--\r\n`);
  out.end();
  await once(out, 'finish');
}
