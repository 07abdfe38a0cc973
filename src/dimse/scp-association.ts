/**
 * One association accepted by the SCP: the acceptor side of the PS3.8 9.2 state machine (awaiting
 * A-ASSOCIATE-RQ under ARTIM, established, released/aborted) and the DIMSE message dispatch
 * (PS3.7 9.1, 10.1: C-ECHO, C-STORE, C-FIND, C-MOVE, C-GET, C-CANCEL, N-ACTION for storage commitment).
 * Unexpected PDUs are answered with A-ABORT.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { MedgeConfig } from '../config/schema.js';
import type { CommitmentScp } from '../commitment/commitment.js';
import type { NodeEvents } from '../events/node-events.js';
import type { Ingest } from '../ingest/types.js';
import type { Logger } from '../observability/log.js';
import type { Db } from '../store/index-db.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/uids.js';
import { decodeCommand, type DimseCommand } from './command.js';
import { Connection } from './connection.js';
import { malformed } from './pdu-associate.js';
import { checkAssociation, negotiateContexts, negotiateRoles, type AcceptedContext, type Rejection } from './negotiation.js';
import { encodeAssociateAc, type UserIdentity } from './pdu-associate.js';
import { authenticateUser, userIdentityResponse } from './user-identity.js';
import { encodeAssociateRj, encodeReleaseRp, type Pdu, type Pdv } from './pdu.js';
import { AbortReason, AbortSource, CommandField } from './pdu-constants.js';
import { createStoreReceiver, type StoreReceiver } from './scp-store.js';
import { startFind } from './scp-find.js';
import { startMove } from './scp-move.js';
import { startGet } from './scp-get.js';
import { SubOperationChannel } from './scp-suboperations.js';
import type { RetrieveSources } from './scp.js';
import { MedgeError } from '../errors.js';
import { Status } from './status.js';

export interface AssociationDeps {
  config: MedgeConfig['dicom'];
  ingest: Ingest;
  db: Db;
  events: NodeEvents;
  log: Logger;
  /** Storage commitment (PS3.4 J); without it an N-ACTION is refused as not configured. */
  commitment?: CommitmentScp;
  /** Where C-MOVE and C-GET find the instances to send, and where C-MOVE destinations listen; without it a retrieve aborts the association. */
  retrieve?: RetrieveSources;
  /** Associations being served now, this one excluded. */
  activeCount(): number;
  onResult(result: 'accepted' | 'rejected' | 'aborted' | 'released', why?: Rejection['why']): void;
}

/** A command set is a few hundred bytes; refuse absurd ones instead of buffering them. */
const MAX_COMMAND_BYTES = 64 * 1024;
/** C-FIND identifiers are small flat datasets. */
const MAX_IDENTIFIER_BYTES = 1024 * 1024;
/** A storage commitment request names up to 100 000 instances of about 120 bytes each. */
const MAX_COMMITMENT_BYTES = 16 * 1024 * 1024;

/** Consecutive dataset pieces of one batch, in order; `last` when the dataset ends with them. */
type DataSink = (fragments: Buffer[], last: boolean) => void | Promise<void>;

export class ScpAssociation {
  readonly id = randomBytes(4).toString('hex');
  callingAe = '';
  instances = 0;
  private readonly conn: Connection;
  private readonly log: Logger;
  private state: 'awaiting-rq' | 'established' | 'released' = 'awaiting-rq';
  private contexts = new Map<number, AcceptedContext>();
  private commandParts: Buffer[] = [];
  private commandBytes = 0;
  private sink: DataSink | undefined;
  private store: StoreReceiver | undefined;
  /** C-FIND, C-MOVE and C-GET answers in progress by message id (a C-CANCEL-RQ names one). */
  private readonly jobs = new Map<number, { cancel(): void; done: Promise<void> }>();
  /** SOP classes for which the requestor took the SCP role: a C-GET's C-STOREs go on their contexts. */
  private requestorScp = new Set<string>();
  private readonly subOperations: SubOperationChannel;
  readonly closed: Promise<void>;

