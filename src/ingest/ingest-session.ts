import { MedgeError } from '../errors.js';
import { readFileMeta } from '../dicom/part10.js';
import { parseImageHeaderEarly, parseInstanceHeader, type InstanceHeader } from '../dicom/header.js';
import { isStorageSopClass } from '../dicom/sop-classes.js';
import type { BlobWriter } from '../store/blob-store.js';
import { blobKeyFor } from './blob-key.js';
import type { IngestDeps } from './ingest.js';
import { sameDataset } from './same-dataset.js';
import { seriesSignals } from './series-signals.js';
import type { DimseDatasetMeta, IngestContext, IngestOutcome } from './types.js';

/**
 * The first bytes of each instance are kept in memory for parsing the meta and the header.
 * Almost every header ends well within them; a longer one is read back from the temporary file.
 */
const HEAD_LIMIT = 64 * 1024;
/**
 * The meta and the header are first parsed from this many bytes (copied out of the pieces) and
 * from the whole kept head only when they run longer: copying 64 KB twice per instance was 26 MB
 * of allocation per 200-slice series for headers of a few KB.
 */
const META_PEEK = 4 * 1024;
const HEADER_PEEK = 16 * 1024;
/** How far into a large file we read to find the end of the header; beyond this it is not parseable. */
const HEADER_READ_LIMIT = 64 * 1024 * 1024;
/** Free space is re-checked every this many bytes of one instance. */
const DISK_CHECK_INTERVAL = 16 * 1024 * 1024;

/** The four UIDs every stored instance has. */
interface InstanceIds {
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
}

/** One instance on its way into the store (ingest.ts hands it to the caller as an IngestSession). */
export class Session {
  /**
   * A copy of the first bytes of the file, kept for the meta and header parse; whole for small
   * files. A copy because DIMSE chunks are views into a read buffer reused once a write resolves.
   */
  private head: Buffer | undefined = Buffer.allocUnsafe(HEAD_LIMIT);
  private headBytes = 0;
  /** The header, parsed while the pixels were still arriving (images); its lengths are checked at the end. */
  private early: { header: InstanceHeader; verify(totalLength: number): void } | undefined;
  private earlyTried = false;
  private datasetOffset: number | undefined;
  private transferSyntaxUid: string | undefined;
  private nextDiskCheck = DISK_CHECK_INTERVAL;
  private closed = false;
  /** Bytes to write before the first chunk (the file meta of a DIMSE dataset). */
  private pending: Buffer | undefined;

  constructor(
    private readonly writer: BlobWriter,
    private readonly ctx: IngestContext,
    private readonly dimse: DimseDatasetMeta | undefined,
    private readonly receivedAt: number,
    private readonly checkDisk: () => void,
    /** Marks the instance as between commit and index (Ingest.publishingSince); returns the end of it. */
    private readonly startPublishing: () => () => void,
  ) {}

  /** Bytes that go before everything written; held until the first write. */
  prefix(bytes: Buffer): void {
    this.pending = bytes;
  }

