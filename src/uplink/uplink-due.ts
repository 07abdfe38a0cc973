import type { UplinkDestinationConfig } from '../config/schema.js';
import type { IngestContext, IngestOutcome } from '../ingest/types.js';
import type { Logger } from '../observability/log.js';
import type { StoredResult } from '../pipeline/types.js';
import type { Clock } from '../pipeline/clock.js';
import type { Db } from '../store/index-db.js';
import { alertRef, UPLINK_KIND, type AlertPayload, type InstancePayload } from './uplink-item.js';
import type { UplinkQueue } from './uplink-queue.js';

/** Alert changes a destination is told of (escalations and deliveries are the node's own business). */
const SENT_CHANGES: ReadonlySet<string> = new Set(['raised', 'updated', 'retracted', 'acknowledged']);

export interface UplinkDueDeps {
  db: Db;
  queue: UplinkQueue;
  destinations: readonly UplinkDestinationConfig[];
  clock: Clock;
  log: Logger;
  /** Called after items were added (the forwarders wake up). */
  onEnqueued?(destinations: string[]): void;
}

export interface UplinkDue {
  resultsStored(info: { analysisId: number; studyInstanceUid: string; results: StoredResult[] }): void;
  instanceStored(outcome: IngestOutcome, ctx: IngestContext): void;
  alertChanged(info: { alertId: string; studyInstanceUid: string; change: string }): void;
  /**
   * At start: records new destinations (what became due before a destination was configured is
   * never sent to it), then enqueues whatever became due while the node was down or between a fact
   * and its event (results stored, instances received, alert changes), and sets every pending
   * item's priority from the alerts as they are now. Idempotent. Returns the items added.
   */
  reconcile(): number;
}

/** Whether the destination is told of alerts: results+alerts always, full-study when it has an alertUrl. */
export function sendsAlerts(d: UplinkDestinationConfig): boolean {
  return d.policy.what === 'results+alerts' || (d.policy.what === 'full-study' && d.alertUrl !== undefined);
}

/**
 * Decides what becomes due for which destination (issue 5, "what"): each result object on
 * 'results-stored'; each received instance for full-study; each alert change for destinations
 * told of alerts. The facts themselves are committed by other parts (the pipeline, ingest, the
 * dispatcher) before their events: the enqueue follows in the same tick, and reconcile() at start
 * repairs a crash in between (docs/uplink.md, "Guarantees").
 */
