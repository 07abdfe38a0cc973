import { createReadStream, mkdirSync, statfsSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, readFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { MedgeError } from '../errors.js';
import type { BlobStore, BlobWriter } from './blob-store.js';

const TMP_DIR = 'tmp';
const BLOB_DIR = 'instances';

/**
 * Blob store on a local filesystem. A blob is written to `tmp/`, fdatasync'd, renamed into
 * `instances/<key>`, and the destination directory fsync'd, so that a committed blob survives a
 * crash or power loss and a half-written one never appears under a key (rename is atomic, POSIX).
 */
export function createFsBlobStore(root: string): BlobStore {
  const tmpRoot = join(root, TMP_DIR);
  const blobRoot = join(root, BLOB_DIR);
  const knownDirs = new Set<string>();
  const dirHandles = new DirHandles();
  // Unique within this process; wx refuses a name left by another one. No random bytes per instance.
  const tmpPrefix = `${Date.now()}-${process.pid}-`;
  let tmpSeq = 0;
  mkdirSync(root, { recursive: true });

  async function ensureDir(dir: string): Promise<void> {
    if (knownDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    // A new directory entry is only durable once its parent is synced too.
    await fsyncDir(dirname(dir));
    knownDirs.add(dir);
  }

  const pathOf = (key: string) => {
    const p = join(blobRoot, key);
    if (!p.startsWith(blobRoot + sep)) throw new MedgeError('MEDGE_ERR_STORE_IO', `invalid blob key ${key}`, { key });
    return p;
  };

  return {
    async begin(): Promise<BlobWriter> {
      await ensureDir(tmpRoot);
      const tmpPath = join(tmpRoot, `${tmpPrefix}${tmpSeq++}.part`);
      let handle: FileHandle;
      try {
        // w+: the header of a large instance is read back before commit.
        handle = await open(tmpPath, 'wx+');
      } catch (err) {
        throw ioError('cannot create a temporary file', tmpPath, err);
      }
      return new FsBlobWriter(handle, tmpPath, async (key) => {
        const dest = pathOf(key);
        const dir = dirname(dest);
        await ensureDir(dir);
        await rename(tmpPath, dest);
        await dirHandles.sync(dir);
      });
    },

    createReadStream(key: string, options?: { start?: number; highWaterMark?: number }): Readable {
      return createReadStream(pathOf(key), options);
    },

    async read(key: string): Promise<Buffer> {
      try {
        return await readFile(pathOf(key));
      } catch (err) {
        throw notFoundOrIo(key, err);
      }
    },

    async stat(key: string): Promise<{ size: number; modifiedAt: number } | undefined> {
      try {
        const s = await stat(pathOf(key));
        return { size: s.size, modifiedAt: s.mtimeMs };
      } catch {
        return undefined;
      }
    },

    async delete(key: string): Promise<void> {
      await rm(pathOf(key), { force: true });
    },

    async *list(): AsyncIterable<string> {
      let entries: string[];
      try {
        entries = await readdir(blobRoot, { recursive: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        if (entry.endsWith('.dcm')) yield relative(blobRoot, join(blobRoot, entry)).split(sep).join('/');
      }
    },

    localPath: pathOf,

    freeBytes(): number {
      const s = statfsSync(root);
      return s.bavail * s.bsize;
    },

    async cleanTemporary(): Promise<number> {
      let names: string[];
      try {
        names = await readdir(tmpRoot);
      } catch {
        return 0;
      }
      await Promise.all(names.map((n) => rm(join(tmpRoot, n), { force: true })));
      return names.length;
    },
  };
}

class FsBlobWriter implements BlobWriter {
  bytesWritten = 0;
  private done = false;

  constructor(
    private readonly handle: FileHandle,
    private readonly tmpPath: string,
    private readonly publish: (key: string) => Promise<void>,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset, this.bytesWritten);
      offset += bytesWritten;
      this.bytesWritten += bytesWritten;
    }
  }

  async writev(chunks: readonly Buffer[]): Promise<void> {
    if (chunks.length === 1) return this.write(chunks[0]!);
    let list = chunks as Buffer[];
    let left = 0;
    for (const c of list) left += c.length;
    // IOV_MAX is 1024 on Linux; our batches are far smaller, but a short write may still happen.
    while (left > 0) {
      const batch = list.length > WRITEV_MAX ? list.slice(0, WRITEV_MAX) : list;
      const { bytesWritten } = await this.handle.writev(batch, this.bytesWritten);
      this.bytesWritten += bytesWritten;
      left -= bytesWritten;
      list = dropBytes(list, bytesWritten);
    }
  }

  async readRange(start: number, length: number): Promise<Buffer> {
    const n = Math.max(0, Math.min(length, this.bytesWritten - start));
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = await this.handle.read(buf, 0, n, start);
    return buf.subarray(0, bytesRead);
  }

  async commit(key: string): Promise<void> {
    try {
      await this.handle.datasync();
      this.done = true;
      // The data is durable: closing and publishing (rename, directory fsync) need no order
      // between them (a file may be renamed while open), so they run side by side.
      const closed = this.handle.close();
      const published = this.publish(key);
      await Promise.all([closed, published]);
    } catch (err) {
      await this.abort();
      throw ioError('cannot make the instance durable', this.tmpPath, err);
    }
  }

  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.handle.close().catch(() => undefined);
    }
    await rm(this.tmpPath, { force: true });
  }
}

