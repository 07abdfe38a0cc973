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
import { el, tag, writePart10 } from '../dicom/dataset-writer.js';
import { TS } from '../dicom/uids.js';

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
  const header = writePart10({ mediaStorageSopClassUid: sopClass, mediaStorageSopInstanceUid: uids.sop, transferSyntaxUid: TS.ExplicitVRLittleEndian }, [
    el(tag(0x0008, 0x0016), 'UI', sopClass),
    el(tag(0x0008, 0x0018), 'UI', uids.sop),
    el(tag(0x0008, 0x0060), 'CS', 'OT'),
    el(tag(0x0010, 0x0020), 'LO', 'SYNTH-LARGE'),
    el(tag(0x0020, 0x000d), 'UI', uids.study),
    el(tag(0x0020, 0x000e), 'UI', uids.series),
    el(tag(0x0020, 0x0013), 'IS', 1),
    el(tag(0x0028, 0x0002), 'US', 1),
    el(tag(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    el(tag(0x0028, 0x0008), 'IS', frames),
    el(tag(0x0028, 0x0010), 'US', rows),
    el(tag(0x0028, 0x0011), 'US', columns),
    el(tag(0x0028, 0x0100), 'US', 16),
    el(tag(0x0028, 0x0101), 'US', 12),
    el(tag(0x0028, 0x0102), 'US', 11),
    el(tag(0x0028, 0x0103), 'US', 0),
  ]);
  // Pixel Data's element header alone (PS3.5 7.1.2: OW, 2 reserved bytes, 4-byte length): the
  // frames are streamed after it, never held in memory.
  const pixelHeader = Buffer.alloc(12);
  pixelHeader.writeUInt16LE(0x7fe0, 0);
  pixelHeader.writeUInt16LE(0x0010, 2);
  pixelHeader.write('OW', 4, 'latin1');
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
