/** Who brought an instance: recorded with it for the timeline (DESIGN.md, "The clock"). */
export interface IngestContext {
  /** 'local': created by the node itself (analysis results); never analysed, not counted as received. */
  protocol: 'dimse' | 'stow' | 'local';
  /** Calling AE title of the association (DIMSE) or null. */
  callingAe?: string | null;
  /** Association id (DIMSE) or request id (STOW-RS), the correlation id in logs. */
  associationId?: string | null;
  remoteAddress?: string | null;
}

/** What a DIMSE C-STORE request says of the dataset that follows (PS3.7 9.1.1). */
export interface DimseDatasetMeta {
  /** Affected SOP Class UID of the command. */
  sopClassUid: string;
  /** Affected SOP Instance UID of the command. */
  sopInstanceUid: string;
  /** Transfer syntax of the accepted presentation context. */
  transferSyntaxUid: string;
}

export interface IngestOutcome {
  /** stored: new; duplicate: the same dataset was already stored (nothing written); replaced: a new version. */
  status: 'stored' | 'duplicate' | 'replaced';
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  transferSyntaxUid: string;
  /** Bytes of the Part 10 file. */
  size: number;
  /** Arrival time, ms since the epoch. */
  receivedAt: number;
  /** Header attributes the pipeline judges completeness and priority by; absent on a duplicate. */
  signals?: SeriesSignals;
}

/** What the pipeline reads of each instance (DESIGN.md, "Knowing that a series is complete"); null when absent. */
export interface SeriesSignals {
  modality: string | null;
  studyDescription: string | null;
  seriesDescription: string | null;
  protocolName: string | null;
  /** Image Position (Patient) and Image Orientation (Patient) as their DS strings (PS3.3 C.7.6.2). */
  imagePosition: string | null;
  imageOrientation: string | null;
  /** Images in Acquisition (0020,1002) or Number of Series Related Instances (0020,1209), the larger. */
  expectedInstances: number | null;
}

/**
 * One instance on its way in. Bytes are written as they arrive (a slow disk slows `write`, which
 * is the caller's backpressure); `finish` makes the instance durable and indexed, or throws a
 * MedgeError (MEDGE_ERR_INGEST_*, MEDGE_ERR_STORE_DISK_FULL, MEDGE_ERR_STORE_IO) and leaves nothing.
 */
export interface IngestSession {
  /**
   * A beginDataset session takes the bytes before the promise resolves (DIMSE reads into a reused
   * buffer). A beginPart10 session may still be writing them after it resolved, until finish or
   * abort: its caller must not change them (BeginOptions.ownedChunks).
   */
  write(chunk: Buffer): Promise<void>;
  /** Writes consecutive chunks together (one system call for the file store); same as write for each. */
  writev(chunks: readonly Buffer[]): Promise<void>;
  finish(): Promise<IngestOutcome>;
  /** Drops everything written so far (connection lost, request aborted). Safe to call twice. */
  abort(): Promise<void>;
}

/** The one path every received instance takes (house style 2). */
export interface Ingest {
  /** STOW-RS and files: the bytes are a whole PS3.10 file (preamble, meta, dataset). */
  beginPart10(ctx: IngestContext): Promise<IngestSession>;
  /** DIMSE C-STORE: the bytes are the dataset alone, in the presentation context's transfer syntax. */
  beginDataset(meta: DimseDatasetMeta, ctx: IngestContext): Promise<IngestSession>;
  /** Convenience for whole files held in memory: beginPart10, one write, finish. */
  storePart10(bytes: Buffer, ctx: IngestContext): Promise<IngestOutcome>;
  /**
   * The earliest time (ms since the epoch) at which an instance still on its way may have had its
   * file renamed into place without its index row committed yet; undefined when none is
   * (the store's consistency mark may not pass it: store-marks.ts).
   */
  publishingSince(): number | undefined;
}
