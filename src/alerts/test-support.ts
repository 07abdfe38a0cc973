import type { Db } from '../store/index-db.js';
import type { ReportedFinding } from '../analyzers/offline.js';
import type { AnalysisRecord } from '../pipeline/types.js';
import type { AnalysisStatus } from '../analyzers/types.js';
import { openIndexDb } from '../store/index-db.js';
import { NodeEvents } from '../events/node-events.js';
import { MetricsRegistry } from '../observability/metrics.js';
import { createLogger } from '../observability/log.js';
import { DEFAULT_CONFIG, type MedgeConfig } from '../config/schema.js';
import { createManualClock, type ManualClock } from './clock.js';
import { RecordingChannel } from './channels/recording.js';
import { createAlertDispatcher } from './dispatcher.js';
import type { AlertChannel } from './types.js';

/**
 * Rows the pipeline and ingest would write, for the alert and API tests: a patient, a study, a
 * series with instances, and analyses (the pipeline's `analyses` table, migration 2).
 */

export function seedSeries(
  db: Db,
  opts: { study: string; series: string; at: number; instances?: number; patientName?: string; patientId?: string; protocol?: string; description?: string },
): void {
  const patientId = opts.patientId ?? 'PID-1';
  db.prepare(`INSERT OR IGNORE INTO patients (patient_id, issuer, patient_name, birth_date, sex) VALUES (?, '', ?, '19500101', 'F')`).run(patientId, opts.patientName ?? 'DOE^JANE');
  const pk = (db.prepare(`SELECT pk FROM patients WHERE patient_id = ?`).get(patientId) as { pk: number }).pk;
  db.prepare(
    `INSERT INTO studies (study_uid, patient_pk, study_date, study_time, accession_number, description, first_received_at, last_received_at)
     VALUES (?, ?, '20261128', '101500', 'ACC1', ?, ?, ?) ON CONFLICT (study_uid) DO UPDATE SET last_received_at = max(last_received_at, excluded.last_received_at)`,
  ).run(opts.study, pk, opts.description ?? 'CT HEAD', opts.at, opts.at + (opts.instances ?? 3));
  db.prepare(
    `INSERT INTO series (series_uid, study_uid, modality, series_number, description, first_received_at, last_received_at)
     VALUES (?, ?, 'CT', '2', 'AX 5mm', ?, ?) ON CONFLICT DO NOTHING`,
  ).run(opts.series, opts.study, opts.at, opts.at + (opts.instances ?? 3));
  const insert = db.prepare(
    `INSERT INTO instances (sop_uid, series_uid, sop_class_uid, instance_number, transfer_syntax_uid, blob_key, size, dataset_offset, received_at, protocol)
     VALUES (?, ?, '1.2.840.10008.5.1.4.1.1.2', ?, '1.2.840.10008.1.2.1', ?, 1000, 132, ?, ?)`,
  );
  const base = (db.prepare(`SELECT count(*) AS n FROM instances WHERE series_uid = ?`).get(opts.series) as { n: number }).n;
  for (let i = 0; i < (opts.instances ?? 3); i++) {
    const uid = `${opts.series}.${base + i + 1}`;
    insert.run(uid, opts.series, String(base + i + 1), `blob/${uid}`, opts.at + i, opts.protocol ?? 'dimse');
  }
}

export function ich(volumeMl: number, region = 'frontal'): ReportedFinding {
  return { type: 'intracranial-hemorrhage', subtype: 'intraparenchymal', side: 'left', region, volumeMl, centroidMm: [10, 20, 30], sliceRange: [4, 9], confidence: 0.9 };
}

/** Records an analysis as the pipeline does (marking the one it supersedes) and returns its record. */
export function recordAnalysis(
  db: Db,
  opts: { study: string; series: string; status: AnalysisStatus; findings?: ReportedFinding[]; at: number; lastReceivedAt?: number },
): AnalysisRecord {
  const prior = db.prepare(`SELECT id FROM analyses WHERE series_uid = ? AND superseded_by IS NULL`).get(opts.series) as { id: number } | undefined;
  const findings = opts.findings ?? [];
  const lastReceivedAt = opts.lastReceivedAt ?? opts.at - 1000;
  const info = db
    .prepare(
      `INSERT INTO analyses (series_uid, study_uid, analyzer_id, analyzer_version, status, findings, instance_count, last_received_at,
                             ready_at, ready_trigger, started_at, finished_at, elapsed_ms)
       VALUES (?, ?, 'ich', '1.0.0', ?, ?, 3, ?, ?, 'association-released', ?, ?, 300)`,
    )
    .run(opts.series, opts.study, opts.status, JSON.stringify(findings), lastReceivedAt, lastReceivedAt + 100, opts.at - 300, opts.at);
  const id = Number(info.lastInsertRowid);
  if (prior) db.prepare(`UPDATE analyses SET superseded_by = ? WHERE id = ?`).run(id, prior.id);
  return {
    id, studyInstanceUid: opts.study, seriesInstanceUid: opts.series, analyzerId: 'ich', analyzerVersion: '1.0.0', status: opts.status,
    findings, instanceCount: 3, lastReceivedAt, readyAt: lastReceivedAt + 100, readyTrigger: 'association-released',
    startedAt: opts.at - 300, finishedAt: opts.at, elapsedMs: 300, priority: 0, ...(prior ? { supersedes: prior.id } : {}),
  };
}

export const STUDY = '1.2.826.0.1.3680043.10.1.1';
export const AX = `${STUDY}.1`;
export const COR = `${STUDY}.2`;

/** A dispatcher over an in-memory index with recording channels (one per tier given) and a manual clock. */
export function dispatcherHarness(config: Partial<MedgeConfig['alerts']> = {}, tiers: number[] = [0], opts: { db?: Db; clock?: ManualClock; seed?: boolean; events?: NodeEvents; extraChannels?: AlertChannel[] } = {}) {
  const db = opts.db ?? openIndexDb(':memory:');
  const events = opts.events ?? new NodeEvents();
  const clock = opts.clock ?? createManualClock();
  const metrics = new MetricsRegistry();
  const channels = tiers.map((tier, i) => new RecordingChannel(`rec${i}`, tier, () => clock.now()));
  const changes: string[] = [];
  events.on('alert-changed', (c) => changes.push(c.channel ? `${c.change}:${c.channel}` : c.change));
  const dispatcher = createAlertDispatcher({
    db, events, channels: [...(opts.extraChannels ?? []), ...channels], clock, metrics, log: createLogger('silent'), random: () => 0.5,
    config: { ...DEFAULT_CONFIG.alerts, retryInitialMs: 1000, retryMaxMs: 8000, ...config },
  });
  if (opts.seed !== false) {
    seedSeries(db, { study: STUDY, series: AX, at: clock.now() - 5000 });
    seedSeries(db, { study: STUDY, series: COR, at: clock.now() - 5000 });
  }
  const analyse = (series: string, status: 'positive' | 'negative', volumes: number[] = []) => {
    const a = recordAnalysis(db, { study: STUDY, series, status, findings: volumes.map((v) => ich(v)), at: clock.now(), lastReceivedAt: clock.now() - 700 });
    events.emit('analysis-finished', a);
    return a;
  };
  return { db, events, clock, metrics, channels, changes, dispatcher, analyse };
}

