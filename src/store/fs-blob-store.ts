import { open as openCb, createReadStream, mkdirSync, openSync, renameSync, statfsSync, type Dirent } from 'node:fs';
import { mkdir, readdir, rm, rmdir, stat, readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { MedgeError } from '../errors.js';
import { FsBlobWriter, ioError } from './fs-blob-writer.js';
import type { BeginOptions, BlobStore, BlobWriter, ListOptions } from './blob-store.js';
import { DirSyncer } from './dir-sync.js';
import { createInlinePolicy } from './inline-policy.js';
import { mapInGroups } from '../util/map-in-groups.js';

const TMP_DIR = 'tmp';
/** Inline waits for the disk averaging more than this (ms) go to the thread pool for a while (inline-policy.ts). */
const SLOW_INLINE_MS = 5;
const SLOW_DISK_BACKOFF_MS = 60_000;
/** A transfer that began no writer for this long no longer counts as storing (ms). */
const TRANSFER_QUIET_MS = 50;
const BLOB_DIR = 'instances';
/** Files found in the store that cannot be read as instances (start-up check), kept for a person. */
const QUARANTINE_DIR = 'quarantine';

/**
 * Blob store on a local filesystem. A blob is written to `tmp/`, fdatasync'd, renamed into
 * `instances/<key>`, and the destination directory fsync'd, so that a committed blob survives a
 * crash or power loss and a half-written one never appears under a key (rename is atomic, POSIX).
 */
export function createFsBlobStore(root: string): BlobStore {
  const tmpRoot = join(root, TMP_DIR);
  const blobRoot = join(root, BLOB_DIR);
  const knownDirs = new Set<string>();
  const dirs = new DirSyncer();
  /** Writers begun and not yet committed or aborted. */
  let active = 0;
  /** When a writer last began for each transfer (or for none: ''), to tell whether one is alone. */
  const lastBegin = new Map<string, number>();
  const inlinePolicy = createInlinePolicy({ slowMs: SLOW_INLINE_MS, backoffMs: SLOW_DISK_BACKOFF_MS });
  /**
   * Whether the writer of `transfer` may wait inline: no other writer in flight (`counted`: the
   * writers in flight when it is alone, 0 before it is counted itself), no other transfer began one
   * within TRANSFER_QUIET_MS (four associations are each between two instances most of the time:
   * one of them waiting on this thread would hold the others up), and the disk is not slow.
   */
  const alone = (transfer: string, counted = 1) => {
    if (active !== counted || !inlinePolicy.allowed()) return false;
    const now = performance.now();
    for (const [key, at] of lastBegin) {
      if (now - at > TRANSFER_QUIET_MS) lastBegin.delete(key);
      else if (key !== transfer) return false;
    }
    return true;
  };
  // Unique within this process; wx refuses a name left by another one. No random bytes per instance.
  const tmpPrefix = `${Date.now()}-${process.pid}-`;
  let tmpSeq = 0;
  mkdirSync(root, { recursive: true });
  knownDirs.add(root);

  /**
   * Makes `dir` and every missing directory above it, each made durable in its parent: a new
   * study's directory and its series' directory both (on ext4 without a journal, a directory whose
   * entry was never synced can be lost with everything under it in a power cut).
   */
  async function ensureDir(dir: string): Promise<void> {
    if (knownDirs.has(dir) || dirname(dir) === dir) return;
    await ensureDir(dirname(dir));
    await mkdir(dir, { recursive: true });
    await dirs.sync(dirname(dir));
    knownDirs.add(dir);
  }

  /** Forgets that a directory exists (it is being removed): the next writer into it makes it again. */
  function forgetDir(dir: string): void {
    knownDirs.delete(dir);
    dirs.forget(dir);
  }

  /** Renames a durable temporary file to its key and makes the new name durable. */
  async function publish(tmpPath: string, key: string, now: boolean): Promise<void> {
    const dest = pathOf(key);
    const dir = dirname(dest);
    await ensureDir(dir);
    try {
      renameSync(tmpPath, dest);
    } catch (err) {
      // A study removal took the directory away after it was made (removeAll): make it again.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      forgetDir(dir);
      await ensureDir(dir);
      renameSync(tmpPath, dest);
    }
    await dirs.sync(dir, now);
  }

  /** Removes `dir` if it is empty; false when something is in it (a new instance of the series). */
  async function removeIfEmpty(dir: string): Promise<boolean> {
    forgetDir(dir);
    try {
      await rmdir(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      throw ioError('cannot remove an empty directory', dir, err);
    }
  }

  const pathOf = (key: string) => {
    const p = join(blobRoot, key);
    if (!p.startsWith(blobRoot + sep)) throw new MedgeError('MEDGE_ERR_STORE_IO', `invalid blob key ${key}`, { key });
    return p;
  };

  return {
    async begin(options?: BeginOptions): Promise<BlobWriter> {
      await ensureDir(tmpRoot);
      const tmpPath = join(tmpRoot, `${tmpPrefix}${tmpSeq++}.part`);
      const transfer = options?.waitingTransfer;
      let fd: number;
      try {
        // w+: the header of a large instance is read back before commit. Creating a file waits
        // for the inode table and bitmap blocks that other writers' fsyncs are writing out (0.2
        // ms per open with four associations): then it goes to the thread pool.
        fd = transfer !== undefined && alone(transfer, 0) ? openSync(tmpPath, 'wx+') : await openFd(tmpPath, 'wx+');
      } catch (err) {
        throw ioError('cannot create a temporary file', tmpPath, err);
      }
      active++;
      lastBegin.set(transfer ?? '', performance.now());
      let counted = true;
      const finished = () => {
        if (counted) active--;
        counted = false;
      };
      const inline = () => transfer !== undefined && alone(transfer);
      return new FsBlobWriter(fd, tmpPath, { publish, inline, finished, waitedInline: (ms) => inlinePolicy.waited(ms) }, options?.ownedChunks);
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

    async removeAll(keys: readonly string[]): Promise<void> {
      const paths = keys.map(pathOf);
      await mapInGroups(paths, 16, (p) => rm(p, { force: true }).catch((err: unknown) => {
        throw ioError('cannot delete a stored file', p, err);
      }));
      // The directories that held them, then their parents: each removed when left empty (the
      // series, then the study), else synced so that the deletions in it are durable.
      let level = new Set(paths.map(dirname));
      const toSync = new Set<string>();
      while (level.size > 0) {
        const next = new Set<string>();
        for (const dir of level) {
          if (dir === blobRoot || !dir.startsWith(blobRoot + sep)) toSync.add(dir);
          else if (await removeIfEmpty(dir)) next.add(dirname(dir));
          else toSync.add(dir);
        }
        level = next;
      }
      for (const dir of toSync) await dirs.sync(dir);
    },

    list(options?: ListOptions): AsyncIterable<string> {
      return listBlobs(blobRoot, options?.changedSince);
    },

    localPath: pathOf,

    freeBytes(): number {
      const s = statfsSync(root);
      return s.bavail * s.bsize;
    },

    async quarantine(key: string): Promise<string> {
      const dest = join(root, QUARANTINE_DIR, key.split('/').join('_'));
      await ensureDir(dirname(dest));
      renameSync(pathOf(key), dest);
      await dirs.sync(dirname(pathOf(key)));
      await dirs.sync(dirname(dest));
      return dest;
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

/**
 * The keys under `root`, one directory at a time (memory stays that of the largest directory, not
 * of the whole store). With `changedSince`, a directory whose modification time is older is not
 * listed for its files: adding or removing a name changes a directory's mtime (POSIX), and the
 * rename's directory fsync makes the new mtime durable with the name. A directory with a link
 * count of 2 has no subdirectories (ext4, xfs; btrfs counts otherwise and is simply listed), so
 * an unchanged leaf (a series) costs one stat and no listing.
 */
async function* listBlobs(root: string, changedSince: number | undefined, dir = root): AsyncGenerator<string> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    return;
  }
  const changed = changedSince === undefined || info.mtimeMs >= changedSince;
  if (!changed && info.nlink === 2) return;
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) yield* listBlobs(root, changedSince, join(dir, entry.name));
    else if (changed && entry.name.endsWith('.dcm')) yield relative(root, join(dir, entry.name)).split(sep).join('/');
  }
}

/** open(2) in the thread pool, as a plain descriptor (a FileHandle closes itself when collected). */
function openFd(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => openCb(path, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

function notFoundOrIo(key: string, err: unknown): MedgeError {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    return new MedgeError('MEDGE_ERR_STORE_NOT_FOUND', `no stored blob ${key}`, { key }, err);
  }
  return ioError('cannot read a stored blob', key, err);
}
