import { MedgeError, toMedgeError } from '../errors.js';
import { readFileMeta } from '../dicom/part10.js';
import { parseInstanceHeader } from '../dicom/header.js';
import type { Ingest, IngestContext, IngestOutcome, IngestSession } from '../ingest/types.js';
import { failureReasonOf } from './stow-failure.js';

/** What became of one part of a STOW-RS request. */
export type PartResult =
  | { ok: true; outcome: IngestOutcome }
  | { ok: false; reason: number; error: MedgeError; sopClassUid?: string; sopInstanceUid?: string };

/** Bytes kept from the start of a part to name it in a failure (its file meta information). */
const PREFIX_LIMIT = 64 * 1024;
/**
 * When the request names a study, bytes held back until the header shows the part's Study
 * Instance UID, so that an instance of another study is never stored (PS3.18 10.5.1.1). Past
 * this the part is ingested unchecked and a mismatch is reported after it was stored.
 */
const STUDY_CHECK_LIMIT = 8 * 1024 * 1024;
/**
 * Body chunks (64 KB views of the socket reads) are handed to the ingest in batches of about this
 * many bytes with one writev, instead of one file write and thread-pool round trip per chunk.
 */
const WRITE_BATCH = 512 * 1024;

/**
 * Carries one application/dicom part into the ingest: each chunk is awaited (the ingest's
 * backpressure), and every error becomes a failed part, never a failed request.
 */
export class StowPart {
  private session: IngestSession | undefined;
  private failure: PartResult | undefined;
  private prefix: Buffer[] = [];
  private prefixBytes = 0;
  /** Chunks held back while the study is not yet known (only when `expectedStudy` is set). */
  private held: Buffer[] | undefined;
  private heldBytes = 0;
  private nextStudyCheck = 0;
  /** Chunks not yet handed to the ingest (fewer than WRITE_BATCH bytes). */
  private batch: Buffer[] = [];
  private batchBytes = 0;

  constructor(
    private readonly ingest: Ingest,
    private readonly ctx: IngestContext,
    private readonly expectedStudy: string | undefined,
  ) {
    if (expectedStudy) this.held = [];
  }

  /** A part that is refused before any byte is read (for instance, a media type we do not take). */
  static refused(error: MedgeError): PartResult {
    return { ok: false, reason: failureReasonOf(error), error };
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) return; // drain the rest of a failed part
    if (this.prefixBytes < PREFIX_LIMIT) {
      this.prefix.push(chunk);
      this.prefixBytes += chunk.length;
    }
    if (this.held) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      // Parse again only when the held bytes have doubled, so holding costs linear time, not quadratic.
      if (this.heldBytes < this.nextStudyCheck && this.heldBytes < STUDY_CHECK_LIMIT) return;
      this.nextStudyCheck = this.heldBytes * 2;
      const verdict = this.checkStudy(false);
      if (verdict === 'wait' && this.heldBytes < STUDY_CHECK_LIMIT) return;
      if (verdict === 'mismatch') return;
      await this.flushHeld();
      return;
    }
    await this.toIngest(chunk);
  }

  async end(): Promise<PartResult> {
    if (this.held && !this.failure) {
      if (this.checkStudy(true) !== 'mismatch') await this.flushHeld();
    }
    if (!this.failure) await this.flushBatch();
    if (this.failure) return this.failure;
    try {
      const session = this.session ?? (await this.begin());
      const outcome = await session.finish();
      this.session = undefined;
      if (this.expectedStudy && outcome.studyInstanceUid !== this.expectedStudy) {
        // Only reached when the header did not fit in STUDY_CHECK_LIMIT: already stored.
        return this.fail(studyMismatch(this.expectedStudy, outcome.studyInstanceUid, true), outcome);
      }
      return { ok: true, outcome };
    } catch (err) {
      this.session = undefined;
      return this.fail(toMedgeError(err));
    }
  }

  /** The request failed (client gone, malformed body): drop whatever was written. */
  async abort(): Promise<void> {
    this.held = undefined;
    this.batch = [];
    this.batchBytes = 0;
    await this.session?.abort().catch(() => undefined);
    this.session = undefined;
  }

  private async begin(): Promise<IngestSession> {
    this.session = await this.ingest.beginPart10(this.ctx);
    return this.session;
  }

  private async toIngest(chunk: Buffer): Promise<void> {
    if (!this.session) {
      // Begin at the first bytes, as before batching: disk-full and other refusals come early.
      try {
        await this.begin();
      } catch (err) {
        this.fail(toMedgeError(err));
        return;
      }
    }
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    if (this.batchBytes >= WRITE_BATCH) await this.flushBatch();
  }

  private async flushBatch(): Promise<void> {
    const chunks = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    try {
      const session = this.session ?? (await this.begin());
      if (chunks.length > 0) await session.writev(chunks);
    } catch (err) {
      // The ingest aborts its own session when a write fails.
      this.session = undefined;
      this.fail(toMedgeError(err));
    }
  }

  private async flushHeld(): Promise<void> {
    const held = this.held ?? [];
    this.held = undefined;
    this.heldBytes = 0;
    for (const chunk of held) {
      if (this.failure) return;
      await this.toIngest(chunk);
    }
    if (!this.failure) await this.flushBatch();
  }

  private checkStudy(complete: boolean): 'wait' | 'match' | 'mismatch' {
    const bytes = Buffer.concat(this.held!);
    const meta = readFileMeta(bytes);
    if (meta === undefined) return complete ? 'match' : 'wait';
    if (meta === null) return 'match'; // not Part 10: the ingest says so with the right error
    let study: string | null;
    try {
      const parsed = parseInstanceHeader(bytes, meta.transferSyntaxUid, complete ? bytes.length : Number.MAX_SAFE_INTEGER);
      if (parsed.kind === 'need-more') return 'wait';
      study = parsed.header.studyInstanceUid;
    } catch {
      return 'match'; // unparseable: let the ingest refuse it with its own error
    }
    if (!study || study === this.expectedStudy) return 'match';
    this.held = undefined;
    this.fail(studyMismatch(this.expectedStudy!, study, false));
    return 'mismatch';
  }

  private fail(error: MedgeError, known?: IngestOutcome): PartResult {
    const meta = this.prefixBytes > 0 ? readFileMeta(Buffer.concat(this.prefix)) : undefined;
    this.prefix = [];
    this.failure = {
      ok: false,
      reason: failureReasonOf(error),
      error,
      sopClassUid: known?.sopClassUid ?? (meta?.mediaStorageSopClassUid || undefined),
      sopInstanceUid: known?.sopInstanceUid ?? (meta?.mediaStorageSopInstanceUid || undefined),
    };
    return this.failure;
  }
}

function studyMismatch(expected: string, actual: string, stored: boolean): MedgeError {
  return new MedgeError(
    'MEDGE_ERR_DICOMWEB_STUDY_MISMATCH',
    `the instance belongs to study ${actual}, not to the study ${expected} named in the request URL` +
      (stored ? ' (its header was too long to check before storing, so it was stored)' : ''),
    { expected, actual, stored },
  );
}
