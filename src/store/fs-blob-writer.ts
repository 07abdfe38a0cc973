import { closeSync, fdatasync, fdatasyncSync, readSync, writevSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { MedgeError } from '../errors.js';
import type { BlobWriter } from './blob-store.js';
import { dropBytes, WRITEV_MAX, WriteBehind } from './write-behind.js';

/**
 * A blob being written. The calls that only touch the page cache and the directory tree (open,
 * write, read back, close, rename: tens of microseconds each) are made on the calling thread: each
 * trip through libuv's thread pool cost 0.1-0.3 ms of latency on the 2-core machine, and C-STORE
 * on one association is a chain of such trips per instance. A write into the page cache blocks
 * only when the kernel throttles dirty pages, which every instance's fdatasync keeps far away.
 *
 * The two calls that wait for the disk (fdatasync, the directory fsync) go to the thread pool, so
 * that other transfers go on meanwhile, except for the writer of a waiting transfer while no other
 * transfer is storing (C-STORE on one association): it waits on the calling thread, one wake-up
 * instead of three, about 0.3 ms less per instance; anything arriving meanwhile waits under a
 * millisecond.
 *
 * Chunks the caller will not change (BeginOptions.ownedChunks: STOW-RS) are written in the thread
 * pool instead, behind the caller (write-behind.ts).
 */
export class FsBlobWriter implements BlobWriter {
  bytesWritten = 0;
  private done = false;
  /** The fdatasync started early (startSync), awaited by commit and abort. */
  private syncing: Promise<void> | undefined;
  /** Writes in the thread pool, for owned chunks. */
  private readonly behind: WriteBehind | undefined;

  constructor(
    private readonly fd: number,
    private readonly tmpPath: string,
    private readonly store: WriterHooks,
    ownedChunks = false,
  ) {
    if (ownedChunks) this.behind = new WriteBehind(fd);
  }

  async write(chunk: Buffer): Promise<void> {
    return this.writev([chunk]);
  }

  async writev(chunks: readonly Buffer[]): Promise<void> {
    if (!this.behind) return this.writeNow(chunks);
    let length = 0;
    for (const c of chunks) length += c.length;
    const position = this.bytesWritten;
    this.bytesWritten += length;
    try {
      await this.behind.write(chunks, position, length);
    } catch (err) {
      throw ioError('cannot write the instance', this.tmpPath, err);
    }
  }

  /** Every write done (owned chunks), or the error of the first that failed. */
  private async written(): Promise<void> {
    try {
      await this.behind?.drain();
    } catch (err) {
      throw ioError('cannot write the instance', this.tmpPath, err);
    }
  }

  private writeNow(chunks: readonly Buffer[]): void {
    let list = chunks as Buffer[];
    let left = 0;
    for (const c of list) left += c.length;
    try {
      // IOV_MAX is 1024 on Linux; our batches are far smaller, but a short write may still happen.
      while (left > 0) {
        const batch = list.length > WRITEV_MAX ? list.slice(0, WRITEV_MAX) : list;
        const n = writevSync(this.fd, batch, this.bytesWritten);
        this.bytesWritten += n;
        left -= n;
        list = dropBytes(list, n);
      }
    } catch (err) {
      throw ioError('cannot write the instance', this.tmpPath, err);
    }
  }

  async readRange(start: number, length: number): Promise<Buffer> {
    await this.written();
    const n = Math.max(0, Math.min(length, this.bytesWritten - start));
    const buf = Buffer.allocUnsafe(n);
    const bytesRead = readSync(this.fd, buf, 0, n, start);
    return buf.subarray(0, bytesRead);
  }

  startSync(): void {
    if (this.done || this.syncing) return;
    if (this.behind && !this.behind.idle) {
      this.syncing = this.written().then(() => fdatasyncInPool(this.fd));
    } else if (this.store.inline()) {
      try {
        const started = performance.now();
        fdatasyncSync(this.fd);
        this.store.waitedInline(performance.now() - started);
        this.syncing = Promise.resolve();
      } catch (err) {
        this.syncing = Promise.reject(err);
      }
    } else {
      this.syncing = fdatasyncInPool(this.fd);
    }
    // Reported by commit or swallowed by abort; never an unhandled rejection in between.
    this.syncing.catch(() => undefined);
  }

  async commit(key: string): Promise<void> {
    try {
      this.startSync();
      await this.syncing;
      this.done = true;
      // The data is durable: the file can be closed and published under its key.
      closeSync(this.fd);
      const inline = this.store.inline();
      const started = performance.now();
      await this.store.publish(this.tmpPath, key, inline);
      if (inline) this.store.waitedInline(performance.now() - started);
      this.store.finished();
    } catch (err) {
      await this.abort();
      // A write that failed behind the caller is already a MedgeError (disk full stays disk full).
      throw err instanceof MedgeError ? err : ioError('cannot make the instance durable', this.tmpPath, err);
    }
  }

  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      // Never close a descriptor that a thread-pool write or fdatasync is still using.
      await this.written().catch(() => undefined);
      await this.syncing?.catch(() => undefined);
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
    }
    this.store.finished();
    await rm(this.tmpPath, { force: true });
  }
}

/** What a writer needs of its store. */
export interface WriterHooks {
  /** Renames the durable temporary file to its key and syncs the directory (`now`: on this thread). */
  publish(tmpPath: string, key: string, now: boolean): Promise<void>;
  /** Whether to wait for the disk on this thread now (BeginOptions.waitingTransfer, alone). */
  inline(): boolean;
  /** The writer committed or aborted (idempotent). */
  finished(): void;
  /** How long an inline wait for the disk took (ms): a slow disk turns inline waits off for a while. */
  waitedInline(ms: number): void;
}

/** fdatasync in libuv's thread pool. */
function fdatasyncInPool(fd: number): Promise<void> {
  return new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

export function ioError(what: string, path: string, err: unknown): MedgeError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return new MedgeError('MEDGE_ERR_STORE_DISK_FULL', `${what}: the disk is full`, { path }, err);
  return new MedgeError('MEDGE_ERR_STORE_IO', `${what} (${path}): ${(err as Error).message}`, { path, errno: code }, err);
}
