/**
 * What C-MOVE and C-GET share as performers (PS3.4 C.4.2, C.4.3): the retrieve by unique keys
 * (PS3.4 C.4.2.2.1) at PATIENT (Patient Root), STUDY, SERIES and IMAGE level, the C-STORE
 * sub-operations counted in a pending response after each one, a C-CANCEL-RQ that stops them after
 * the one in flight (FE00), and the final status with the Failed SOP Instance UID List. Where the
 * sub-operations go is the caller's: another association (scp-move.ts) or this one (scp-get.ts).
 */
import { MedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import type { BlobStore } from '../store/blob-store.js';
import type { Db, InstanceIndex } from '../store/index-db.js';
import { runQuery, type QueryKeys } from '../store/query.js';
import type { DimseCommand } from './command.js';
import { QUERY_RETRIEVE_LEVEL, decodeIdentifier, encodeIdentifier } from './dataset-codec.js';
import type { AcceptedContext } from './negotiation.js';
import type { StoreFileResult, StoreItem } from './scu.js';
import { Status, dimseStatusFor, isWarningStatus, type DimseStatus } from './status.js';

export interface RetrieveDeps {
  db: Db;
  index: InstanceIndex;
  store: BlobStore;
  log: Logger;
  respond(command: DimseCommand, identifier?: Buffer): Promise<void>;
  /** Each sub-operation's outcome, for the metrics. */
  counted?(kind: RetrieveKind, result: 'completed' | 'failed' | 'warning'): void;
}

export type RetrieveKind = 'c-move' | 'c-get';

export interface RetrieveJob {
  cancel(): void;
  done: Promise<void>;
}

/** Where the sub-operations of one retrieve go. */
export interface SubOperations {
  /** For the logs: the destination. */
  target: Record<string, unknown>;
  /** Sends the instances in order, reporting each result; stops when `shouldStop` says so. */
  send(items: StoreItem[], onResult: (r: StoreFileResult) => void, shouldStop: () => boolean): Promise<void>;
}

/** PS3.4 C.4.2.1.5 and C.4.3.1.4 statuses besides those of status.ts. */
export const RetrieveStatus = {
  /** C-MOVE: Refused, Move Destination unknown. */
  DestinationUnknown: 0xa801,
  /** Refused: out of resources, unable to perform sub-operations. */
  UnableToPerform: 0xa702,
  /** Warning: sub-operations complete, one or more failures or warnings. */
  SomeFailed: 0xb000,
} as const;

/** A refusal with its own status, before any sub-operation (an unknown destination). */
export class RetrieveRefusal extends Error {
  constructor(readonly status: DimseStatus) {
    super(status.errorComment);
  }
}

/** The unique key of each level (PS3.4 C.6.1.1, C.6.2.1) and its query keyword. */
const LEVEL_KEY: Record<string, { tag: number; keyword: string }> = {
  PATIENT: { tag: 0x00100020, keyword: 'PatientID' },
  STUDY: { tag: 0x0020000d, keyword: 'StudyInstanceUID' },
  SERIES: { tag: 0x0020000e, keyword: 'SeriesInstanceUID' },
  IMAGE: { tag: 0x00080018, keyword: 'SOPInstanceUID' },
};
const LEVEL_ORDER = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'];
const FAILED_SOP_INSTANCE_UID_LIST = 0x00080058;

/**
 * Answers one C-MOVE-RQ or C-GET-RQ: `responseField` is C-MOVE-RSP or C-GET-RSP, `patientRoot`
 * whether the context's model has a PATIENT level, `subOperations` where the instances go (it may
 * throw a RetrieveRefusal). Runs on its own so the association keeps reading (C-CANCEL-RQ, and the
 * C-STORE-RSPs of a C-GET).
 */
export function startRetrieve(
  deps: RetrieveDeps,
  cmd: DimseCommand,
  pc: AcceptedContext,
  identifier: Buffer,
  options: { kind: RetrieveKind; responseField: number; patientRoot: boolean; subOperations(): SubOperations },
): RetrieveJob {
  let cancelled = false;
  const done = run().catch((err) => deps.log.warn({ event: `${options.kind}-send-failed`, reason: (err as Error).message }));
  return { cancel: () => void (cancelled = true), done };

  async function run(): Promise<void> {
    let files: StoreItem[];
    let sub: SubOperations;
    try {
      const keys = uniqueKeys(identifier, pc, options.patientRoot);
      sub = options.subOperations();
      files = instanceFiles(keys, deps);
    } catch (err) {
      const failed = err instanceof RetrieveRefusal ? err.status : dimseStatusFor(err);
      deps.log.warn({ event: `${options.kind}-refused`, status: failed.status, reason: failed.errorComment });
      await deps.respond(response(failed.status, undefined, 0, 0, 0, failed.errorComment));
      return;
    }
    deps.log.info({ event: options.kind, ...sub.target, instances: files.length });
    const failedSops: string[] = [];
    let completed = 0;
    let warnings = 0;
    let done = 0;
    let lastError: StoreFileResult['error'];
    const bySop = new Map(files.map((f) => [f.file, f.meta.mediaStorageSopInstanceUid]));
    await sub.send(files, (r) => {
      done++;
      if (!r.ok) {
        failedSops.push(bySop.get(r.file) ?? '');
        lastError = r.error;
      } else if (r.status !== undefined && isWarningStatus(r.status)) warnings++;
      else completed++;
      deps.counted?.(options.kind, !r.ok ? 'failed' : r.status !== undefined && isWarningStatus(r.status) ? 'warning' : 'completed');
      // One PDU each, written in order; a send failure ends the association anyway.
      void deps.respond(response(Status.Pending, files.length - done, completed, failedSops.length, warnings)).catch(() => undefined);
    }, () => cancelled);
    const remaining = files.length - done;
    let final: DimseStatus;
    if (cancelled && remaining > 0) final = { status: Status.Cancel };
    else if (failedSops.length > 0 && completed + warnings === 0) final = { status: RetrieveStatus.UnableToPerform, errorComment: dimseStatusFor(lastError).errorComment };
    else if (failedSops.length > 0 || warnings > 0) final = { status: RetrieveStatus.SomeFailed };
    else final = { status: Status.Success };
    deps.log.info({ event: `${options.kind}-done`, ...sub.target, completed, failed: failedSops.length, warnings, remaining, status: final.status });
    const failedList = failedSops.length ? encodeIdentifier([{ tag: FAILED_SOP_INSTANCE_UID_LIST, vr: 'UI', value: failedSops.join('\\') }], pc.transferSyntax) : undefined;
    await deps.respond(response(final.status, final.status === Status.Cancel ? remaining : undefined, completed, failedSops.length, warnings, final.errorComment), failedList);
  }

  function response(status: number, remaining: number | undefined, completed: number, failed: number, warning: number, errorComment?: string): DimseCommand {
    return {
      commandField: options.responseField,
      messageIdBeingRespondedTo: cmd.messageId,
      affectedSopClassUid: cmd.affectedSopClassUid,
      hasDataset: false,
      status,
      errorComment,
      // PS3.7 Tables 9.3-6 and 9.3-4: Remaining only on pending and cancel; the others always.
      remainingSuboperations: remaining,
      completedSuboperations: completed,
      failedSuboperations: failed,
      warningSuboperations: warning,
    };
  }
}

/** The level and the unique keys down to it; a level without its key is an identifier error. */
function uniqueKeys(identifier: Buffer, pc: AcceptedContext, patientRoot: boolean): QueryKeys {
  const elements = decodeIdentifier(identifier, pc.transferSyntax);
  const level = elements.find((e) => e.tag === QUERY_RETRIEVE_LEVEL)?.value.trim().toUpperCase() ?? '';
  const depth = LEVEL_ORDER.indexOf(level);
  // PATIENT exists in Patient Root only (PS3.4 C.6.1); Study Root starts at STUDY (C.6.2).
  if (depth < 0 || (level === 'PATIENT' && !patientRoot)) {
    throw new MedgeError('MEDGE_ERR_DIMSE_IDENTIFIER', `Query/Retrieve Level '${level.slice(0, 16)}' not supported`, { level });
  }
  const keys: QueryKeys = {};
  for (const l of LEVEL_ORDER.slice(0, depth + 1)) {
    const { tag, keyword } = LEVEL_KEY[l]!;
    const value = elements.find((e) => e.tag === tag)?.value.trim() ?? '';
    if (/[*?]/.test(value)) throw new MedgeError('MEDGE_ERR_DIMSE_IDENTIFIER', `${keyword} must not hold wildcards in a retrieve`, { keyword });
    if (value) keys[keyword] = value;
    else if (l === level) throw new MedgeError('MEDGE_ERR_DIMSE_IDENTIFIER', `a ${level} retrieve needs ${keyword}`, { keyword });
  }
  return keys;
}

/** The instances to send, with what the index knows of their files (no read of their meta). */
function instanceFiles(keys: QueryKeys, deps: RetrieveDeps): StoreItem[] {
  const localPath = deps.store.localPath?.bind(deps.store);
  if (!localPath) throw new MedgeError('MEDGE_ERR_STORE_IO', 'this store keeps no files to send');
  return runQuery(deps.db, 'IMAGE', keys).map((row) => {
    const sop = row.SOPInstanceUID!;
    const stored = deps.index.getInstance(sop);
    if (!stored) throw new MedgeError('MEDGE_ERR_STORE_NOT_FOUND', `instance ${sop} left the index during the retrieve`, { sop });
    return {
      file: localPath(stored.blobKey),
      meta: { mediaStorageSopClassUid: stored.sopClassUid, mediaStorageSopInstanceUid: sop, transferSyntaxUid: stored.transferSyntaxUid, datasetOffset: stored.datasetOffset },
      size: stored.size,
    };
  });
}
