/**
 * An accepted association as the sender of C-STORE requests: a C-GET's sub-operations (PS3.4
 * C.4.3.3) go back on the requestor's own association, on the storage contexts for which it took
 * the SCP role (PS3.7 D.3.3.4). Each request waits for its C-STORE-RSP, which the association
 * hands to `onResponse`, within `timeoutMs`.
 */
import { MedgeError } from '../errors.js';
import type { DimseCommand } from './command.js';
import type { Connection } from './connection.js';
import { findAcceptedContext, type AcceptedContext } from './negotiation.js';
import type { StoreChannel } from './scu.js';

interface Waiter {
  resolve(cmd: DimseCommand): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class SubOperationChannel {
  private readonly waiting = new Map<number, Waiter>();
  private nextMessageId = 1;

  constructor(private readonly conn: Connection, private readonly timeoutMs: number) {}

  /** A channel over the contexts whose SOP class is in `requestorScp`. */
  channel(contexts: ReadonlyMap<number, AcceptedContext>, requestorScp: ReadonlySet<string>): StoreChannel {
    const accepted = new Map([...contexts].filter(([, c]) => requestorScp.has(c.abstractSyntax)));
    return {
      conn: this.conn,
      accepted,
      findContext: (sop, ts) => findAcceptedContext(accepted.values(), sop, ts),
      newMessageId: () => {
        const id = this.nextMessageId;
        this.nextMessageId = (this.nextMessageId % 0xffff) + 1;
        return id;
      },
      request: async (contextId, command, sendDataset) => {
        const response = this.expect(command.messageId ?? 0);
        await this.conn.sendMessage(contextId, command);
        if (sendDataset) await sendDataset();
        return response;
      },
    };
  }

  /** A C-STORE-RSP arrived; false when no request of ours waits for it. */
  onResponse(cmd: DimseCommand): boolean {
    const id = cmd.messageIdBeingRespondedTo ?? -1;
    const waiter = this.waiting.get(id);
    if (!waiter) return false;
    this.waiting.delete(id);
    clearTimeout(waiter.timer);
    waiter.resolve(cmd);
    return true;
  }

  /** The association is gone: every request still waiting fails with `error`. */
  close(error: Error): void {
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(error);
    }
    this.waiting.clear();
  }

  private expect(id: number): Promise<DimseCommand> {
    const response = new Promise<DimseCommand>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new MedgeError('MEDGE_ERR_DIMSE_TIMEOUT', `no C-STORE-RSP within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
    });
    response.catch(() => undefined);
    return response;
  }
}
