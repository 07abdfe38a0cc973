/**
 * C-MOVE as a performer (PS3.7 9.1.4, PS3.4 C.4.2), Study and Patient Root: the instances go to the
 * Move Destination, whose address is in dicom.remoteAes, as C-STORE sub-operations on an
 * association of the node's own, byte for byte as stored (scu.ts storeFiles), each naming the move
 * originator (PS3.7 9.3.1.1). The retrieve itself is scp-retrieve.ts.
 */
import { hostOf, type RemoteAeTable } from './remote-aes.js';
import type { DimseCommand } from './command.js';
import type { AcceptedContext } from './negotiation.js';
import { CommandField, PATIENT_ROOT_MOVE } from './pdu-constants.js';
import { storeFiles } from './scu.js';
import { RetrieveRefusal, RetrieveStatus, startRetrieve, type RetrieveDeps, type RetrieveJob } from './scp-retrieve.js';

export interface MoveDeps extends RetrieveDeps {
  remoteAes: RemoteAeTable;
  /** The node's AE title: the calling AE of the sub-operations' association. */
  nodeAe: string;
  /** The requester's calling AE and address (the destination's host when its entry names none). */
  callingAe: string;
  remoteAddress: string;
}

export function startMove(deps: MoveDeps, cmd: DimseCommand, pc: AcceptedContext, identifier: Buffer): RetrieveJob {
  return startRetrieve(deps, cmd, pc, identifier, {
    kind: 'c-move',
    responseField: CommandField.CMoveRsp,
    patientRoot: pc.abstractSyntax === PATIENT_ROOT_MOVE,
    subOperations() {
      const aeTitle = (cmd.moveDestination ?? '').trim();
      const entry = deps.remoteAes.find(aeTitle);
      if (!entry) throw new RetrieveRefusal({ status: RetrieveStatus.DestinationUnknown, errorComment: `${aeTitle.slice(0, 16)} is not in dicom.remoteAes` });
      const host = hostOf(entry, deps.remoteAddress);
      return {
        target: { destination: entry.aeTitle, to: `${host}:${entry.port}`, tls: entry.tls !== undefined },
        async send(items, onResult, shouldStop) {
          await storeFiles({
            files: items,
            host,
            port: entry.port,
            calledAe: entry.aeTitle,
            callingAe: deps.nodeAe,
            tls: entry.tls,
            user: entry.user,
            log: deps.log,
            moveOriginator: { aeTitle: deps.callingAe, messageId: cmd.messageId ?? 0 },
            shouldStop,
            onProgress: (p) => onResult(p.last),
          });
        },
      };
    },
  });
}
