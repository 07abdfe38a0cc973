/**
 * Storage Commitment Push Model SCP (PS3.4 Annex J; IHE RAD-10 as the Image Manager): a sender
 * asks with N-ACTION "Request Storage Commitment" whether the node takes responsibility for a list
 * of instances; the node answers the N-ACTION at once and sends the outcome later as an
 * N-EVENT-REPORT on an association of its own to the sender (reports.ts), to the address
 * configured for the sender's AE title (dicom.remoteAes).
 */
import { hostOf, type RemoteAeTable } from '../dimse/remote-aes.js';
import { isMedgeError } from '../errors.js';
import type { DimseCommand } from '../dimse/command.js';
import { CommandField, STORAGE_COMMITMENT_INSTANCE, STORAGE_COMMITMENT_PUSH } from '../dimse/pdu-constants.js';
import type { Logger } from '../observability/log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { CommitmentReports } from './reports.js';
import { decodeCommitmentRequest } from './request.js';

/** N-ACTION status codes (PS3.7 10.1.4.1.10, C.4). */
const NActionStatus = {
  Success: 0x0000,
  ProcessingFailure: 0x0110,
  NoSuchSopInstance: 0x0112,
  NoSuchAction: 0x0123,
} as const;

/** Action Type ID 1: Request Storage Commitment (PS3.4 Table J.3-1). */
const REQUEST_STORAGE_COMMITMENT = 1;

export interface CommitmentAction {
  command: DimseCommand;
  dataset: Buffer;
  transferSyntaxUid: string;
  callingAe: string;
  /** The requester's address, the report's host when its entry names none. */
  remoteAddress: string;
}

export interface CommitmentScp {
  /** Handles one N-ACTION-RQ and returns its N-ACTION-RSP; the report follows once the answer is sent (`answered`). */
  onAction(action: CommitmentAction): DimseCommand;
  /** Call after the N-ACTION-RSP went out: the report must not overtake it. */
  answered(): void;
}

export function createCommitmentScp(deps: { remoteAes: RemoteAeTable; reports: CommitmentReports; log: Logger; metrics: MetricsRegistry }): CommitmentScp {
  const requests = deps.metrics.counter('medge_commitment_requests_total', 'Storage commitment requests (N-ACTION), by result (accepted, refused)');
  return {
    onAction(action) {
      const { command } = action;
      const answer = (status: number, errorComment?: string): DimseCommand => ({
        commandField: CommandField.NActionRsp,
        messageIdBeingRespondedTo: command.messageId,
        affectedSopClassUid: STORAGE_COMMITMENT_PUSH,
        affectedSopInstanceUid: command.requestedSopInstanceUid,
        actionTypeId: status === NActionStatus.Success ? REQUEST_STORAGE_COMMITMENT : undefined,
        hasDataset: false,
        status,
        errorComment,
      });
      const refuse = (status: number, reason: string): DimseCommand => {
        requests.inc({ result: 'refused' });
        deps.log.warn({ event: 'commitment-refused', callingAe: action.callingAe, status, reason });
        return answer(status, reason);
      };
      // PS3.4 J.3.5: the request names the well-known SOP Instance of the Push Model.
      if (command.requestedSopInstanceUid !== STORAGE_COMMITMENT_INSTANCE) {
        return refuse(NActionStatus.NoSuchSopInstance, `Requested SOP Instance must be ${STORAGE_COMMITMENT_INSTANCE}`);
      }
      if (command.actionTypeId !== REQUEST_STORAGE_COMMITMENT) return refuse(NActionStatus.NoSuchAction, `Action Type ID must be ${REQUEST_STORAGE_COMMITMENT}`);
      const peer = deps.remoteAes.find(action.callingAe);
      if (!peer) return refuse(NActionStatus.ProcessingFailure, `AE ${action.callingAe} has no entry in dicom.remoteAes`);
      let request;
      try {
        request = decodeCommitmentRequest(action.dataset, action.transferSyntaxUid);
      } catch (err) {
        if (!isMedgeError(err)) throw err;
        return refuse(NActionStatus.ProcessingFailure, (err.fields.reason as string | undefined) ?? err.message);
      }
      const host = hostOf(peer, action.remoteAddress);
      try {
        deps.reports.add({ transactionUid: request.transactionUid, requesterAe: peer.aeTitle, host, port: peer.port, refs: request.references });
      } catch (err) {
        return refuse(NActionStatus.ProcessingFailure, `the request cannot be recorded: ${(err as Error).message}`);
      }
      requests.inc({ result: 'accepted' });
      deps.log.info({ event: 'commitment-requested', callingAe: action.callingAe, transaction: request.transactionUid, instances: request.references.length, reportTo: `${host}:${peer.port}` });
      return answer(NActionStatus.Success);
    },
    answered() {
      deps.reports.kick();
    },
  };
}
