/**
 * medge as a Storage and Verification SCU (PS3.4 A, B): `echo` and `storeFiles`. Files go out
 * byte-for-byte from disk in their own transfer syntax (streamed, PS3.10 meta skipped, no
 * re-encoding); only an uncompressed file whose syntax the peer refused is converted (scu-convert.ts).
 */
import { open } from 'node:fs/promises';
import { MedgeError, toMedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import type { DicomUser } from '../config/schema.js';
import { readFileMeta, type ParsedFileMeta } from '../dicom/part10.js';
import { TS } from '../dicom/uids.js';
import { pino } from 'pino';
import { ScuAssociation, type ScuTlsOptions } from './scu-association.js';
import type { PresentationContextRq } from './pdu-associate.js';
import type { DimseCommand } from './command.js';
import type { Connection } from './connection.js';
import type { AcceptedContext } from './negotiation.js';
import { fragmentMessage } from './pdu.js';
import { discardLater, prepareDataset, streamDataset, type PreparedDataset } from './scu-stream.js';
import { CommandField, PRIORITY_MEDIUM, VERIFICATION_SOP_CLASS } from './pdu-constants.js';
import { CONVERTIBLE, convertDataset } from './scu-convert.js';
import { isFailureStatus, statusHex } from './status.js';
import { mapInGroups } from '../util/map-in-groups.js';

export interface PeerOptions {
  host: string;
  port: number;
  calledAe: string;
  callingAe?: string;
  /** Bound on each network wait, ms (default 30 000). */
  timeoutMs?: number;
  /** DICOM TLS to the peer (PS3.15 B.1). */
  tls?: ScuTlsOptions;
  /** A User Identity to present (PS3.7 D.3.3.7). */
  user?: DicomUser;
  log?: Logger;
}

const silent = (): Logger => pino({ level: 'silent' });
const FALLBACK = [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian];
/** PS3.8 9.3.2.2: presentation context ids are odd numbers 1..255, so at most 128 per association. */
const MAX_CONTEXTS = 128;

/** C-ECHO (PS3.7 9.1.5). Resolves with the round trip in ms; throws a MedgeError. */
export async function echo(opts: PeerOptions): Promise<{ status: number; elapsedMs: number }> {
  const started = performance.now();
  const assoc = await ScuAssociation.open({
    ...opts,
    callingAe: opts.callingAe ?? 'MEDGE',
    log: opts.log ?? silent(),
    contexts: [{ id: 1, abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: FALLBACK }],
  });
  try {
    const pc = assoc.findContext(VERIFICATION_SOP_CLASS);
    if (!pc) throw new MedgeError('MEDGE_ERR_DIMSE_NO_CONTEXT', 'the peer does not accept Verification', { sopClassUid: VERIFICATION_SOP_CLASS });
    const rsp = await assoc.request(pc.id, { commandField: CommandField.CEchoRq, messageId: assoc.newMessageId(), affectedSopClassUid: VERIFICATION_SOP_CLASS, hasDataset: false });
    const status = rsp.status ?? 0;
    if (isFailureStatus(status)) throw new MedgeError('MEDGE_ERR_DIMSE_STATUS', `C-ECHO failed with status ${statusHex(status)}`, { status, errorComment: rsp.errorComment });
    await assoc.release();
    return { status, elapsedMs: performance.now() - started };
  } catch (err) {
    assoc.abort();
    throw err;
  }
}

export interface StoreFileResult {
  file: string;
  ok: boolean;
  /** DIMSE status of the C-STORE-RSP, when one came. */
  status?: number;
  error?: MedgeError;
  /** Dataset bytes sent. */
  bytes: number;
}

export interface StoreProgress {
  done: number;
  total: number;
  bytes: number;
  last: StoreFileResult;
}

export interface StoreFilesOptions extends PeerOptions {
  /** Paths of Part 10 files, or items whose meta the caller already knows (the index: no read for it). */
  files: (string | StoreItem)[];
  onProgress?(p: StoreProgress): void;
  /** C-STORE sub-operations of a C-MOVE name who asked for it (PS3.7 9.3.1.1: Move Originator AE Title and Message ID). */
  moveOriginator?: { aeTitle: string; messageId: number };
  /** Checked before each file: true stops (a C-CANCEL); the files not sent have no result. */
  shouldStop?(): boolean;
}

export interface StoreSummary {
  sent: number;
  failed: number;
  bytes: number;
  elapsedMs: number;
  associations: number;
}

/** A file to send and what its meta says. */
export interface StoreItem {
  file: string;
  meta: ParsedFileMeta;
  size: number;
}

/**
 * What sending a C-STORE-RQ needs of an association: ours as the SCU (ScuAssociation), or a
 * C-GET requestor's, whose storage contexts it accepted in the SCP role (scp-get.ts).
 */
export interface StoreChannel {
  readonly conn: Connection;
  readonly accepted: ReadonlyMap<number, AcceptedContext>;
  findContext(abstractSyntax: string, transferSyntax?: string): AcceptedContext | undefined;
  newMessageId(): number;
  /** Sends the command, then the dataset (`sendDataset`), and resolves with the final response. */
  request(contextId: number, cmd: DimseCommand, sendDataset?: () => Promise<void>): Promise<DimseCommand>;
}

/** Sends every file; never throws for one file's failure: see each result. */
export async function storeFiles(opts: StoreFilesOptions): Promise<{ results: StoreFileResult[]; summary: StoreSummary }> {
  const started = performance.now();
  const log = opts.log ?? silent();
  const results: StoreFileResult[] = [];
  let bytes = 0;
  let associations = 0;
  const report = (r: StoreFileResult) => {
    results.push(r);
    bytes += r.bytes;
    opts.onProgress?.({ done: results.length, total: opts.files.length, bytes, last: r });
  };
  const items: StoreItem[] = [];
  // Metas are read META_READS files at a time (four thread-pool trips each: open, stat, read,
  // close), in order; a file that cannot be read is reported and left out.
  const metas = await mapInGroups(opts.files, META_READS, async (file) => (typeof file === 'string' ? readMeta(file).catch((err: unknown) => toMedgeError(err)) : file));
  metas.forEach((meta, j) => {
    if (meta instanceof MedgeError) report({ file: opts.files[j] as string, ok: false, error: meta, bytes: 0 });
    else items.push(meta);
  });
  let queue = items;
  while (queue.length > 0 && !opts.shouldStop?.()) {
    const { batch, contexts } = nextBatch(queue);
    queue = queue.slice(batch.length);
    let assoc: ScuAssociation;
    try {
      assoc = await ScuAssociation.open({ ...opts, callingAe: opts.callingAe ?? 'MEDGE', log, contexts });
      associations++;
    } catch (err) {
      for (const it of batch) report({ file: it.file, ok: false, error: toMedgeError(err), bytes: 0 });
      continue;
    }
    let i = 0;
    let prepared: Promise<PreparedDataset | undefined> | undefined;
    for (; i < batch.length && assoc.usable && !opts.shouldStop?.(); i++) {
      const next = batch[i + 1];
      const mine = prepared;
      prepared = undefined;
      // While the peer stores this file, the next one is opened and its first batch read.
      const onDatasetSent = next ? () => void (prepared = prepareNext(assoc, next)) : undefined;
      report(await storeOne(assoc, batch[i]!, opts.moveOriginator, { prepared: mine, onDatasetSent }));
    }
    discardLater(assoc.conn, prepared);
    if (i < batch.length && !opts.shouldStop?.()) queue = [...batch.slice(i), ...queue]; // association lost: re-associate for the rest
    else await assoc.release().catch(() => assoc.abort());
  }
  const sent = results.filter((r) => r.ok).length;
  return { results, summary: { sent, failed: results.length - sent, bytes, elapsedMs: performance.now() - started, associations } };
}

/** Files whose meta is read at once before sending (libuv's pool has 4 threads). */
const META_READS = 16;

/** Bytes read first for a file's meta; more (x4 each time) only when it does not end within them. */
const META_PEEK = 4 * 1024;

/** Reads a file's PS3.10 meta (MEDGE_ERR_INGEST_NOT_DICOM when it has none). */
export async function readMeta(file: string): Promise<StoreItem> {
  const fh = await open(file, 'r').catch((err) => {
    throw new MedgeError('MEDGE_ERR_STORE_IO', `cannot read ${file}`, { path: file }, err);
  });
  try {
    const { size } = await fh.stat();
    // The meta is a few hundred bytes (PS3.10 7.1); a fresh zero-filled 64 KB per file was most of
    // this function's cost when sending a series.
    let want = META_PEEK;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(want, size));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      if (bytesRead < buf.length) buf.fill(0, bytesRead);
      const meta = readFileMeta(buf);
      if (meta) return { file, meta, size };
      if (meta === null || buf.length >= size) throw new MedgeError('MEDGE_ERR_INGEST_NOT_DICOM', `${file} is not a DICOM Part 10 file`, { path: file });
      want *= 4;
    }
  } finally {
    await fh.close();
  }
}