  constructor(socket: Socket, private readonly deps: AssociationDeps) {
    this.log = deps.log.child({ assoc: this.id });
    let resolveClosed!: () => void;
    this.closed = new Promise((r) => (resolveClosed = r));
    this.conn = new Connection(socket, {
      maxPduLength: deps.config.maxPduLength,
      log: this.log,
      onPdu: (pdu) => this.onPdu(pdu),
      onClosed: ({ error }) => {
        if (this.state !== 'released') deps.onResult('aborted');
        if (error) this.log.debug({ event: 'association-closed', code: error.code });
        const store = this.store;
        this.store = undefined;
        for (const j of this.jobs.values()) j.cancel();
        this.subOperations.close(error ?? new MedgeError('MEDGE_ERR_DIMSE_ABORTED', 'the association closed'));
        void (store ? store.abort() : Promise.resolve()).finally(resolveClosed);
      },
    });
    this.subOperations = new SubOperationChannel(this.conn, deps.config.idleTimeoutMs);
    // PS3.8 9.1.5: ARTIM runs from transport connect until the A-ASSOCIATE-RQ arrives.
    this.conn.startArtim(deps.config.artimTimeoutMs, () => {
      this.log.warn({ event: 'artim-expired', state: this.state });
      this.conn.destroy();
    });
  }

  /** Sends A-ABORT (service-user) and closes, for server shutdown. */
  abort(): void {
    this.conn.abort(AbortSource.ServiceUser, AbortReason.NotSpecified);
  }

  private onPdu(pdu: Pdu): void | Promise<void> {
    if (this.state === 'awaiting-rq') {
      if (pdu.type !== 'associate-rq') return this.unexpected(pdu.type);
      return this.onAssociateRq(pdu.rq);
    }
    switch (pdu.type) {
      case 'p-data':
        return this.onPData(pdu.pdvs);
      case 'release-rq':
        return this.onRelease();
      case 'abort':
        this.log.info({ event: 'association-aborted-by-peer', source: pdu.source, reason: pdu.reason });
        this.conn.destroy();
        return;
      default:
        return this.unexpected(pdu.type);
    }
  }

  private unexpected(type: string): void {
    this.conn.abort(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu);
    this.log.warn({ event: 'pdu-malformed', reason: `unexpected ${type} in state ${this.state}` });
  }

  private async onAssociateRq(rq: Extract<Pdu, { type: 'associate-rq' }>['rq']): Promise<void> {
    this.conn.stopArtim();
    this.callingAe = rq.callingAe;
    const remote = this.conn.socket.remoteAddress ?? '';
    const identity = rq.user.userIdentity;
    const user = authenticateUser(identity, this.deps.config.users);
    const rejection = checkAssociation(rq, this.deps.config, remote, this.deps.activeCount(), user);
    if (rejection) {
      this.log.warn({ event: 'association-rejected', callingAe: rq.callingAe, calledAe: rq.calledAe, why: rejection.why, ...identityLog(identity) });
      this.deps.onResult('rejected', rejection.why);
      this.state = 'released';
      await this.conn.send(encodeAssociateRj(rejection.result, rejection.source, rejection.reason));
      this.conn.end();
      return;
    }
    const { answers, accepted } = negotiateContexts(rq);
    this.contexts = accepted;
    const roles = negotiateRoles(rq.user.roles, accepted);
    this.requestorScp = new Set(roles.filter((r) => r.scp).map((r) => r.sopClassUid));
    this.conn.peerMaxPduLength = rq.user.maxPduLength;
    this.state = 'established';
    this.deps.onResult('accepted');
    this.log.info({ event: 'association-accepted', callingAe: rq.callingAe, remote, proposed: rq.contexts.length, accepted: accepted.size, ...identityLog(identity, user) });
    await this.conn.send(
      encodeAssociateAc({
        calledAe: rq.calledAe,
        callingAe: rq.callingAe,
        applicationContext: rq.applicationContext,
        protocolVersion: 1,
        contexts: answers,
        user: {
          maxPduLength: this.deps.config.maxPduLength,
          implementationClassUid: IMPLEMENTATION_CLASS_UID,
          implementationVersionName: IMPLEMENTATION_VERSION_NAME,
          roles,
          userIdentityResponse: userIdentityResponse(identity, user),
        },
      }),
    );
    this.conn.setIdleTimeout(this.deps.config.idleTimeoutMs, () => {
      this.log.warn({ event: 'idle-timeout' });
      this.conn.abort(AbortSource.ServiceUser, AbortReason.NotSpecified);
    });
  }

