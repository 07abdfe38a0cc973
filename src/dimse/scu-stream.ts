/**
 * A stored file's dataset on its way out as P-DATA-TF PDUs (PS3.8 9.3.5): read straight from the
 * file into PDUs laid end to end in batch buffers reused per association (scu.ts storeOne).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { MedgeError } from '../errors.js';
import { WRITEV_MAX } from '../store/write-behind.js';
import type { Connection } from './connection.js';
import { maxDataPerPdu, PDATA_PREFIX, writePDataPrefix } from './pdu.js';
import type { StoreChannel, StoreItem } from './scu.js';

/** Dataset bytes read from the file in one readv and written to the socket in one write. */
const BATCH_BYTES = 1024 * 1024;
/** A batch buffer: the dataset bytes and the 12-byte prefixes of their PDUs. */
const BATCH_CAPACITY = BATCH_BYTES + 64 * 1024;

/** One batch of whole PDUs read from the file, ready to be written. */
interface Batch {
  buf: Buffer;
  /** Bytes of PDUs in `buf`. */
  used: number;
  /** Dataset bytes (padding included) the batch carries. */
  bytes: number;
}

/**
 * The file open and its first batch read, before the previous C-STORE's answer came (storeFiles
 * prepares the next file while the peer stores the last one): the read overlaps the peer's work.
 */
export interface PreparedDataset {
  it: StoreItem;
  contextId: number;
  fh: FileHandle;
  first: Batch;
}

/**
 * Reads the dataset straight into P-DATA-TF PDUs laid end to end in one batch buffer: up to
 * BATCH_BYTES at a time, filled by one readv (one thread-pool trip instead of one per PDU: 33 per
 * 525 KB instance at the common 16 KB maximum PDU) and handed to the socket in one write of whole
 * PDUs. The batch buffers are reused once the socket has written them (Connection.sendBatch), so
 * that sending touches no new memory per instance. `prepared`: the file already open and its first
 * batch read (prepareDataset), when it is this item's on this context.
 */
export async function streamDataset(assoc: StoreChannel, contextId: number, it: StoreItem, prepared?: PreparedDataset): Promise<number> {
  const usable = prepared !== undefined && prepared.it === it && prepared.contextId === contextId;
  if (prepared && !usable) await discardPrepared(assoc.conn, prepared);
  const fh = usable ? prepared.fh : await open(it.file, 'r');
  try {
    const padded = paddedLength(it);
    let sent = 0;
    let next: Batch | undefined = usable ? prepared.first : undefined;
    do {
      const batch = next ?? (await readBatch(assoc.conn, fh, contextId, it, sent));
      next = undefined;
      await assoc.conn.sendBatch(batch.buf.subarray(0, batch.used), () => giveBatchBuffer(assoc.conn, batch.buf));
      sent += batch.bytes;
    } while (sent < padded);
    return padded;
  } finally {
    await fh.close();
  }
}

/**
 * Opens the file and reads its first batch for `contextId`, so that sending it can start as soon as
 * the association is free; undefined when it cannot (the send then opens the file itself and
 * reports what went wrong).
 */
export async function prepareDataset(conn: Connection, contextId: number, it: StoreItem): Promise<PreparedDataset | undefined> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(it.file, 'r');
    return { it, contextId, fh, first: await readBatch(conn, fh, contextId, it, 0) };
  } catch {
    await fh?.close().catch(() => undefined);
    return undefined;
  }
}

/** Closes a prepared file that will not be sent and frees its batch. */
async function discardPrepared(conn: Connection, prepared: PreparedDataset): Promise<void> {
  giveBatchBuffer(conn, prepared.first.buf);
  await prepared.fh.close().catch(() => undefined);
}

/** The same for a preparation that may still be under way: once it is done, in the background. */
export function discardLater(conn: Connection, preparing: Promise<PreparedDataset | undefined> | undefined): void {
  void preparing?.then((p) => p && discardPrepared(conn, p));
}

/** PS3.5 7.1 / A.5: a dataset (a deflated stream included) is of even length on the wire; an odd one gets a trailing NUL, as dcmtk rejects odd fragments ("Odd Fragment Length"). */
function paddedLength(it: StoreItem): number {
  const length = it.size - it.meta.datasetOffset;
  return length + (length % 2);
}

/** The batch of PDUs that starts `sent` bytes into the dataset, read from the file. */
async function readBatch(conn: Connection, fh: FileHandle, contextId: number, it: StoreItem, sent: number): Promise<Batch> {
  // Within the peer's maximum, and never more than a batch (a peer may announce 4 MB or no limit).
  const chunk = Math.min(maxDataPerPdu(conn.peerMaxPduLength), BATCH_BYTES);
  const length = it.size - it.meta.datasetOffset;
  const padded = paddedLength(it);
  const buf = takeBatchBuffer(conn);
  const targets: Buffer[] = [];
  let batch = 0;
  let used = 0;
  let fromFile = 0;
  do {
    const at = sent + batch;
    const n = Math.min(chunk, padded - at);
    writePDataPrefix(buf, used, contextId, false, at + n >= padded, n);
    const dataStart = used + PDATA_PREFIX;
    const data = Math.max(0, Math.min(n, length - at));
    if (data < n) buf.fill(0, dataStart + data, dataStart + n);
    if (data > 0) targets.push(buf.subarray(dataStart, dataStart + data));
    used = dataStart + n;
    batch += n;
    fromFile += data;
  } while (sent + batch < padded && used + PDATA_PREFIX + Math.min(chunk, padded - sent - batch) <= BATCH_CAPACITY && batch < BATCH_BYTES && targets.length < WRITEV_MAX);
  let bytesRead;
  try {
    ({ bytesRead } = await fh.readv(targets, it.meta.datasetOffset + sent));
  } catch (err) {
    giveBatchBuffer(conn, buf);
    throw err;
  }
  if (bytesRead !== fromFile) {
    giveBatchBuffer(conn, buf);
    throw new MedgeError('MEDGE_ERR_STORE_IO', `${it.file} changed while being sent`, { path: it.file });
  }
  return { buf, used, bytes: batch };
}

/** Batch buffers per connection, free for the next batch (two: one being written, one being filled). */
const batchBuffers = new WeakMap<Connection, Buffer[]>();

function takeBatchBuffer(conn: Connection): Buffer {
  return batchBuffers.get(conn)?.pop() ?? Buffer.allocUnsafeSlow(BATCH_CAPACITY);
}

function giveBatchBuffer(conn: Connection, buf: Buffer): void {
  let free = batchBuffers.get(conn);
  if (!free) batchBuffers.set(conn, (free = []));
  if (free.length < 2) free.push(buf);
}
