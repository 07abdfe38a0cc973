/**
 * C-STORE as a performer (PS3.7 9.1.1, PS3.4 B.2): the dataset's P-DATA fragments go straight into
 * one ingest session as they arrive, and the C-STORE-RSP is sent only after ingest has made the
 * instance durable (house style 5). Failures become a status through the one mapper (status.ts);
 * the remaining fragments of a failed dataset are read and dropped so the association stays usable.
 */
import { MedgeError } from '../errors.js';
import type { Ingest, IngestContext, IngestOutcome, IngestSession } from '../ingest/types.js';
import type { Logger } from '../observability/log.js';
import type { DimseCommand } from './command.js';
import type { AcceptedContext } from './negotiation.js';
import { CommandField } from './pdu-constants.js';
import { Status, dimseStatusFor, statusHex, type DimseStatus } from './status.js';

export interface StoreReceiverDeps {
  ingest: Ingest;
  log: Logger;
  ctx: IngestContext;
  /** Sends the response message on the same presentation context. */
  respond(command: DimseCommand): Promise<void>;
}

/** Receives one C-STORE dataset; `data` must be awaited fragment by fragment (backpressure). */
export interface StoreReceiver {
  /** Consecutive pieces of the dataset, written together; `last` when the dataset ends with them. */
  data(fragments: Buffer[], last: boolean): Promise<void>;
  /** The association ended mid-dataset: drop what was written. */
  abort(): Promise<void>;
}

export function createStoreReceiver(deps: StoreReceiverDeps, cmd: DimseCommand, pc: AcceptedContext, onStored: (o: IngestOutcome) => void): StoreReceiver {
  let session: Promise<IngestSession> | undefined;
  let failure: unknown;
  let done = false;
  const sopClassUid = cmd.affectedSopClassUid ?? '';
  const sopInstanceUid = cmd.affectedSopInstanceUid ?? '';

  if (sopClassUid !== pc.abstractSyntax) {
    // PS3.7 9.1.1.1: the command's SOP class must be the context's abstract syntax.
    failure = new MedgeError('MEDGE_ERR_INGEST_SOP_CLASS', 'the SOP class of the command differs from the presentation context', {
      sopClassUid,
      contextId: pc.id,
    });
  } else {
    session = deps.ingest.beginDataset({ sopClassUid, sopInstanceUid, transferSyntaxUid: pc.transferSyntax }, deps.ctx);
    // Reported by the first write; never an unhandled rejection in between.
    session.catch(() => undefined);
  }

  async function fail(err: unknown): Promise<void> {
    failure ??= err;
    const s = session;
    session = undefined;
    if (s) await s.then((x) => x.abort()).catch(() => undefined);
  }

  async function respond(result: DimseStatus): Promise<void> {
    await deps.respond({
      commandField: CommandField.CStoreRsp,
      messageIdBeingRespondedTo: cmd.messageId,
      affectedSopClassUid: sopClassUid,
      affectedSopInstanceUid: sopInstanceUid,
      hasDataset: false,
      status: result.status,
      errorComment: result.errorComment,
    });
  }

  return {
    async data(fragments, last) {
      if (done) return;
      if (session && failure === undefined) {
        try {
          await (await session).writev(fragments);
        } catch (err) {
          await fail(err);
        }
      }
      if (!last) return;
      done = true;
      if (session && failure === undefined) {
        try {
          const outcome = await (await session).finish();
          session = undefined;
          onStored(outcome);
          // A duplicate is success too: the instance is on disk (PS3.4 B.2.3 has no "already have it").
          await respond({ status: Status.Success });
          return;
        } catch (err) {
          session = undefined;
          failure = err;
        }
      }
      const mapped = dimseStatusFor(failure);
      const code = failure instanceof MedgeError ? failure.code : 'unknown';
      deps.log.warn({ event: 'c-store-failed', status: statusHex(mapped.status), code, reason: mapped.errorComment });
      await respond(mapped);
    },
    async abort() {
      done = true;
      await fail(new MedgeError('MEDGE_ERR_INGEST_ABORTED', 'the association ended before the dataset was complete'));
    },
  };
}