  async writev(input: readonly Buffer[]): Promise<void> {
    if (this.closed) throw new MedgeError('MEDGE_ERR_INGEST_ABORTED', 'the instance was already finished or aborted');
    try {
      let chunks = input;
      if (this.pending) {
        chunks = [this.pending, ...input];
        this.pending = undefined;
      }
      let length = 0;
      for (const chunk of chunks) {
        length += chunk.length;
        if (this.headBytes < HEAD_LIMIT && this.head && !this.early) {
          this.headBytes += chunk.copy(this.head, this.headBytes, 0, Math.min(chunk.length, HEAD_LIMIT - this.headBytes));
          if (this.datasetOffset === undefined) this.tryReadMeta();
        }
      }
      // Parsed while the rest arrives, off the path between the last byte and the answer.
      if (!this.earlyTried && this.datasetOffset !== undefined && this.headBytes >= HEADER_PEEK) {
        this.earlyTried = true;
        const early = parseImageHeaderEarly(this.headPrefix(HEADER_PEEK), this.transferSyntaxUid!, this.datasetOffset);
        if (early.kind === 'ok') this.early = early;
      }
      if (this.writer.bytesWritten + length >= this.nextDiskCheck) {
        this.nextDiskCheck += DISK_CHECK_INTERVAL;
        this.checkDisk();
      }
      if (chunks.length === 1) await this.writer.write(chunks[0]!);
      else if (chunks.length > 1) await this.writer.writev(chunks);
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** The first `limit` bytes kept (fewer if fewer are in). */
  private headPrefix(limit: number): Buffer {
    return this.head ? this.head.subarray(0, Math.min(limit, this.headBytes)) : Buffer.alloc(0);
  }

  /** Reads the PS3.10 file meta once enough bytes are in. */
  private tryReadMeta(): void {
    let meta = readFileMeta(this.headPrefix(META_PEEK));
    if (meta === undefined && this.headBytes > META_PEEK) meta = readFileMeta(this.headPrefix(HEAD_LIMIT));
    if (meta === undefined) {
      if (this.headBytes >= HEAD_LIMIT) throw notDicom('the file meta information does not end');
      return;
    }
    if (meta === null) throw notDicom('no DICM prefix or no Transfer Syntax UID in the file meta information (PS3.10 7.1)');
    this.datasetOffset = meta.datasetOffset;
    this.transferSyntaxUid = meta.transferSyntaxUid;
  }

  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.head = undefined;
    await this.writer.abort();
  }

  async finish(deps: IngestDeps): Promise<IngestOutcome> {
    if (this.closed) throw new MedgeError('MEDGE_ERR_INGEST_ABORTED', 'the instance was already finished or aborted');
    if (this.pending) await this.writev([]);
    try {
      // The fdatasync runs while the header is parsed and the index asked for a duplicate.
      this.writer.startSync?.();
      if (this.datasetOffset === undefined || this.transferSyntaxUid === undefined) {
        throw notDicom(this.writer.bytesWritten === 0 ? 'the object is empty' : 'the object is not a DICOM Part 10 file');
      }
      const header = await this.parseHeader();
      const ids = this.checkIdentity(header);
      const size = this.writer.bytesWritten;
      const existing = deps.index.getInstance(ids.sopInstanceUid);
      if (existing && (await sameDataset(deps.store, existing, this.writer, this.datasetOffset))) {
        await this.abort();
        return { ...ids, status: 'duplicate', transferSyntaxUid: this.transferSyntaxUid, size: existing.size, receivedAt: this.receivedAt };
      }
      const blobKey = blobKeyFor(ids.studyInstanceUid, ids.seriesInstanceUid, ids.sopInstanceUid, this.receivedAt);
      this.closed = true;
      this.head = undefined;
      // From the rename to the index commit the file is in place but not indexed: the store's
      // consistency mark must not pass this instance (store-marks.ts).
      const published = this.startPublishing();
      try {
        await this.writer.commit(blobKey);
        let recorded;
        try {
          recorded = deps.index.record({
            ...header,
            ...ids,
            transferSyntaxUid: this.transferSyntaxUid,
            blobKey,
            size,
            datasetOffset: this.datasetOffset,
            receivedAt: this.receivedAt,
            protocol: this.ctx.protocol,
            callingAe: this.ctx.callingAe ?? null,
            associationId: this.ctx.associationId ?? null,
            remoteAddress: this.ctx.remoteAddress ?? null,
          });
        } catch (err) {
          await deps.store.delete(blobKey);
          throw new MedgeError('MEDGE_ERR_STORE_IO', `cannot index the instance: ${(err as Error).message}`, { sop: ids.sopInstanceUid }, err);
        }
        if (recorded.kind === 'replaced') await deps.store.delete(recorded.previousBlobKey);
        return { ...ids, status: recorded.kind === 'replaced' ? 'replaced' : 'stored', transferSyntaxUid: this.transferSyntaxUid, size, receivedAt: this.receivedAt, signals: seriesSignals(header) };
      } finally {
        published();
      }
    } catch (err) {
      await this.abort().catch(() => undefined);
      throw err;
    }
  }

  /** Parses from the bytes kept in memory, reading further into the temporary file only for huge headers. */
  private async parseHeader(): Promise<InstanceHeader> {
    const total = this.writer.bytesWritten;
    const ts = this.transferSyntaxUid!;
    if (this.early) {
      this.early.verify(total);
      return this.early.header;
    }
    const at = this.datasetOffset;
    let parsed = parseInstanceHeader(this.headPrefix(HEADER_PEEK), ts, total, at);
    if (parsed.kind === 'need-more' && this.headBytes > HEADER_PEEK) parsed = parseInstanceHeader(this.headPrefix(HEAD_LIMIT), ts, total, at);
    if (parsed.kind === 'ok') return parsed.header;
    for (let length = HEAD_LIMIT * 16; ; length *= 4) {
      const bytes = await this.writer.readRange(0, Math.min(length, total));
      const more = parseInstanceHeader(bytes, ts, total, at);
      if (more.kind === 'ok') return more.header;
      if (length >= total || length >= HEADER_READ_LIMIT) {
        throw new MedgeError('MEDGE_ERR_INGEST_PARSE', `the dataset header does not end within the first ${formatBytes(Math.min(length, total))}`);
      }
    }
  }

  private checkIdentity(h: InstanceHeader): InstanceIds {
    const missing = (['sopClassUid', 'sopInstanceUid', 'studyInstanceUid', 'seriesInstanceUid'] as const).filter((k) => !h[k]);
    if (missing.length > 0) {
      throw new MedgeError('MEDGE_ERR_INGEST_MISSING_UID', `the dataset has no ${missing.join(', ')}`, { missing });
    }
    if (this.dimse && (this.dimse.sopInstanceUid !== h.sopInstanceUid || this.dimse.sopClassUid !== h.sopClassUid)) {
      throw new MedgeError(
        'MEDGE_ERR_INGEST_UID_MISMATCH',
        `the C-STORE command names SOP instance ${this.dimse.sopInstanceUid} of class ${this.dimse.sopClassUid} but the dataset holds ${h.sopInstanceUid} of class ${h.sopClassUid}`,
        { commandSop: this.dimse.sopInstanceUid, datasetSop: h.sopInstanceUid },
      );
    }
    if (!isStorageSopClass(h.sopClassUid!)) {
      throw new MedgeError('MEDGE_ERR_INGEST_SOP_CLASS', `SOP class ${h.sopClassUid} is not a storage SOP class this node accepts`, { sopClassUid: h.sopClassUid });
    }
    return { sopClassUid: h.sopClassUid!, sopInstanceUid: h.sopInstanceUid!, studyInstanceUid: h.studyInstanceUid!, seriesInstanceUid: h.seriesInstanceUid! };
  }
}

function notDicom(reason: string): MedgeError {
  return new MedgeError('MEDGE_ERR_INGEST_NOT_DICOM', `not a DICOM file: ${reason}`);
}

export function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`;
}