  private async onPData(pdvs: Pdv[]): Promise<void> {
    let run: Buffer[] = [];
    for (let i = 0; i < pdvs.length; i++) {
      const pdv = pdvs[i]!;
      const pc = this.contexts.get(pdv.contextId);
      if (!pc) throw malformed(`PDV on presentation context ${pdv.contextId}, which is not accepted`, AbortReason.UnexpectedPduParameter);
      if (pdv.command) {
        if (this.sink) throw malformed('command fragment before the previous dataset ended', AbortReason.UnexpectedPduParameter);
        this.commandBytes += pdv.data.length;
        if (this.commandBytes > MAX_COMMAND_BYTES) throw malformed('command set too long');
        // Copied: PDV data may be a view into the connection's reused read buffer.
        this.commandParts.push(Buffer.from(pdv.data));
        if (pdv.last) {
          const bytes = Buffer.concat(this.commandParts);
          this.commandParts = [];
          this.commandBytes = 0;
          await this.onCommand(decodeCommand(bytes), pc);
        }
      } else {
        if (!this.sink) throw malformed('dataset fragment without a command', AbortReason.UnexpectedPduParameter);
        run.push(pdv.data);
        // Pieces up to the dataset's end or the batch's go to the sink together (one file write).
        const next = pdvs[i + 1];
        if (pdv.last || !next || next.command) {
          const sink = this.sink;
          if (pdv.last) this.sink = undefined;
          const fragments = run;
          run = [];
          await sink(fragments, pdv.last);
        }
      }
    }
  }

  private respond(pc: AcceptedContext) {
    return (command: DimseCommand, dataset?: Buffer) => this.conn.sendMessage(pc.id, command, dataset);
  }

  private async onCommand(cmd: DimseCommand, pc: AcceptedContext): Promise<void> {
    switch (cmd.commandField) {
      case CommandField.CEchoRq:
        this.log.debug({ event: 'c-echo' });
        return this.respond(pc)({ commandField: CommandField.CEchoRsp, messageIdBeingRespondedTo: cmd.messageId, affectedSopClassUid: cmd.affectedSopClassUid, hasDataset: false, status: Status.Success });
      case CommandField.CStoreRq: {
        if (!cmd.hasDataset) throw malformed('C-STORE-RQ without a dataset', AbortReason.UnexpectedPduParameter);
        const ctx = { protocol: 'dimse' as const, callingAe: this.callingAe, associationId: this.id, remoteAddress: this.conn.socket.remoteAddress ?? null };
        const store = createStoreReceiver({ ingest: this.deps.ingest, log: this.log, ctx, respond: this.respond(pc) }, cmd, pc, () => this.instances++);
        this.store = store;
        this.sink = async (fragments, last) => {
          await store.data(fragments, last);
          if (last) this.store = undefined;
        };
        return;
      }
      case CommandField.CFindRq:
        this.sink = this.identifierSink('C-FIND', (identifier) => startFind({ db: this.deps.db, log: this.log, respond: this.respond(pc) }, cmd, pc, identifier), cmd);
        return;
      case CommandField.CMoveRq: {
        const retrieve = this.deps.retrieve;
        if (!retrieve) throw malformed('C-MOVE on a listener without retrieve', AbortReason.UnexpectedPduParameter);
        this.sink = this.identifierSink('C-MOVE', (identifier) => startMove({
          db: this.deps.db,
          ...retrieve,
          nodeAe: this.deps.config.aeTitle,
          callingAe: this.callingAe,
          remoteAddress: this.conn.socket.remoteAddress ?? '',
          log: this.log,
          respond: this.respond(pc),
        }, cmd, pc, identifier), cmd);
        return;
      }
      case CommandField.NActionRq: {
        const act = async (dataset: Buffer) => {
          const commitment = this.deps.commitment;
          const rsp = commitment
            ? commitment.onAction({ command: cmd, dataset, transferSyntaxUid: pc.transferSyntax, callingAe: this.callingAe, remoteAddress: this.conn.socket.remoteAddress ?? '' })
            : { commandField: CommandField.NActionRsp, messageIdBeingRespondedTo: cmd.messageId, affectedSopClassUid: cmd.requestedSopClassUid, hasDataset: false, status: Status.ProcessingFailure, errorComment: 'storage commitment is not available on this listener' };
          await this.respond(pc)(rsp);
          commitment?.answered();
        };
        if (!cmd.hasDataset) return act(Buffer.alloc(0));
        this.sink = collectSmall('storage commitment request', MAX_COMMITMENT_BYTES, act);
        return;
      }
      case CommandField.CGetRq: {
        const retrieve = this.deps.retrieve;
        if (!retrieve) throw malformed('C-GET on a listener without retrieve', AbortReason.UnexpectedPduParameter);
        const channel = this.subOperations.channel(this.contexts, this.requestorScp);
        this.sink = this.identifierSink('C-GET', (identifier) => startGet({ db: this.deps.db, ...retrieve, log: this.log, respond: this.respond(pc) }, cmd, pc, identifier, channel), cmd);
        return;
      }
      case CommandField.CStoreRsp:
        if (!this.subOperations.onResponse(cmd)) throw malformed('C-STORE-RSP for no C-STORE-RQ of ours', AbortReason.UnexpectedPduParameter);
        return;
      case CommandField.CCancelRq:
        this.jobs.get(cmd.messageIdBeingRespondedTo ?? -1)?.cancel();
        return;
      default: {
        // PS3.7 C.5.6: Unrecognized Operation (0211H); drain a dataset first if one follows.
        const reply = () =>
          this.respond(pc)({ commandField: (cmd.commandField | 0x8000) & 0xffff, messageIdBeingRespondedTo: cmd.messageId, affectedSopClassUid: cmd.affectedSopClassUid, hasDataset: false, status: 0x0211 });
        if (!cmd.hasDataset) return reply();
        this.sink = (_f, last) => (last ? reply() : undefined);
      }
    }
  }

