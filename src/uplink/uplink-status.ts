import type { UplinkDestinationConfig } from '../config/schema.js';
import { DEFAULT_CONCURRENCY, type Forwarder, type ForwarderStatus } from './forwarder.js';
import type { UplinkMeter, MeterView } from './uplink-meter.js';
import type { UplinkQueue } from './uplink-queue.js';

export interface DestinationStatus extends ForwarderStatus {
  id: string;
  type: UplinkDestinationConfig['type'];
  /** Where it sends, without credentials. */
  target: string;
  policy: { what: string; when: string; window: string | null; maxBytesPerSecond: number | null; privacy: string };
  /** Results leave losslessly compressed (the destination's compressResults). */
  compressResults: boolean;
  /** Requests or associations in flight at most. */
  concurrency: number;
  queue: { pending: number; parked: number; confirmed: number; oldestPendingAgeMs: number | null };
  bytesOut: MeterView['bytesOut'][string];
  /** Parked items (the first 50): what, why, when queued and last tried. */
  parkedItems: { id: number; ref: string; kind: string; study: string; attempts: number; reason: string | null; queuedAt: string; lastAttemptAt: string | null }[];
}

export interface UplinkStatus {
  destinations: DestinationStatus[];
  bytesIn: Record<string, number>;
  bytesInTotal: number;
}

/** Where a destination sends, never with its credentials (house style 12 and issue 5: secrets never shown). */
export function targetOf(d: UplinkDestinationConfig): string {
  if (d.type === 'dimse') return `${d.aeTitle}@${d.host}:${d.port}${d.tls ? ' (TLS)' : ''}`;
  const u = new URL(d.baseUrl);
  u.username = '';
  u.password = '';
  return u.toString().replace(/\/$/, '');
}

/** GET /api/uplink and `medge uplink status`: per destination, the queue, the link and the bytes. */
export function uplinkStatus(x: { destinations: readonly UplinkDestinationConfig[]; forwarders: Map<string, Forwarder>; queue: UplinkQueue; meter: UplinkMeter; now: number }): UplinkStatus {
  const depth = x.queue.depth(x.now);
  const meter = x.meter.view();
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    bytesIn: meter.bytesIn,
    bytesInTotal: meter.bytesInTotal,
    destinations: x.destinations.map((d): DestinationStatus => {
      const q = depth.get(d.id);
      const f = x.forwarders.get(d.id);
      const fs: ForwarderStatus = f?.status() ?? { link: 'down', breaker: 'open', consecutiveFailures: 0, reason: 'not started', nextProbeAt: null, inFlight: 0, window: null, lastConfirmedAt: null, lastError: null };
      return {
        id: d.id,
        type: d.type,
        target: targetOf(d),
        policy: { what: d.policy.what, when: d.policy.when, window: d.policy.window ?? null, maxBytesPerSecond: d.policy.maxBytesPerSecond ?? null, privacy: d.policy.privacy },
        compressResults: d.compressResults ?? true,
        concurrency: d.concurrency ?? DEFAULT_CONCURRENCY,
        ...fs,
        lastConfirmedAt: fs.lastConfirmedAt ?? iso(q?.lastConfirmedAt ?? null),
        queue: { pending: q?.pending ?? 0, parked: q?.parked ?? 0, confirmed: q?.done ?? 0, oldestPendingAgeMs: q?.oldestPendingMs ?? null },
        bytesOut: meter.bytesOut[d.id] ?? { byKind: {}, items: {}, total: 0, reductionPercent: meter.bytesInTotal > 0 ? 100 : null },
        parkedItems: x.queue.parked(d.id).map((p) => ({ ...p, queuedAt: new Date(p.queuedAt).toISOString(), lastAttemptAt: iso(p.lastAttemptAt) })),
      };
    }),
  };
}
