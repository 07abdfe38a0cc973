import type { Readable } from 'node:stream';

/**
 * Where instance files live (house style 1): a filesystem backend (fs-blob-store.ts) and an
 * in-memory twin (memory-blob-store.ts). Keys are relative paths chosen by the caller.
 *
 * Durability contract: when `commit` resolves, the bytes and the name are on stable storage
 * (file fdatasync'd, renamed, directory fsync'd). An uncommitted writer leaves nothing under
 * any key; `abort` removes its temporary data.
 */
export interface BlobWriter {
  /** Appends bytes; resolves when the backend has taken them (backpressure for the caller). */
  write(chunk: Buffer): Promise<void>;
  /** Appends several chunks in order, as one write where the backend can (writev). */
  writev(chunks: readonly Buffer[]): Promise<void>;
  readonly bytesWritten: number;
  /** Reads back bytes [start, start+length) written so far (for header parsing). */
  readRange(start: number, length: number): Promise<Buffer>;
  /**
   * Optional: starts making the bytes written so far durable now, so that the caller's own work
   * before `commit` (parsing the header, looking for a duplicate) overlaps the disk's latency.
   * Nothing may be written after it.
   */
  startSync?(): void;
  /** Makes the written bytes durable under `key`, replacing nothing: the key must be new. */
  commit(key: string): Promise<void>;
  abort(): Promise<void>;
}

export interface BeginOptions {
  /**
   * The transfer (DIMSE association) that waits for this blob before it can go on. When no other
   * transfer is storing anything, the backend may then wait for the disk on the calling thread,
   * which is quicker than a round trip through a thread pool; while others are, it never does,
   * so that they go on meanwhile.
   */
  waitingTransfer?: string;
  /**
   * The caller never changes a buffer it passed to write or writev (STOW-RS body chunks, whole
   * files): the backend may then go on writing it after the call resolved, so that the copy into
   * the page cache overlaps what the caller does next; errors surface at a later write or at
   * commit. Without it the bytes are taken before the call resolves (DIMSE reuses its read buffer).
   */
  ownedChunks?: boolean;
}

export interface ListOptions {
  /**
   * Only keys whose directory (the key up to its last '/') had a blob added or removed at or after
   * this time, ms since the epoch by the clock that stamps the store's changes. Keys elsewhere are
   * left out even though they exist: the caller knows nothing changed there.
   */
  changedSince?: number;
}

export interface BlobStore {
  begin(options?: BeginOptions): Promise<BlobWriter>;
  /** Streams a stored blob; throws MEDGE_ERR_STORE_NOT_FOUND when absent. */
  createReadStream(key: string, options?: { start?: number; highWaterMark?: number }): Readable;
  read(key: string): Promise<Buffer>;
  /** Size in bytes and modification time (ms since the epoch); undefined when absent. */
  stat(key: string): Promise<{ size: number; modifiedAt: number } | undefined>;
  /** Deletes a blob (a superseded version); an absent key is no error. Not made durable: see removeAll. */
  delete(key: string): Promise<void>;
  /**
   * Deletes committed blobs for good (a study removed): the removals are durable when it resolves
   * (directories synced), directories left empty are removed too, and absent keys are no error.
   */
  removeAll(keys: readonly string[]): Promise<void>;
  /** Committed keys, for start-up reconciliation with the index: all, or those where something changed lately. */
  list(options?: ListOptions): AsyncIterable<string>;
  /** Free bytes on the volume holding the store. */
  freeBytes(): number;
  /** Removes temporary data left by a crash. */
  cleanTemporary(): Promise<number>;
  /**
   * Moves a committed blob that cannot be read as an instance out of the store, for a person to
   * look at instead of deleting it; returns where it went.
   */
  quarantine(key: string): Promise<string>;
  /**
   * The file holding a committed blob, for readers in other threads (the analysis workers read a
   * series' files themselves instead of having them copied across). Only backends that keep blobs
   * as files have it; the caller reads through `read` otherwise.
   */
  localPath?(key: string): string;
}
