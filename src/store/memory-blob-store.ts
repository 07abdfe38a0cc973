import { Readable } from 'node:stream';
import { MedgeError } from '../errors.js';
import type { BlobStore, BlobWriter } from './blob-store.js';

/** In-memory twin of the filesystem blob store, for tests (house style 1). */
export function createMemoryBlobStore(options: { freeBytes?: () => number; now?: () => number } = {}): BlobStore {
  const blobs = new Map<string, Buffer>();
  const now = options.now ?? Date.now;
  /** When a blob was last added to or removed from each directory (key prefix), like a directory's mtime. */
  const changedAt = new Map<string, number>();
  const dirOf = (key: string) => key.slice(0, key.lastIndexOf('/') + 1);
  const get = (key: string) => {
    const b = blobs.get(key);
    if (!b) throw new MedgeError('MEDGE_ERR_STORE_NOT_FOUND', `no stored blob ${key}`, { key });
    return b;
  };
  return {
    async begin(): Promise<BlobWriter> {
      const chunks: Buffer[] = [];
      let aborted = false;
      let bytesWritten = 0;
      const writer: BlobWriter = {
        get bytesWritten() {
          return bytesWritten;
        },
        async write(chunk) {
          chunks.push(Buffer.from(chunk));
          bytesWritten += chunk.length;
        },
        async writev(list) {
          for (const chunk of list) {
            chunks.push(Buffer.from(chunk));
            bytesWritten += chunk.length;
          }
        },
        async readRange(start, length) {
          return Buffer.concat(chunks).subarray(start, start + length);
        },
        async commit(key) {
          if (aborted) throw new MedgeError('MEDGE_ERR_STORE_IO', 'writer was aborted', { key });
          blobs.set(key, Buffer.concat(chunks));
          changedAt.set(dirOf(key), now());
        },
        async abort() {
          aborted = true;
          chunks.length = 0;
        },
      };
      return writer;
    },
    createReadStream: (key, options) => Readable.from([get(key).subarray(options?.start ?? 0)]),
    read: async (key) => get(key),
    stat: async (key) => (blobs.has(key) ? { size: blobs.get(key)!.length, modifiedAt: 0 } : undefined),
    delete: async (key) => {
      if (blobs.delete(key)) changedAt.set(dirOf(key), now());
    },
    async removeAll(keys) {
      for (const key of keys) if (blobs.delete(key)) changedAt.set(dirOf(key), now());
    },
    async *list(listOptions) {
      const since = listOptions?.changedSince;
      yield* [...blobs.keys()].filter((key) => since === undefined || (changedAt.get(dirOf(key)) ?? 0) >= since);
    },
    freeBytes: () => options.freeBytes?.() ?? Number.MAX_SAFE_INTEGER,
    cleanTemporary: async () => 0,
    quarantine: async (key) => {
      get(key);
      blobs.delete(key);
      changedAt.set(dirOf(key), now());
      return `quarantine/${key}`;
    },
  };
}
