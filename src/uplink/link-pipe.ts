import type { Socket } from 'node:net';
import type { LinkShaper } from './link-shaper.js';

/**
 * Chunks are cut to this size before they meet the shaper, so that a 64 KiB read does not leave
 * the link as one lump (at 1 Mbit/s 64 KiB is half a second): about a dozen TCP segments.
 */
const SLICE_BYTES = 16 * 1024;
/**
 * A timer that would fire this close to now (ms) is not worth arming: the chunk goes at once.
 * Node's timers have 1 ms granularity; waiting for a sub-millisecond one costs a whole loop turn.
 */
const DUE_SLACK_MS = 0.5;

export interface LinkPipeOptions {
  source: Socket;
  dest: Socket;
  shaper: LinkShaper;
  /** The one-way propagation delay now, in ms. */
  delayMs(): number;
  /** A monotonic clock in ms (performance.now in production). */
  now(): number;
  /** Called with each chunk as it is written to `dest` (capture, counters). */
  onForward(chunk: Buffer): void;
  /**
   * Bytes held (queued here plus unflushed in `dest`) above which `source` is paused: the
   * backpressure that makes a sender feel the slow link instead of filling our memory.
   */
  highWaterBytes: number;
}

/**
 * One direction of one proxied connection: what `source` sends reaches `dest` after the link's
 * transmission time (shared shaper) plus the propagation delay, in order, without blocking any
 * other connection (each chunk waits on a timer, never on a loop).
 */
export class LinkPipe {
  private readonly queue: { at: number; chunk: Buffer }[] = [];
  private queuedBytes = 0;
  private lastAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private paused = false;
  private sourceEnded = false;
  private closed = false;

  constructor(private readonly o: LinkPipeOptions) {
    o.source.on('data', (chunk: Buffer) => this.push(chunk));
    o.source.on('end', () => {
      this.sourceEnded = true;
      this.flush();
    });
    o.dest.on('drain', () => this.maybeResume());
  }

  /** Bytes waiting for their release time. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  private push(data: Buffer): void {
    if (this.closed) return;
    for (let off = 0; off < data.length; off += SLICE_BYTES) {
      const chunk = data.subarray(off, Math.min(off + SLICE_BYTES, data.length));
      this.queue.push({ at: this.releaseTime(chunk.length), chunk });
      this.queuedBytes += chunk.length;
    }
    if (!this.paused && this.queuedBytes + this.o.dest.writableLength > this.o.highWaterBytes) {
      this.paused = true;
      this.o.source.pause();
    }
    this.flush();
  }

  private releaseTime(bytes: number): number {
    const now = this.o.now();
    // max(..., lastAt): a shorter delay set meanwhile must not let a chunk overtake an earlier one.
    this.lastAt = Math.max(this.o.shaper.schedule(bytes, now) + this.o.delayMs(), this.lastAt);
    return this.lastAt;
  }

  /** Writes every chunk that is due, then arms one timer for the next. */
  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.held || this.closed) return;
    const now = this.o.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now + DUE_SLACK_MS) {
      const { chunk } = this.queue.shift()!;
      this.queuedBytes -= chunk.length;
      this.o.dest.write(chunk);
      this.o.onForward(chunk);
    }
    if (this.queue.length > 0) {
      this.timer = setTimeout(() => this.flush(), this.queue[0]!.at - now);
    } else if (this.sourceEnded && this.o.dest.writable) {
      this.o.dest.end();
    }
    this.maybeResume();
  }

  private maybeResume(): void {
    if (this.paused && !this.held && this.queuedBytes + this.o.dest.writableLength <= this.o.highWaterBytes / 2) {
      this.paused = false;
      this.o.source.resume();
    }
  }

  /** The link is dead (blackhole): nothing is read or released until `release`. */
  hold(): void {
    this.held = true;
    this.o.source.pause();
    this.flush();
  }

  /**
   * The link is back: what waited goes out as if it were offered now (TCP would retransmit it),
   * through the shaper again so that the rate cap still holds.
   */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.lastAt = Number.NEGATIVE_INFINITY;
    for (const item of this.queue) item.at = this.releaseTime(item.chunk.length);
    if (!this.paused) this.o.source.resume();
    this.flush();
  }

  /** Drops what is queued and stops; the sockets are destroyed by the owner. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}
