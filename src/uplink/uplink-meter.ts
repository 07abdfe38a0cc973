import type { Db } from '../store/index-db.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { IngestContext, IngestOutcome } from '../ingest/types.js';
import type { UplinkItemKind } from './uplink-item.js';

export interface MeterView {
  /** Bytes of instances received from scanners and routers, by protocol (the node's own results excluded). */
  bytesIn: Record<string, number>;
  bytesInTotal: number;
  /** Bytes put on the wire per destination, by kind of item, and the total. */
  bytesOut: Record<string, { byKind: Record<string, number>; items: Record<string, number>; total: number; reductionPercent: number | null }>;
}

/**
 * The bandwidth meter (issue 5): bytes received, from the instances table itself (so the figure
 * survives restarts and is never counted twice), and bytes sent per destination and kind, kept in
 * uplink_meter and counted in /metrics. Sent bytes are the DICOM (or alert JSON) bytes of every
 * attempt that reached the wire, failed ones included: what the link carried, not what arrived.
 * The reduction is 1 - sent / received for each destination, in percent.
 */
export class UplinkMeter {
  private readonly s;
  private readonly bytesIn = new Map<string, number>();
  private readonly sent;
  private readonly items;

  constructor(db: Db, metrics: MetricsRegistry, destinations: readonly string[]) {
    this.s = {
      add: db.prepare(
        `INSERT INTO uplink_meter (destination, kind, bytes, items) VALUES (?, ?, ?, ?)
         ON CONFLICT (destination, kind) DO UPDATE SET bytes = bytes + excluded.bytes, items = items + excluded.items`,
      ),
      all: db.prepare(`SELECT destination, kind, bytes, items FROM uplink_meter`),
      received: db.prepare(`SELECT protocol, sum(size) AS bytes FROM instances WHERE protocol != 'local' GROUP BY protocol`),
    };
    for (const r of this.s.received.all() as { protocol: string; bytes: number }[]) this.bytesIn.set(r.protocol, r.bytes);
    this.sent = metrics.counter('medge_uplink_bytes_sent_total', 'Bytes put on the wire to each uplink destination, by kind of item (sr, seg, key-image, instance, alert)');
    this.items = metrics.counter('medge_uplink_items_sent_total', 'Uplink items put on the wire, by destination and kind');
    // Counters continue from the persisted totals, so a restart does not reset them.
    const known = new Set(destinations);
    for (const r of this.s.all.all() as { destination: string; kind: string; bytes: number; items: number }[]) {
      if (!known.has(r.destination)) continue;
      this.sent.inc({ destination: r.destination, kind: r.kind }, r.bytes);
      this.items.inc({ destination: r.destination, kind: r.kind }, r.items);
    }
    metrics.gauge('medge_uplink_bytes_received', 'Bytes of instances received from scanners and routers (persisted), by protocol', (g) => {
      for (const [protocol, bytes] of this.bytesIn) g.set({ protocol }, bytes);
    });
    metrics.gauge('medge_uplink_reduction_ratio', 'Per destination: 1 - bytes sent / bytes received', (g) => {
      for (const [destination, v] of Object.entries(this.view().bytesOut)) if (v.reductionPercent !== null) g.set({ destination }, v.reductionPercent / 100);
    });
  }

  /** An instance arrived (ingest's 'instance-stored'). */
  received(outcome: IngestOutcome, ctx: IngestContext): void {
    if (ctx.protocol === 'local' || outcome.status === 'duplicate') return;
    this.bytesIn.set(ctx.protocol, (this.bytesIn.get(ctx.protocol) ?? 0) + outcome.size);
  }

  /** Bytes of one attempt at one item. */
  sentBytes(destination: string, kind: UplinkItemKind, bytes: number): void {
    this.s.add.run(destination, kind, bytes, 1);
    this.sent.inc({ destination, kind }, bytes);
    this.items.inc({ destination, kind });
  }

  view(): MeterView {
    const bytesIn = Object.fromEntries(this.bytesIn);
    const bytesInTotal = [...this.bytesIn.values()].reduce((a, b) => a + b, 0);
    const bytesOut: MeterView['bytesOut'] = {};
    for (const r of this.s.all.all() as { destination: string; kind: string; bytes: number; items: number }[]) {
      const d = (bytesOut[r.destination] ??= { byKind: {}, items: {}, total: 0, reductionPercent: null });
      d.byKind[r.kind] = r.bytes;
      d.items[r.kind] = r.items;
      d.total += r.bytes;
    }
    for (const d of Object.values(bytesOut)) d.reductionPercent = bytesInTotal > 0 ? Math.round((1 - d.total / bytesInTotal) * 10000) / 100 : null;
    return { bytesIn, bytesInTotal, bytesOut };
  }
}
