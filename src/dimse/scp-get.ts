/**
 * C-GET as a performer (PS3.7 9.1.3, PS3.4 C.4.3), Study and Patient Root: the instances go back
 * on the requestor's own association, as C-STORE sub-operations on the storage contexts for which
 * it took the SCP role (SCP/SCU role selection, PS3.7 D.3.3.4), byte for byte in the file's own
 * transfer syntax when it accepted it, converted to an uncompressed one otherwise (scu.ts
 * storeOne). No address table is needed, so a viewer behind NAT can retrieve. The retrieve itself
 * is scp-retrieve.ts.
 */
import type { DimseCommand } from './command.js';
import type { AcceptedContext } from './negotiation.js';
import { CommandField, PATIENT_ROOT_GET } from './pdu-constants.js';
import { storeOne, type StoreChannel } from './scu.js';
import { startRetrieve, type RetrieveDeps, type RetrieveJob } from './scp-retrieve.js';

export function startGet(deps: RetrieveDeps, cmd: DimseCommand, pc: AcceptedContext, identifier: Buffer, channel: StoreChannel): RetrieveJob {
  return startRetrieve(deps, cmd, pc, identifier, {
    kind: 'c-get',
    responseField: CommandField.CGetRsp,
    patientRoot: pc.abstractSyntax === PATIENT_ROOT_GET,
    subOperations: () => ({
      target: { destination: 'requestor' },
      async send(items, onResult, shouldStop) {
        for (const item of items) {
          if (shouldStop()) return;
          onResult(await storeOne(channel, item));
        }
      },
    }),
  });
}