  /** Collects a small identifier, then starts the job that answers it (cancellable by message id). */
  private identifierSink(what: string, start: (identifier: Buffer) => { cancel(): void; done: Promise<void> }, cmd: DimseCommand): DataSink {
    return collectSmall(`${what} identifier`, MAX_IDENTIFIER_BYTES, (identifier) => {
      const job = start(identifier);
      const id = cmd.messageId ?? 0;
      this.jobs.set(id, job);
      void job.done.finally(() => this.jobs.delete(id));
    });
  }

  private async onRelease(): Promise<void> {
    // PS3.8 9.2 AR-2/AR-4: answer A-RELEASE-RP once pending responses are sent.
    await Promise.all([...this.jobs.values()].map((j) => j.done));
    this.state = 'released';
    this.deps.onResult('released');
    this.log.info({ event: 'association-released', instances: this.instances });
    this.deps.events.emit('association-released', { associationId: this.id, callingAe: this.callingAe, instances: this.instances });
    await this.conn.send(encodeReleaseRp());
    // The requestor closes the transport (PS3.8 9.2, AR-4); ARTIM bounds the wait.
    this.conn.end();
  }
}

/** A sink that copies a small dataset out of the read buffer, up to `limit` bytes, and hands it on whole. */
function collectSmall(what: string, limit: number, whole: (dataset: Buffer) => void | Promise<void>): DataSink {
  const parts: Buffer[] = [];
  let size = 0;
  return (fragments, last) => {
    for (const f of fragments) size += f.length;
    if (size > limit) throw malformed(`${what} too long`);
    for (const f of fragments) parts.push(Buffer.from(f)); // views into the read buffer: copy
    return last ? whole(Buffer.concat(parts)) : undefined;
  };
}

/** What the logs say of a User Identity: its type and, once authenticated, the username (never a passcode). */
function identityLog(identity: UserIdentity | undefined, user?: string): Record<string, unknown> {
  if (!identity) return {};
  return { userIdentityType: identity.type, ...(user !== undefined ? { user } : { userAuthenticated: false }) };
}
