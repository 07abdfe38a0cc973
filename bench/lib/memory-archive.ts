/**
 * A STOW-RS archive much faster than Orthanc, for the uplink benchmark's backlog (issue 5): medge's
 * own HTTP app and ingest (the real STOW-RS routes, PS3.18 10.5) over the in-memory blob store and
 * an in-memory SQLite index, in a process of its own so that it does not share the event loop of
 * the benchmark (which runs the link simulator). It tells the benchmark how many times each SOP
 * Instance UID was received (a duplicate counts, so "exactly once" is checked at the archive).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createHttpApp } from '../../src/http/app.js';
import { createIngest } from '../../src/ingest/ingest.js';
import type { Ingest, IngestSession } from '../../src/ingest/types.js';
import { NodeEvents } from '../../src/events/node-events.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { createMemoryBlobStore } from '../../src/store/memory-blob-store.js';
import { InstanceIndex, openIndexDb } from '../../src/store/index-db.js';

export interface MemoryArchive {
  port: number;
  /** SOP Instance UID -> how many times a STOW-RS request carried it (stored or duplicate). */
  received(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

type Reply = { port: number } | { received: [string, number][] };

export async function startMemoryArchive(): Promise<MemoryArchive> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = async (): Promise<Reply> => (await once(child, 'message'))[0] as Reply;
  const { port } = (await next()) as { port: number };
  return {
    port,
    async received() {
      const reply = next();
      child.send('received');
      return new Map(((await reply) as { received: [string, number][] }).received);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serve(): Promise<void> {
  const store = createMemoryBlobStore();
  const index = new InstanceIndex(openIndexDb(':memory:'));
  const metrics = new MetricsRegistry();
  const log = pino({ level: 'silent' });
  const inner = createIngest({ store, index, events: new NodeEvents(), metrics, log, minFreeBytes: 0 });
  const counts = new Map<string, number>();
  const counted = (s: IngestSession): IngestSession => ({
    write: (c) => s.write(c),
    writev: (c) => s.writev(c),
    abort: () => s.abort(),
    async finish() {
      const outcome = await s.finish();
      counts.set(outcome.sopInstanceUid, (counts.get(outcome.sopInstanceUid) ?? 0) + 1);
      return outcome;
    },
  });
  const ingest: Ingest = {
    beginPart10: async (ctx) => counted(await inner.beginPart10(ctx)),
    beginDataset: async (meta, ctx) => counted(await inner.beginDataset(meta, ctx)),
    storePart10: (bytes, ctx) => inner.storePart10(bytes, ctx),
    publishingSince: () => inner.publishingSince(),
  };
  const app = createHttpApp({ ingest, db: index.db, index, store, metrics, log, health: () => ({ status: 'ok' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.on('message', (m) => m === 'received' && process.send!({ received: [...counts] }));
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
}

if (process.argv[2] === '--serve') {
  serve().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
