import type { NodeEvents, NodeEventMap } from '../../events/node-events.js';
import type { Logger } from '../../observability/log.js';
import { after, systemClock, type Clock } from '../clock.js';
import type { AlertChannel, AlertMessage, DeliveryReceipt } from '../types.js';

/**
 * The dashboard channel: a hub of server-sent event streams (WHATWG HTML, "Server-sent events",
 * text/event-stream). `deliver` publishes an alert to every connected browser; the same streams
 * carry the node's other events (series ready, analysis started and finished, results stored,
 * alert changes, studies removed, instance arrivals throttled per study) so that the dashboard needs one
 * connection. Always tier 0, id 'dashboard'.
 */

/** Where a connected client's bytes go (the HTTP response, or a test's buffer). */
export interface SseSink {
  write(chunk: string): void;
  end(): void;
  /** Bytes written but not yet sent: a client this far behind is dropped. */
  buffered(): number;
}

export interface DashboardHubOptions {
  events: NodeEvents;
  log: Logger;
  clock?: Clock;
  /** A comment line this often keeps proxies from closing an idle stream, ms. */
  heartbeatMs?: number;
  /** At most one 'instances-received' event per study this often, ms. */
  instanceThrottleMs?: number;
  /** A client with more than this many bytes unsent is disconnected (it reconnects and catches up from the API). */
  maxBufferedBytes?: number;
}

/** Sent in the first bytes: how long a browser waits before reconnecting, ms (the `retry` field). */
const RECONNECT_MS = 3000;

/** Node events forwarded as they are (none carries patient data). */
const FORWARDED = ['series-ready', 'analysis-started', 'analysis-finished', 'results-stored', 'alert-changed', 'study-removed'] as const;

export class DashboardHub implements AlertChannel {
  readonly id = 'dashboard';
  readonly type = 'dashboard' as const;
  readonly tier = 0;
  private readonly clients = new Set<SseSink>();
  private readonly clock: Clock;
  private readonly heartbeatMs: number;
  private readonly throttleMs: number;
  private readonly maxBuffered: number;
  private readonly listeners: [keyof NodeEventMap, (...args: never[]) => void][] = [];
  /** Per study: when instances were last announced, how many arrived since, and the pending flush. */
  private readonly arrivals = new Map<string, { lastAt: number; count: number; series: string; flush: (() => void) | null }>();
  private stopHeartbeat: (() => void) | null = null;
  private seq = 0;
  private published = 0;

  constructor(private readonly options: DashboardHubOptions) {
    this.clock = options.clock ?? systemClock;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.throttleMs = options.instanceThrottleMs ?? 1000;
    this.maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  }

  /** Subscribes to the node's events and starts the heartbeat. */
  start(): void {
    if (this.listeners.length > 0) return;
    for (const name of FORWARDED) this.listen(name, (data: unknown) => this.publish(name, data));
    this.listen('instance-stored', (outcome: NodeEventMap['instance-stored'][0], ctx: NodeEventMap['instance-stored'][1]) => {
      // Result objects the node stores itself are not arrivals; a duplicate adds nothing.
      if (ctx.protocol !== 'local' && outcome.status !== 'duplicate') this.arrived(outcome.studyInstanceUid, outcome.seriesInstanceUid);
    });
    this.beat();
  }

  /** Unsubscribes, and ends every stream (the node is stopping: browsers reconnect to the next one). */
  stop(): void {
    for (const [name, fn] of this.listeners.splice(0)) this.options.events.off(name, fn as never);
    this.stopHeartbeat?.();
    this.stopHeartbeat = null;
    for (const a of this.arrivals.values()) a.flush?.();
    this.arrivals.clear();
    this.disconnectAll();
  }

  async close(): Promise<void> {
    this.stop();
  }

  /** Adds a client; returns the function that removes it (call it when the connection closes). */
  connect(sink: SseSink): () => void {
    this.clients.add(sink);
    sink.write(`retry: ${RECONNECT_MS}\n: connected ${new Date(this.clock.now()).toISOString()}\n\n`);
    return () => {
      this.clients.delete(sink);
    };
  }

  disconnectAll(): void {
    for (const c of [...this.clients]) this.drop(c);
  }

  clientCount(): number {
    return this.clients.size;
  }

  status(): { clients: number; published: number } {
    return { clients: this.clients.size, published: this.published };
  }

  /** Publishes one event to every client; returns how many got it. */
  publish(event: string, data: unknown): number {
    const frame = `id: ${++this.seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    this.published++;
    let n = 0;
    for (const c of [...this.clients]) {
      if (c.buffered() > this.maxBuffered) {
        this.options.log.warn({ event: 'sse-client-dropped', buffered: c.buffered() }, 'dashboard client too slow: disconnected');
        this.drop(c);
        continue;
      }
      c.write(frame);
      n++;
    }
    return n;
  }

  /** An alert is delivered once it is published, whether or not a browser is open (the receipt says how many are). */
  async deliver(message: AlertMessage, _signal: AbortSignal): Promise<DeliveryReceipt> {
    const clients = this.publish('alert', message);
    return { deliveredAt: this.clock.now(), detail: `${clients} client${clients === 1 ? '' : 's'}` };
  }

  private listen<K extends keyof NodeEventMap>(name: K, fn: (...args: NodeEventMap[K]) => void): void {
    this.options.events.on(name, fn as never);
    this.listeners.push([name, fn as never]);
  }

  private drop(c: SseSink): void {
    this.clients.delete(c);
    try {
      c.end();
    } catch {
      // already closed by the peer
    }
  }

  private beat(): void {
    this.stopHeartbeat = after(this.clock, this.heartbeatMs, () => {
      // A comment line (starts with ':'): browsers ignore it, proxies see traffic.
      for (const c of [...this.clients]) c.write(`: heartbeat\n\n`);
      this.beat();
    });
  }

  /** At most one 'instances-received' per study per throttle interval, with the count since the last. */
  private arrived(study: string, series: string): void {
    const now = this.clock.now();
    const a = this.arrivals.get(study);
    if (!a || (now - a.lastAt >= this.throttleMs && !a.flush)) {
      this.arrivals.set(study, { lastAt: now, count: 0, series, flush: null });
      this.publish('instances-received', { studyInstanceUid: study, seriesInstanceUid: series, instances: 1, at: new Date(now).toISOString() });
      this.forgetIdle(now);
      return;
    }
    a.count++;
    a.series = series;
    if (a.flush) return;
    const cancel = after(this.clock, a.lastAt + this.throttleMs - now, () => {
      a.flush = null;
      this.flushArrivals(study, a);
    });
    a.flush = () => {
      cancel();
      a.flush = null;
    };
  }

  private flushArrivals(study: string, a: { lastAt: number; count: number; series: string }): void {
    const now = this.clock.now();
    this.publish('instances-received', { studyInstanceUid: study, seriesInstanceUid: a.series, instances: a.count, at: new Date(now).toISOString() });
    a.lastAt = now;
    a.count = 0;
  }

  private forgetIdle(now: number): void {
    if (this.arrivals.size < 1000) return;
    for (const [k, v] of this.arrivals) if (!v.flush && now - v.lastAt > this.throttleMs) this.arrivals.delete(k);
  }
}
