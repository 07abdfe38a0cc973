import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';

/** An open directory whose entries can be made durable (fsync on the directory, POSIX). */
export interface DirFd {
  /** fsync in libuv's thread pool. */
  sync(): Promise<void>;
  /** fsync on the calling thread (blocks it for the disk's latency). */
  syncNow(): void;
  close(): void;
}

export function openDirFd(dir: string): DirFd {
  const fd = openSync(dir, 'r');
  return {
    sync: () => new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve()))),
    syncNow: () => fsyncSync(fd),
    close: () => closeSync(fd),
  };
}

/**
 * Directory fsyncs after renames, on directories kept open (a series is one directory: one call
 * per instance instead of open, fsync, close). A directory that is removed must be forgotten first
 * (`forget`), so that one made again under the same name is opened afresh.
 *
 * Group commit: a directory fsync makes every rename done before it started durable, so a caller
 * that arrives while one is running waits for the next one, which all such callers share. Four
 * associations, or a STOW-RS request committing parts side by side, then pay about one directory
 * fsync per round of renames instead of one each.
 */
export class DirSyncer {
  private readonly open = new Map<string, DirEntry>();

  constructor(private readonly openDir: (dir: string) => DirFd = openDirFd) {}

  /**
   * Makes the renames done so far in `dir` durable. `now`: on the calling thread when no fsync
   * of the directory is running (a lone writer: no thread-pool round trip); otherwise shared.
   */
  sync(dir: string, now = false): Promise<void> {
    let entry: DirEntry;
    try {
      entry = this.entry(dir);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!entry.running && now) {
      try {
        entry.fd.syncNow();
        return Promise.resolve();
      } catch (err) {
        this.failed(dir, entry);
        return Promise.reject(err);
      }
    }
    if (!entry.running) return this.run(dir, entry);
    // Started before our rename: it may not cover it. Share the one after it.
    entry.next ??= entry.running.catch(() => undefined).then(() => {
      entry.next = undefined;
      return this.run(dir, entry);
    });
    return entry.next;
  }

  /** Lets go of a directory that is being removed (a fsync already running on it still ends). */
  forget(dir: string): void {
    if (this.open.has(dir)) this.evict(dir);
  }

  private entry(dir: string): DirEntry {
    let entry = this.open.get(dir);
    if (entry) {
      // Most recently used last.
      this.open.delete(dir);
      this.open.set(dir, entry);
      return entry;
    }
    entry = { fd: this.openDir(dir), evicted: false, running: undefined, next: undefined };
    this.open.set(dir, entry);
    if (this.open.size > DIR_HANDLES) this.evict(this.open.keys().next().value!);
    return entry;
  }

  private run(dir: string, entry: DirEntry): Promise<void> {
    const running = entry.fd.sync().then(
      () => {
        entry.running = undefined;
        this.closeIfIdle(entry);
      },
      (err: unknown) => {
        entry.running = undefined;
        this.failed(dir, entry);
        throw err;
      },
    );
    entry.running = running;
    return running;
  }

  /** A failed fsync is not trusted again: the next commit opens the directory afresh. */
  private failed(dir: string, entry: DirEntry): void {
    if (this.open.get(dir) === entry) this.evict(dir);
  }

  private evict(dir: string): void {
    const entry = this.open.get(dir)!;
    this.open.delete(dir);
    entry.evicted = true;
    this.closeIfIdle(entry);
  }

  private closeIfIdle(entry: DirEntry): void {
    if (!entry.evicted || entry.running || entry.next) return;
    try {
      entry.fd.close();
    } catch {
      // already closed
    }
  }
}

interface DirEntry {
  fd: DirFd;
  evicted: boolean;
  /** The fsync running now. */
  running: Promise<void> | undefined;
  /** The fsync that starts when `running` ends, shared by everyone who asked meanwhile. */
  next: Promise<void> | undefined;
}

/** Directories kept open (a few series arriving at once). */
const DIR_HANDLES = 16;