/** Takes files from the front while their contexts fit in one association (PS3.8 9.3.2.2). */
function nextBatch(queue: StoreItem[]): { batch: StoreItem[]; contexts: PresentationContextRq[] } {
  const keys = new Map<string, PresentationContextRq>();
  const batch: StoreItem[] = [];
  for (const it of queue) {
    const sop = it.meta.mediaStorageSopClassUid;
    const own = `${sop}|${it.meta.transferSyntaxUid}`;
    const fallback = `${sop}|fallback`;
    const adding = [own, fallback].filter((k) => !keys.has(k));
    if (keys.size + adding.length > MAX_CONTEXTS && batch.length > 0) break;
    for (const k of adding) {
      const id = keys.size * 2 + 1;
      keys.set(k, { id, abstractSyntax: sop, transferSyntaxes: k === fallback ? FALLBACK : [it.meta.transferSyntaxUid] });
    }
    batch.push(it);
  }
  return { batch, contexts: [...keys.values()] };
}

/**
 * One C-STORE: the file's own transfer syntax when a context has it, else a conversion to an
 * accepted uncompressed one (scu-convert.ts); never throws, the result says what happened.
 */
export async function storeOne(assoc: StoreChannel, it: StoreItem, moveOriginator?: StoreFilesOptions['moveOriginator'], overlap: StoreOverlap = {}): Promise<StoreFileResult> {
  const sopClassUid = it.meta.mediaStorageSopClassUid;
  const fileTs = it.meta.transferSyntaxUid;
  let pc = assoc.findContext(sopClassUid, fileTs);
  let send: () => Promise<number>;
  let prepared = overlap.prepared;
  const discard = () => {
    discardLater(assoc.conn, prepared);
    prepared = undefined;
  };
  if (pc) {
    const id = pc.id;
    send = async () => {
      const ready = await prepared;
      prepared = undefined;
      return streamDataset(assoc, id, it, ready);
    };
  } else {
    discard();
    pc = [...assoc.accepted.values()].find((c) => c.abstractSyntax === sopClassUid && CONVERTIBLE.has(c.transferSyntax));
    if (!pc || !CONVERTIBLE.has(fileTs)) {
      const error = new MedgeError('MEDGE_ERR_DIMSE_NO_CONTEXT', `the peer accepts neither ${fileTs} nor a syntax this file can be converted to`, { sopClassUid, transferSyntaxUid: fileTs, path: it.file });
      return { file: it.file, ok: false, error, bytes: 0 };
    }
    const target = pc;
    send = async () => {
      const dataset = await convertDataset(it.file, target.transferSyntax);
      for (const pdu of fragmentMessage(target.id, false, dataset, assoc.conn.peerMaxPduLength)) await assoc.conn.send(pdu);
      return dataset.length;
    };
  }
  let sent = 0;
  try {
    const rsp = await assoc.request(
      pc.id,
      {
        commandField: CommandField.CStoreRq,
        messageId: assoc.newMessageId(),
        affectedSopClassUid: sopClassUid,
        affectedSopInstanceUid: it.meta.mediaStorageSopInstanceUid,
        priority: PRIORITY_MEDIUM,
        hasDataset: true,
        moveOriginatorAeTitle: moveOriginator?.aeTitle,
        moveOriginatorMessageId: moveOriginator?.messageId,
      },
      async () => {
        sent = await send();
        overlap.onDatasetSent?.();
      },
    );
    const status = rsp.status ?? 0;
    if (isFailureStatus(status)) {
      const error = new MedgeError('MEDGE_ERR_DIMSE_STATUS', `C-STORE failed with status ${statusHex(status)}${rsp.errorComment ? `: ${rsp.errorComment}` : ''}`, { status, errorComment: rsp.errorComment, path: it.file });
      return { file: it.file, ok: false, status, error, bytes: sent };
    }
    return { file: it.file, ok: true, status, bytes: sent };
  } catch (err) {
    return { file: it.file, ok: false, error: toMedgeError(err), bytes: sent };
  } finally {
    discard();
  }
}

/** What storeFiles overlaps with a C-STORE: the file prepared while the previous one was stored, and the hook to prepare the next. */
export interface StoreOverlap {
  prepared?: Promise<PreparedDataset | undefined>;
  /** Called once the dataset is sent, while the peer stores it. */
  onDatasetSent?: () => void;
}

/** The next file, opened and its first batch read, when it goes out in its own syntax (no conversion). */
function prepareNext(assoc: StoreChannel, it: StoreItem): Promise<PreparedDataset | undefined> {
  const pc = assoc.findContext(it.meta.mediaStorageSopClassUid, it.meta.transferSyntaxUid);
  return pc ? prepareDataset(assoc.conn, pc.id, it) : Promise.resolve(undefined);
}
