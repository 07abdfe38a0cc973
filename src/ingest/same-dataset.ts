import type { BlobStore, BlobWriter } from '../store/blob-store.js';
import type { StoredInstance } from '../store/index-db.js';

const BLOCK = 1024 * 1024;

/**
 * Whether the instance being received carries the same dataset as the stored one (the file meta
 * may differ: the source AE, the implementation UID). Only called when the SOP Instance UID is
 * already in the index, so the hot path never hashes or compares anything.
 */
export async function sameDataset(store: BlobStore, stored: StoredInstance, incoming: BlobWriter, incomingOffset: number): Promise<boolean> {
  const length = incoming.bytesWritten - incomingOffset;
  if (stored.size - stored.datasetOffset !== length) return false;
  const stream = store.createReadStream(stored.blobKey, { start: stored.datasetOffset, highWaterMark: BLOCK });
  let position = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const mine = await incoming.readRange(incomingOffset + position, chunk.length);
      if (!mine.equals(chunk)) return false;
      position += chunk.length;
    }
  } catch {
    return false;
  } finally {
    stream.destroy();
  }
  return position === length;
}