/** Most buffers per writev call (IOV_MAX on Linux). */
const WRITEV_MAX = 1024;

/** The list without its first n bytes. */
function dropBytes(list: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < list.length && n >= list[i]!.length) n -= list[i++]!.length;
  const rest = list.slice(i);
  if (n > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}

/**
 * Open handles of recently used destination directories, so that the directory fsync after each
 * rename is one call instead of open, fsync, close (a series is one directory). Like `knownDirs`,
 * this assumes directories are not removed and re-created while the store runs.
 *
 * Group commit: a directory fsync makes every rename done before it started durable, so a caller
 * that arrives while one is running waits for the next one, which all such callers share. Four
 * associations, or a STOW-RS request committing parts side by side, then pay about one directory
 * fsync per round of renames instead of one each.
 */
export class DirHandles {
  private readonly open = new Map<string, DirEntry>();

  constructor(private readonly openDir: (dir: string) => Promise<SyncHandle> = (dir) => open(dir, 'r')) {}

  sync(dir: string): Promise<void> {
    let entry = this.open.get(dir);
    if (entry) {
      // Most recently used last.
      this.open.delete(dir);
      this.open.set(dir, entry);
    } else {
      entry = { handle: this.openDir(dir), users: 0, evicted: false, running: undefined, next: undefined };
      entry.handle.catch(() => undefined);
      this.open.set(dir, entry);
      if (this.open.size > DIR_HANDLES) this.evict(this.open.keys().next().value!);
    }
    const e = entry;
    if (!e.running) return this.run(dir, e);
    // Started before our rename: it may not cover it. Share the one after it.
    e.next ??= e.running.catch(() => undefined).then(() => {
      e.next = undefined;
      return this.run(dir, e);
    });
    return e.next;
  }

  private run(dir: string, entry: DirEntry): Promise<void> {
    entry.users++;
    const running = (async () => {
      try {
        await (await entry.handle).sync();
      } catch (err) {
        // A failed open or fsync is not cached: the next commit starts afresh.
        if (this.open.get(dir) === entry) this.evict(dir);
        throw err;
      } finally {
        entry.users--;
        entry.running = undefined;
        if (entry.evicted && entry.users === 0) closeQuietly(entry.handle);
      }
    })();
    entry.running = running;
    return running;
  }

  private evict(dir: string): void {
    const entry = this.open.get(dir)!;
    this.open.delete(dir);
    entry.evicted = true;
    if (entry.users === 0 && !entry.next) closeQuietly(entry.handle);
  }
}

/** What DirHandles needs of an open directory (a FileHandle). */
export type SyncHandle = Pick<FileHandle, 'sync' | 'close'>;

interface DirEntry {
  handle: Promise<SyncHandle>;
  /** fsyncs running on the handle (0 or 1). */
  users: number;
  evicted: boolean;
  /** The fsync running now. */
  running: Promise<void> | undefined;
  /** The fsync that starts when `running` ends, shared by everyone who asked meanwhile. */
  next: Promise<void> | undefined;
}

/** Directory handles kept open (a few series arriving at once). */
const DIR_HANDLES = 16;

function closeQuietly(handle: Promise<SyncHandle>): void {
  handle.then((h) => h.close()).catch(() => undefined);
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

function ioError(what: string, path: string, err: unknown): MedgeError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return new MedgeError('MEDGE_ERR_STORE_DISK_FULL', `${what}: the disk is full`, { path }, err);
  return new MedgeError('MEDGE_ERR_STORE_IO', `${what} (${path}): ${(err as Error).message}`, { path, errno: code }, err);
}

function notFoundOrIo(key: string, err: unknown): MedgeError {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    return new MedgeError('MEDGE_ERR_STORE_NOT_FOUND', `no stored blob ${key}`, { key }, err);
  }
  return ioError('cannot read a stored blob', key, err);
}