export function createUplinkDue(deps: UplinkDueDeps): UplinkDue {
  const { db, queue, destinations, clock, log } = deps;
  const fullStudy = destinations.filter((d) => d.policy.what === 'full-study');
  const alerting = destinations.filter(sendsAlerts);
  const s = {
    register: db.prepare(`INSERT INTO uplink_destinations (id, added_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`),
    addedAt: db.prepare(`SELECT added_at FROM uplink_destinations WHERE id = ?`).pluck(),
    analyses: db.prepare(`SELECT id, study_uid AS study, results FROM analyses WHERE results IS NOT NULL AND finished_at >= ?`),
    missingInstances: db.prepare(
      `SELECT i.sop_uid AS sop, i.sop_class_uid AS sopClass, i.series_uid AS series, s.study_uid AS study
       FROM instances i JOIN series s ON s.series_uid = i.series_uid
       WHERE i.protocol != 'local' AND i.received_at >= ?
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = '${UPLINK_KIND}' AND o.destination = ? AND o.ref = i.sop_uid)`,
    ),
    alert: db.prepare(`SELECT id, study_uid, series_uid, rule, severity, state, revision, summary, updated_at, acknowledged_at FROM alerts WHERE id = ?`),
    alertsSince: db.prepare(`SELECT id, study_uid, series_uid, rule, severity, state, revision, summary, updated_at, acknowledged_at FROM alerts WHERE updated_at >= ? OR acknowledged_at >= ?`),
    reprioritiseAll: db.prepare(
      `UPDATE outbox SET priority = CASE
         WHEN EXISTS (SELECT 1 FROM alerts a WHERE a.study_uid = json_extract(outbox.payload, '$.study') AND a.severity = 'critical'
                      AND a.state = 'active' AND a.acknowledged_at IS NULL)
         THEN CASE WHEN json_extract(payload, '$.type') = 'alert' THEN 11 ELSE 10 END ELSE 0 END
       WHERE kind = '${UPLINK_KIND}' AND state = 'pending'`,
    ),
  };

  function resultPayload(study: string, analysisId: number, r: StoredResult): InstancePayload {
    return { type: 'instance', kind: r.kind, study, series: r.seriesInstanceUid, sop: r.sopInstanceUid, sopClass: r.sopClassUid, analysisId };
  }

  function alertPayload(row: AlertRow, change: AlertPayload['change'], at: number): AlertPayload {
    return { type: 'alert', kind: 'alert', study: row.study_uid, series: row.series_uid, alertId: row.id, revision: row.revision, change, rule: row.rule, severity: row.severity, state: row.state, summary: row.summary, at };
  }

  function enqueueResults(study: string, analysisId: number, results: StoredResult[], now: number): string[] {
    const touched: string[] = [];
    for (const d of destinations) {
      let added = 0;
      for (const r of results) if (queue.enqueue(d.id, r.sopInstanceUid, resultPayload(study, analysisId, r), now)) added++;
      if (added > 0) touched.push(d.id);
    }
    return touched;
  }

  return {
    resultsStored(info) {
      const touched = db.transaction(() => enqueueResults(info.studyInstanceUid, info.analysisId, info.results, clock.now()))();
      if (touched.length) {
        log.debug({ event: 'uplink-due', study: info.studyInstanceUid, analysis: info.analysisId, destinations: touched }, 'results due for uplink');
        deps.onEnqueued?.(touched);
      }
    },
    instanceStored(outcome, ctx) {
      // 'local' instances are the node's own results: they come through resultsStored.
      if (fullStudy.length === 0 || ctx.protocol === 'local' || outcome.status === 'duplicate') return;
      const payload: InstancePayload = { type: 'instance', kind: 'instance', study: outcome.studyInstanceUid, series: outcome.seriesInstanceUid, sop: outcome.sopInstanceUid, sopClass: outcome.sopClassUid };
      const now = clock.now();
      const touched = db.transaction(() => fullStudy.filter((d) => queue.enqueue(d.id, outcome.sopInstanceUid, payload, now)).map((d) => d.id))();
      if (touched.length) deps.onEnqueued?.(touched);
    },
    alertChanged(info) {
      if (!SENT_CHANGES.has(info.change)) return;
      const now = clock.now();
      const touched = db.transaction(() => {
        queue.reprioritise(info.studyInstanceUid);
        const row = s.alert.get(info.alertId) as AlertRow | undefined;
        if (!row) return [];
        const change = info.change as AlertPayload['change'];
        return alerting.filter((d) => queue.enqueue(d.id, alertRef(row.id, row.revision, change), alertPayload(row, change, now), now)).map((d) => d.id);
      })();
      // Even without a new item, a raised priority must be seen by a sleeping forwarder.
      deps.onEnqueued?.(touched.length ? touched : destinations.map((d) => d.id));
    },
    reconcile() {
      const now = clock.now();
      let added = 0;
      db.transaction(() => {
        for (const d of destinations) s.register.run(d.id, now);
        for (const d of destinations) {
          const since = s.addedAt.get(d.id) as number;
          for (const a of s.analyses.all(since) as { id: number; study: string; results: string }[]) {
            for (const r of JSON.parse(a.results) as StoredResult[]) if (queue.enqueue(d.id, r.sopInstanceUid, resultPayload(a.study, a.id, r), now)) added++;
          }
          if (d.policy.what === 'full-study') {
            for (const i of s.missingInstances.all(since, d.id) as { sop: string; sopClass: string; series: string; study: string }[]) {
              if (queue.enqueue(d.id, i.sop, { type: 'instance', kind: 'instance', study: i.study, series: i.series, sop: i.sop, sopClass: i.sopClass }, now)) added++;
            }
          }
          if (sendsAlerts(d)) {
            for (const row of s.alertsSince.all(since, since) as AlertRow[]) {
              const change: AlertPayload['change'] = row.state === 'retracted' ? 'retracted' : row.acknowledged_at !== null ? 'acknowledged' : row.revision > 1 ? 'updated' : 'raised';
              if (queue.enqueue(d.id, alertRef(row.id, row.revision, change), alertPayload(row, change, row.acknowledged_at ?? row.updated_at), now)) added++;
            }
          }
        }
        s.reprioritiseAll.run();
      })();
      if (added > 0) log.info({ event: 'uplink-reconciled', added }, 'uplink items that became due while the node was down were queued');
      return added;
    },
  };
}

interface AlertRow {
  id: string;
  study_uid: string;
  series_uid: string;
  rule: string;
  severity: string;
  state: string;
  revision: number;
  summary: string;
  updated_at: number;
  acknowledged_at: number | null;
}
