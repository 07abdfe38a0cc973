import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, type UplinkDestinationConfig, type UplinkPolicy } from '../config/schema.js';
import { NodeEvents } from '../events/node-events.js';
import { createIngest } from '../ingest/ingest.js';
import { createLogger } from '../observability/log.js';
import { MetricsRegistry } from '../observability/metrics.js';
import { createManualClock } from '../pipeline/clock.js';
import { createMemoryBlobStore } from '../store/memory-blob-store.js';
import { InstanceIndex, openIndexDb } from '../store/index-db.js';
import { buildSentinelStudy } from '../dicom/deid/sentinel-study.js';
import { MemoryDestination } from './memory-sender.js';
import { createUplink } from './uplink.js';
import type { StoredResult } from '../pipeline/types.js';

/** A memory destination's configuration (the sender itself is the MemoryDestination). */
export function memoryDestination(id: string, policy: Partial<UplinkPolicy> = {}): UplinkDestinationConfig {
  return { id, type: 'stow-rs', baseUrl: 'http://memory.invalid/dicom-web', alertUrl: 'http://memory.invalid/alerts', policy: { what: 'results', when: 'immediate', privacy: 'identified', ...policy } };
}

/**
 * An uplink over a real in-memory index, blob store and ingest, a manual clock and memory
 * destinations, for the unit tests. `study()` stores a small sentinel study (every PHI attribute
 * holds SENTINELPHInn) through ingest as if received; `results()` stores copies as the node's own
 * results and tells the uplink, as the pipeline does.
 */
export async function uplinkHarness(destinations: UplinkDestinationConfig[], opts: { db?: ReturnType<typeof openIndexDb>; clock?: ReturnType<typeof createManualClock>; dataDir?: string; store?: ReturnType<typeof createMemoryBlobStore> } = {}) {
  const db = opts.db ?? openIndexDb(':memory:');
  const index = new InstanceIndex(db);
  const store = opts.store ?? createMemoryBlobStore();
  const events = new NodeEvents();
  const metrics = new MetricsRegistry();
  const log = createLogger('silent');
  const clock = opts.clock ?? createManualClock();
  const ingest = createIngest({ store, index, events, metrics, log, minFreeBytes: 0, now: () => clock.now() });
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'medge-uplink-unit-')));
  const memory = new Map(destinations.map((d) => [d.id, new MemoryDestination()]));
  const confirmed: { destination: string; id: number; how: string }[] = [];
  const uplink = createUplink({
    db, index, store, events, log, metrics, clock, dataDir, nodeAe: 'MEDGE', random: () => 0.5,
    config: { ...DEFAULT_CONFIG.uplink, destinations, retryInitialMs: 1000, retryMaxMs: 8000, breakerFailures: 3, breakerCoolDownMs: 5000 },
    senders: Object.fromEntries([...memory].map(([id, m]) => [id, { sender: m, alertSender: m }])),
    onConfirmed: (destination, item, how) => confirmed.push({ destination, id: item.id, how }),
  });
  let analysisId = 0;

  /** Stores a study as received from a scanner (protocol dimse); its SOP Instance UIDs. */
  async function study(slices = 2) {
    const s = buildSentinelStudy({ slices });
    for (const f of s.files) await ingest.storePart10(f, { protocol: 'dimse', callingAe: 'CT1' });
    return s;
  }

  /** Stores `n` result objects of a new analysis of `studyUid` (protocol local) and emits results-stored. */
  async function results(n = 3) {
    const s = buildSentinelStudy({ slices: n });
    const kinds = ['sr', 'seg', 'key-image'] as const;
    const stored: StoredResult[] = [];
    for (const [i, f] of s.files.entries()) {
      const out = await ingest.storePart10(f, { protocol: 'local' });
      stored.push({ kind: kinds[i % 3]!, sopInstanceUid: out.sopInstanceUid, sopClassUid: out.sopClassUid, seriesInstanceUid: out.seriesInstanceUid });
    }
    const id = ++analysisId + 1000;
    db.prepare(
      `INSERT INTO analyses (id, series_uid, study_uid, status, instance_count, last_received_at, started_at, finished_at, results)
       VALUES (?, ?, ?, 'positive', 1, ?, ?, ?, ?)`,
    ).run(id, s.seriesUid, s.studyUid, clock.now(), clock.now(), clock.now(), JSON.stringify(stored));
    events.emit('results-stored', { analysisId: id, studyInstanceUid: s.studyUid, results: stored });
    return { study: s.studyUid, series: s.seriesUid, analysisId: id, results: stored, sentinels: s.sentinels };
  }

  /** An active critical alert on the study, as the dispatcher writes it, and its event. */
  function criticalAlert(studyUid: string, seriesUid: string, change: 'raised' | 'acknowledged' = 'raised') {
    const id = `alert-${studyUid.slice(-8)}`;
    if (change === 'raised') {
      db.prepare(
        `INSERT INTO alerts (id, study_uid, series_uid, analysis_id, rule, severity, summary, created_at, dispatched_at, updated_at)
         VALUES (?, ?, ?, (SELECT max(id) FROM analyses), 'intracranial-hemorrhage', 'critical', 'Intracranial hemorrhage 12 mL, left frontal', ?, ?, ?)`,
      ).run(id, studyUid, seriesUid, clock.now(), clock.now(), clock.now());
    } else db.prepare(`UPDATE alerts SET acknowledged_at = ?, acknowledged_by = 'Dr X' WHERE id = ?`).run(clock.now(), id);
    events.emit('alert-changed', { alertId: id, studyInstanceUid: studyUid, change });
    return id;
  }

  /** Lets every forwarder work through what is due now (memory sends resolve in microtasks). */
  async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      await uplink.idle();
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Moves the manual clock by `ms` in steps, letting the forwarders act at each. */
  async function advance(ms: number, step = 250): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      clock.advance(Math.min(step, ms - t));
      await settle();
    }
  }

  const items = (destination: string) => db.prepare(`SELECT id, ref, state, attempts, priority, last_error AS lastError, done_at AS doneAt, created_at AS createdAt FROM outbox WHERE kind = 'uplink' AND destination = ? ORDER BY id`).all(destination) as { id: number; ref: string; state: string; attempts: number; priority: number; lastError: string | null; doneAt: number | null; createdAt: number }[];

  return { db, index, store, events, metrics, clock, ingest, uplink, memory, confirmed, dataDir, study, results, criticalAlert, settle, advance, items };
}
