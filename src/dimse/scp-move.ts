/**
 * C-MOVE as a performer (PS3.7 9.1.4, PS3.4 C.4.2): Study Root and Patient Root retrieve by
 * unique keys (PS3.4 C.4.2.2.1) at PATIENT (Patient Root), STUDY, SERIES and IMAGE level. The
 * instances go to the Move Destination, whose address is in dicom.remoteAes, as C-STORE
 * sub-operations on an association of the node's own, byte for byte as stored (scu.ts
 * storeFiles), each naming the move originator (PS3.7 9.3.1.1). A pending C-MOVE-RSP with the
 * counts follows each sub-operation; a C-CANCEL-RQ stops after the one in flight (FE00).
 */
import type { RemoteAe } from '../config/schema.js';
import { MedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import type { BlobStore } from '../store/blob-store.js';
import type { Db, InstanceIndex } from '../store/index-db.js';
import { runQuery, type QueryKeys } from '../store/query.js';
import type { DimseCommand } from './command.js';
import { QUERY_RETRIEVE_LEVEL, decodeIdentifier, encodeIdentifier } from './dataset-codec.js';
import type { AcceptedContext } from './negotiation.js';
import { CommandField, PATIENT_ROOT_MOVE } from './pdu-constants.js';
import { storeFiles, type StoreFileResult } from './scu.js';
import { Status, dimseStatusFor, isWarningStatus, type DimseStatus } from './status.js';

export interface MoveDeps {
  db: Db;
  index: InstanceIndex;
  store: BlobStore;
  remoteAes: RemoteAe[];
  /** The node's AE title: the calling AE of the sub-operations' association. */
  nodeAe: string;
  /** The requester's calling AE and address (the destination's host when its entry names none). */
  callingAe: string;
  remoteAddress: string;
  log: Logger;
  respond(command: DimseCommand, identifier?: Buffer): Promise<void>;
}

export interface MoveJob {
  cancel(): void;
  done: Promise<void>;
}

/** PS3.4 C.4.2.1.5 statuses of C-MOVE besides those of status.ts. */
const MoveStatus = {
  DestinationUnknown: 0xa801,
  /** Refused: out of resources, unable to perform sub-operations. */
  UnableToPerform: 0xa702,
  /** Warning: sub-operations complete, one or more failures or warnings. */
  SomeFailed: 0xb000,
} as const;

/** The unique key of each level (PS3.4 C.4.2.2.1 with C.6.1.1 and C.6.2.1) and its query keyword. */
const LEVEL_KEY: Record<string, { tag: number; keyword: string }> = {
  PATIENT: { tag: 0x00100020, keyword: 'PatientID' },
  STUDY: { tag: 0x0020000d, keyword: 'StudyInstanceUID' },
  SERIES: { tag: 0x0020000e, keyword: 'SeriesInstanceUID' },
  IMAGE: { tag: 0x00080018, keyword: 'SOPInstanceUID' },
};
const LEVEL_ORDER = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'];
const FAILED_SOP_INSTANCE_UID_LIST = 0x00080058;

export function startMove(deps: MoveDeps, cmd: DimseCommand, pc: AcceptedContext, identifier: Buffer): MoveJob {
  let cancelled = false;
  const done = run().catch((err) => deps.log.warn({ event: 'c-move-send-failed', reason: (err as Error).message }));
  return { cancel: () => void (cancelled = true), done };

  async function run(): Promise<void> {
    let files: { path: string; sop: string }[];
    let destination: { aeTitle: string; host: string; port: number };
    try {
      const keys = uniqueKeys(identifier, pc);
      destination = resolveDestination(cmd.moveDestination ?? '', deps);
      files = instanceFiles(keys, deps);
    } catch (err) {
      const failed = err instanceof MoveRefusal ? err.status : dimseStatusFor(err);
      deps.log.warn({ event: 'c-move-refused', destination: cmd.moveDestination, status: failed.status, reason: failed.errorComment });
      await deps.respond(response(failed.status, 0, 0, 0, 0, failed.errorComment));
      return;
    }
    deps.log.info({ event: 'c-move', destination: destination.aeTitle, to: `${destination.host}:${destination.port}`, instances: files.length });
    const failedSops: string[] = [];
    let completed = 0;
    let warnings = 0;
    const bySop = new Map(files.map((f) => [f.path, f.sop]));
    let lastError: StoreFileResult['error'];
    const { results } = await storeFiles({
      files: files.map((f) => f.path),
      host: destination.host,
      port: destination.port,
      calledAe: destination.aeTitle,
      callingAe: deps.nodeAe,
      log: deps.log,
      moveOriginator: { aeTitle: deps.callingAe, messageId: cmd.messageId ?? 0 },
      shouldStop: () => cancelled,
      onProgress: (p) => {
        const r = p.last;
        if (!r.ok) {
          failedSops.push(bySop.get(r.file) ?? '');
          lastError = r.error;
        } else if (r.status !== undefined && isWarningStatus(r.status)) warnings++;
        else completed++;
        // Pending responses go out in order; a send failure ends the association anyway.
        void deps.respond(response(Status.Pending, files.length - p.done, completed, failedSops.length, warnings)).catch(() => undefined);
      },
    });
    const remaining = files.length - results.length;
    const failedList = failedSops.length ? encodeIdentifier([{ tag: FAILED_SOP_INSTANCE_UID_LIST, vr: 'UI', value: failedSops.join('\\') }], pc.transferSyntax) : undefined;
    let final: DimseStatus;
    if (cancelled && remaining > 0) final = { status: Status.Cancel };
    else if (failedSops.length > 0 && completed + warnings === 0) final = { status: MoveStatus.UnableToPerform, errorComment: dimseStatusFor(lastError).errorComment };
    else if (failedSops.length > 0 || warnings > 0) final = { status: MoveStatus.SomeFailed };
    else final = { status: Status.Success };
    deps.log.info({ event: 'c-move-done', destination: destination.aeTitle, completed, failed: failedSops.length, warnings, remaining, status: final.status });
    await deps.respond(response(final.status, final.status === Status.Cancel ? remaining : undefined, completed, failedSops.length, warnings, final.errorComment), failedList);
  }

  function response(status: number, remaining: number | undefined, completed: number, failed: number, warning: number, errorComment?: string): DimseCommand {
    return {
      commandField: CommandField.CMoveRsp,
      messageIdBeingRespondedTo: cmd.messageId,
      affectedSopClassUid: cmd.affectedSopClassUid,
      hasDataset: false,
      status,
      errorComment,
      // PS3.7 Table 9.3-6: Remaining only on pending and cancel; the others always.
      remainingSuboperations: remaining,
      completedSuboperations: completed,
      failedSuboperations: failed,
      warningSuboperations: warning,
    };
  }
}

class MoveRefusal extends Error {
  constructor(readonly status: DimseStatus) {
    super(status.errorComment);
  }
}

/** The level and the unique keys down to it; a level without its key is an identifier error. */
function uniqueKeys(identifier: Buffer, pc: AcceptedContext): QueryKeys {
  const elements = decodeIdentifier(identifier, pc.transferSyntax);
  const level = elements.find((e) => e.tag === QUERY_RETRIEVE_LEVEL)?.value.trim().toUpperCase() ?? '';
  const depth = LEVEL_ORDER.indexOf(level);
  // PATIENT exists in Patient Root only (PS3.4 C.6.1); Study Root starts at STUDY (C.6.2).
  if (depth < 0 || (level === 'PATIENT' && pc.abstractSyntax !== PATIENT_ROOT_MOVE)) {
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

function resolveDestination(aeTitle: string, deps: MoveDeps): { aeTitle: string; host: string; port: number } {
  const entry = deps.remoteAes.find((r) => r.aeTitle.trim() === aeTitle.trim());
  if (!entry) throw new MoveRefusal({ status: MoveStatus.DestinationUnknown, errorComment: `${aeTitle.slice(0, 16)} is not in dicom.remoteAes` });
  const host = entry.host ?? deps.remoteAddress.replace(/^::ffff:/, '');
  return { aeTitle: entry.aeTitle, host, port: entry.port };
}

function instanceFiles(keys: QueryKeys, deps: MoveDeps): { path: string; sop: string }[] {
  const localPath = deps.store.localPath?.bind(deps.store);
  if (!localPath) throw new MedgeError('MEDGE_ERR_STORE_IO', 'this store keeps no files to send');
  return runQuery(deps.db, 'IMAGE', keys).map((row) => {
    const sop = row.SOPInstanceUID!;
    const stored = deps.index.getInstance(sop);
    if (!stored) throw new MedgeError('MEDGE_ERR_STORE_NOT_FOUND', `instance ${sop} left the index during the retrieve`, { sop });
    return { path: localPath(stored.blobKey), sop };
  });
}
