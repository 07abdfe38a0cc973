import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from './app.js';
import { createIngest } from '../ingest/ingest.js';
import { InstanceIndex } from '../store/index-db.js';
import { createMemoryBlobStore } from '../store/memory-blob-store.js';
import { NodeEvents } from '../events/node-events.js';
import { DashboardHub } from '../alerts/channels/dashboard.js';
import { dispatcherHarness } from '../alerts/test-support.js';
import { createManualClock } from '../alerts/clock.js';
import type { MedgeConfig } from '../config/schema.js';
import { StudyRemover } from '../store/study-removal.js';

/**
 * The HTTP app over the real dispatcher, dashboard hub and an in-memory index, for the API tests
 * (fastify inject, or a real listener for the event stream).
 */
export function apiHarness(config: Partial<MedgeConfig['alerts']> = {}, users: MedgeConfig['http']['users'] = []): ReturnType<typeof dispatcherHarness> & { app: FastifyInstance; hub: DashboardHub } {
  const log = pino({ level: process.env.MEDGE_TEST_LOG ?? 'silent' });
  const events = new NodeEvents();
  const clock = createManualClock();
  const hub = new DashboardHub({ events, log, clock });
  const h = dispatcherHarness(config, [0], { events, clock, extraChannels: [hub] });
  const index = new InstanceIndex(h.db);
  const store = createMemoryBlobStore();
  const ingest = createIngest({ store, index, events, metrics: h.metrics, log, minFreeBytes: 0 });
  const remover = new StudyRemover({ db: h.db, index, store, log, onRemoved: (removed) => events.emit('study-removed', removed) });
  const app = createHttpApp({ ingest, db: h.db, index, store, metrics: h.metrics, log, health: () => ({ status: 'ok' }), alerts: h.dispatcher, dashboard: hub, remover, users });
  return { ...h, app, hub };
}
