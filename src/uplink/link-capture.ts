import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';

export interface LinkCaptureOptions {
  /** Bytes kept in memory over all connections; what comes after is counted, not kept. Default 256 MiB. */
  maxBytes?: number;
  /** Also (or instead, with maxBytes 0) write each connection's bytes to `<dir>/conn-000001.up`. */
  dir?: string;
}

/**
 * What the link carried towards the destination, kept per connection so that each connection's
 * bytes stay contiguous: a pattern (a de-identification sentinel) split across two chunks of one
 * connection is still found, and no false split appears where connections interleave.
 */
export class LinkCapture {
  private readonly memory = new Map<number, Buffer[]>();
  private readonly files = new Map<number, WriteStream>();
  private kept = 0;
  private total = 0;
  private truncatedFlag = false;
  private readonly maxBytes: number;

  constructor(private readonly options: LinkCaptureOptions = {}) {
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    if (options.dir) mkdirSync(options.dir, { recursive: true });
  }

  append(connectionId: number, chunk: Buffer): void {
    this.total += chunk.length;
    if (this.options.dir) this.fileOf(connectionId).write(chunk);
    if (this.kept + chunk.length > this.maxBytes) {
      this.truncatedFlag = this.truncatedFlag || this.maxBytes > 0;
      return;
    }
    this.kept += chunk.length;
    let list = this.memory.get(connectionId);
    if (!list) this.memory.set(connectionId, (list = []));
    // Copied: the socket may reuse its buffer's memory for a later read.
    list.push(Buffer.from(chunk));
  }

  /** Each connection's bytes, in the order the connections were accepted. */
  connections(): Buffer[] {
    return [...this.memory.entries()].sort((a, b) => a[0] - b[0]).map(([, chunks]) => Buffer.concat(chunks));
  }

  /** All connections' bytes one after the other (each connection contiguous). */
  all(): Buffer {
    return Buffer.concat(this.connections());
  }

  /** Bytes carried, kept or not. */
  get totalBytes(): number {
    return this.total;
  }

  /** True when memory ran past maxBytes: the in-memory capture misses something (the files do not). */
  get truncated(): boolean {
    return this.truncatedFlag;
  }

  /** Path of a connection's capture file (when `dir` was given). */
  fileName(connectionId: number): string | undefined {
    return this.options.dir ? join(this.options.dir, `conn-${String(connectionId).padStart(6, '0')}.up`) : undefined;
  }

  async close(): Promise<void> {
    const streams = [...this.files.values()];
    this.files.clear();
    await Promise.all(
      streams.map(async (s) => {
        s.end();
        if (!s.closed) await once(s, 'close');
      }),
    );
  }

  private fileOf(connectionId: number): WriteStream {
    let s = this.files.get(connectionId);
    if (!s) this.files.set(connectionId, (s = createWriteStream(this.fileName(connectionId)!)));
    return s;
  }
}
