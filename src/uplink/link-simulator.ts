import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { LinkShaper } from './link-shaper.js';
import { LinkPipe } from './link-pipe.js';
import { LinkCapture, type LinkCaptureOptions } from './link-capture.js';

/**
 * A userspace WAN link for tests and benchmarks (the kernel here has no netem): a TCP proxy on
 * loopback that caps the rate per direction (shared by all connections, as a real line is), adds
 * a one-way propagation delay, can be cut in three ways, and records what it carried towards the
 * destination.
 */

export type LinkCutMode =
  /** The listener closes: new connections are refused (ECONNREFUSED), existing ones reset. */
  | 'refuse'
  /** Existing connections are reset, and so is every new one until restore (ECONNRESET). */
  | 'drop'
  /** Nothing is forwarded any more, connections stay open: a dead line that ends in timeouts. */
  | 'blackhole';

export interface LinkSimulatorOptions {
  target: { host: string; port: number };
  /** Rate cap per direction in bit/s; undefined or 0 = none. */
  rateBitsPerSecond?: number;
  /** One-way delay in ms (20 for a 40 ms round trip). */
  delayMs?: number;
  /** Record the bytes sent towards the target: true = in memory (bounded), or options. */
  capture?: boolean | LinkCaptureOptions;
  /** Where to listen; default 127.0.0.1, port 0 (the kernel picks one). */
  listen?: { host?: string; port?: number };
  /** Bytes queued per connection and direction before its sender is paused; default 1 MiB. */
  highWaterBytes?: number;
  log?: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

export interface LinkStats {
  /** Bytes delivered to the target (client -> server). */
  bytesUp: number;
  /** Bytes delivered to the clients (server -> client). */
  bytesDown: number;
  /** Connections accepted since start. */
  connections: number;
  /** Connections open now. */
  active: number;
  cut: LinkCutMode | null;
}

export interface LinkSimulator {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` + path. */
  url(path?: string): string;
  cut(mode: LinkCutMode): Promise<void>;
  restore(): Promise<void>;
  /** bit/s; undefined or 0 removes the cap. Applies to both directions. */
  setRate(rateBitsPerSecond: number | undefined): void;
  /** One-way delay in ms for chunks offered from now on. */
  setDelay(delayMs: number): void;
  /** Client -> server bytes carried (each connection contiguous); empty without `capture`. */
  captured(): Buffer;
  capturedConnections(): Buffer[];
  /** True when the in-memory capture ran past its bound. */
  captureTruncated(): boolean;
  stats(): LinkStats;
  close(): Promise<void>;
}

interface Connection {
  id: number;
  client: Socket;
  target?: Socket;
  pipes: LinkPipe[];
}

export async function createLinkSimulator(options: LinkSimulatorOptions): Promise<LinkSimulator> {
  const up = new LinkShaper(options.rateBitsPerSecond);
  const down = new LinkShaper(options.rateBitsPerSecond);
  let delayMs = options.delayMs ?? 0;
  const capture = options.capture ? new LinkCapture(options.capture === true ? {} : options.capture) : undefined;
  const highWaterBytes = options.highWaterBytes ?? 1024 * 1024;
  const now = () => performance.now();
  const open = new Set<Connection>();
  const waiting = new Set<Connection>();
  const counters = { bytesUp: 0, bytesDown: 0, connections: 0 };
  let cutMode: LinkCutMode | null = null;
  let nextId = 1;

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    counters.connections++;
    const conn: Connection = { id: nextId++, client, pipes: [] };
    client.setNoDelay(true);
    client.on('error', () => destroy(conn));
    client.on('close', () => forget(conn));
    open.add(conn);
    if (cutMode === 'drop' || cutMode === 'refuse') return destroy(conn);
    if (cutMode === 'blackhole') waiting.add(conn);
    else wire(conn);
  });

  /** Connects `conn` to the target and starts both pipes. */
  function wire(conn: Connection): void {
    const target = connect({ host: options.target.host, port: options.target.port, allowHalfOpen: true });
    target.setNoDelay(true);
    conn.target = target;
    target.on('error', (err) => {
      options.log?.debug({ conn: conn.id, err: err.message }, 'link simulator: target connection failed');
      destroy(conn);
    });
    target.on('close', () => forget(conn));
    const upPipe = new LinkPipe({
      source: conn.client, dest: target, shaper: up, delayMs: () => delayMs, now, highWaterBytes,
      onForward: (chunk) => {
        counters.bytesUp += chunk.length;
        capture?.append(conn.id, chunk);
      },
    });
    const downPipe = new LinkPipe({
      source: target, dest: conn.client, shaper: down, delayMs: () => delayMs, now, highWaterBytes,
      onForward: (chunk) => (counters.bytesDown += chunk.length),
    });
    conn.pipes = [upPipe, downPipe];
    conn.client.resume();
  }

  /** A clean close (FIN both ways, passed on by the pipes): forgotten once both sockets are gone. */
  function forget(conn: Connection): void {
    if (!conn.client.destroyed || (conn.target && !conn.target.destroyed)) return;
    open.delete(conn);
    waiting.delete(conn);
    for (const p of conn.pipes) p.close();
  }

  /** A broken connection: both sides are reset. */
  function destroy(conn: Connection): void {
    if (!open.delete(conn)) return;
    waiting.delete(conn);
    for (const p of conn.pipes) p.close();
    // A reset, not a FIN: the far end must see a broken connection, not a clean end of stream.
    if (!conn.client.destroyed) conn.client.resetAndDestroy();
    if (conn.target && !conn.target.destroyed) conn.target.resetAndDestroy();
  }

  const listenHost = options.listen?.host ?? '127.0.0.1';
  server.listen({ host: listenHost, port: options.listen?.port ?? 0 });
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('link simulator: listener has no TCP address');
  const port = address.port;
  options.log?.info({ port, target: options.target, rate: options.rateBitsPerSecond, delayMs }, 'link simulator listening');

  async function closeListener(): Promise<void> {
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // close() waits for open connections; they are reset by the caller right after.
    });
  }

  const link: LinkSimulator = {
    host: listenHost,
    port,
    url: (path = '') => `http://${listenHost}:${port}${path}`,
    async cut(mode) {
      if (cutMode) await link.restore();
      cutMode = mode;
      options.log?.info({ mode }, 'link simulator: link cut');
      if (mode === 'blackhole') {
        for (const conn of open) for (const p of conn.pipes) p.hold();
        return;
      }
      const closing = mode === 'refuse' ? closeListener() : Promise.resolve();
      for (const conn of [...open]) destroy(conn);
      await closing;
    },
    async restore() {
      const was = cutMode;
      cutMode = null;
      if (was === null) return;
      options.log?.info({ was }, 'link simulator: link restored');
      if (was === 'refuse') {
        server.listen({ host: listenHost, port });
        await once(server, 'listening');
      } else if (was === 'blackhole') {
        for (const conn of open) for (const p of conn.pipes) p.release();
        for (const conn of [...waiting]) {
          waiting.delete(conn);
          wire(conn);
        }
      }
    },
    setRate(rate) {
      up.setRate(rate);
      down.setRate(rate);
    },
    setDelay(ms) {
      if (!(ms >= 0)) throw new RangeError(`link delay must be >= 0 ms, got ${ms}`);
      delayMs = ms;
    },
    captured: () => capture?.all() ?? Buffer.alloc(0),
    capturedConnections: () => capture?.connections() ?? [],
    captureTruncated: () => capture?.truncated ?? false,
    stats: () => ({ ...counters, active: open.size, cut: cutMode }),
    async close() {
      cutMode = 'refuse';
      const closing = closeListener();
      for (const conn of [...open]) destroy(conn);
      await closing;
      await capture?.close();
    },
  };
  return link;
}
