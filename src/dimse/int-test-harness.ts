/**
 * Test-only wiring shared by the DIMSE integration tests: a real SCP over the real ingest, blob
 * store and SQLite index in a temporary directory, and a runner for dcmtk tools with TCP_NODELAY.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MedgeConfig } from '../config/schema.js';
import { DEFAULT_CONFIG } from '../config/schema.js';
import { NodeEvents } from '../events/node-events.js';
import { createIngest } from '../ingest/ingest.js';
import { createLogger, type Logger } from '../observability/log.js';
import { MetricsRegistry } from '../observability/metrics.js';
import type { BlobStore } from '../store/blob-store.js';
import { createFsBlobStore } from '../store/fs-blob-store.js';
import { InstanceIndex, openIndexDb } from '../store/index-db.js';
import { createDimseServer, type DimseServer } from './scp.js';
import { loadRemoteAes } from './remote-aes.js';

export interface TestScp {
  server: DimseServer;
  port: number;
  /** The DICOM TLS listener's port, when `tls` was configured. */
  tlsPort: number | null;
  dir: string;
  index: InstanceIndex;
  store: BlobStore;
  events: NodeEvents;
  metrics: MetricsRegistry;
  close(): Promise<void>;
}

export async function startTestScp(overrides: Partial<MedgeConfig['dicom']> = {}, options: { log?: Logger } = {}): Promise<TestScp> {
  const dir = await mkdtemp(join(tmpdir(), 'medge-scp-'));
  const config: MedgeConfig['dicom'] = { ...DEFAULT_CONFIG.dicom, host: '127.0.0.1', port: 0, aeTitle: 'MEDGE', ...overrides };
  const events = new NodeEvents();
  const metrics = new MetricsRegistry();
  const log = options.log ?? createLogger(process.env.MEDGE_TEST_LOG ?? 'silent');
  await mkdir(join(dir, 'store'), { recursive: true });
  const index = new InstanceIndex(openIndexDb(join(dir, 'index.sqlite')));
  const store = createFsBlobStore(join(dir, 'store'));
  const ingest = createIngest({ store, index, events, metrics, log, minFreeBytes: 0 });
  const server = createDimseServer({ config, ingest, db: index.db, events, metrics, log, retrieve: { index, store, remoteAes: await loadRemoteAes(config.remoteAes) } });
  let ports;
  try {
    ports = await server.start();
  } catch (err) {
    index.db.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const { port, tlsPort } = ports;
  return {
    server,
    port,
    tlsPort,
    dir,
    index,
    store,
    events,
    metrics,
    async close() {
      await server.stop();
      index.db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ToolResult {
  code: number | null;
  output: string;
}

/** Runs a dcmtk tool with TCP_NODELAY=1 (DESIGN.md), collecting stdout and stderr together; `cwd` for tools that write where they run. */
export function runTool(cmd: string, args: string[], timeoutMs = 60_000, cwd?: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, TCP_NODELAY: '1' }, cwd });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A raw TCP peer for robustness tests: sends arbitrary bytes and reads whole PDUs back. */
export class RawPeer {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.waiter?.();
      resolve();
    }));
  }

  static connect(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next whole PDU, or undefined if the server closed first. */
  async next(): Promise<Buffer | undefined> {
    for (;;) {
      if (this.buf.length >= 6) {
        const total = 6 + this.buf.readUInt32BE(2);
        if (this.buf.length >= total) {
          const pdu = this.buf.subarray(0, total);
          this.buf = this.buf.subarray(total);
          return pdu;
        }
      }
      if (this.socket.destroyed || this.socket.readableEnded) return undefined;
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
    }
  }

  end(): void {
    this.socket.end();
  }
}
