/**
 * The requestor side of an association (PS3.8 9.2, PS3.7 9.1): connect, A-ASSOCIATE-RQ, one DIMSE
 * request at a time (no asynchronous operations window, PS3.7 D.3.3.3), A-RELEASE. Every wait is
 * bounded by `timeoutMs` (connect, association, each response, release).
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { MedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/uids.js';
import { decodeCommand, type DimseCommand } from './command.js';
import { Connection } from './connection.js';
import type { PresentationContextRq, RoleSelection } from './pdu-associate.js';
import { encodeAssociateRq } from './pdu-associate.js';
import { encodeReleaseRq, fragmentMessage, type Pdu } from './pdu.js';
import { AbortReason, AbortSource, DICOM_APPLICATION_CONTEXT, PcResult } from './pdu-constants.js';
import { findAcceptedContext, type AcceptedContext } from './negotiation.js';
import { presentedIdentity } from './user-identity.js';
import type { DicomUser } from '../config/schema.js';

export interface ScuAssociationOptions {
  host: string;
  port: number;
  calledAe: string;
  callingAe: string;
  contexts: PresentationContextRq[];
  /** SCP/SCU role selection to propose (PS3.7 D.3.3.4), e.g. the SCP role to send a storage commitment report. */
  roles?: RoleSelection[];
  /** Largest P-DATA-TF we accept, bytes (PS3.8 D.1). */
  maxPduLength?: number;
  /** Bound on each wait, ms. */
  timeoutMs?: number;
  /** DICOM TLS (PS3.15 B.1, the TLS Secure Transport Connection Profile): the peer's CA, PEM. */
  tls?: ScuTlsOptions;
  /** A User Identity to present (PS3.7 D.3.3.7), for a peer that requires one. */
  user?: DicomUser;
  log: Logger;
}

export interface ScuTlsOptions {
  /** CA(s) to trust instead of Node's built-in list; absent: the built-in list. */
  ca?: string | Buffer;
  /** The node's certificate chain and private key, PEM, for a peer that authenticates its clients. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Default true: the certificate must verify and name `host`. */
  rejectUnauthorized?: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_PDU = 262_144;

type Waiter = { resolve(v: unknown): void; reject(e: MedgeError): void; kind: string };

export class ScuAssociation {
  readonly accepted = new Map<number, AcceptedContext>();
  /** The role selections the acceptor answered (PS3.7 D.3.3.4); absent ones keep the default roles. */
  acceptedRoles: RoleSelection[] = [];
  private waiter: Waiter | undefined;
  private commandParts: Buffer[] = [];
  private nextMessageId = 1;
  private closedError: MedgeError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lost = false;

  private constructor(readonly conn: Connection, private readonly timeoutMs: number) {}

  static async open(opts: ScuAssociationOptions): Promise<ScuAssociation> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const socket: Socket = opts.tls
      ? tlsConnect({ host: opts.host, port: opts.port, ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key, rejectUnauthorized: opts.tls.rejectUnauthorized ?? true, minVersion: 'TLSv1.2' })
      : connect({ host: opts.host, port: opts.port, noDelay: true });
    socket.setNoDelay(true);
    // A TLS socket is usable once its handshake is done, not at TCP connect.
    const ready = opts.tls ? 'secureConnect' : 'connect';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        socket.destroy();
        reject(new MedgeError('MEDGE_ERR_DIMSE_TIMEOUT', `no TCP connection to ${opts.host}:${opts.port} within ${timeoutMs} ms`, { host: opts.host, port: opts.port }));
      }, timeoutMs);
      socket.once(ready, () => (clearTimeout(t), resolve()));
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(t);
        reject(new MedgeError('MEDGE_ERR_DIMSE_CONNECT', `cannot connect to ${opts.host}:${opts.port} (${err.code ?? err.message})`, { host: opts.host, port: opts.port }, err));
      });
    });
    let self!: ScuAssociation;
    const conn = new Connection(socket, {
      maxPduLength: opts.maxPduLength ?? DEFAULT_MAX_PDU,
      log: opts.log,
      onPdu: (pdu) => self.onPdu(pdu),
      onClosed: ({ error }) => self.onClosed(error),
    });
    self = new ScuAssociation(conn, timeoutMs);
    const pending = self.wait<Extract<Pdu, { type: 'associate-ac' }>['ac']>('associate');
    await conn.send(
      encodeAssociateRq({
        calledAe: opts.calledAe,
        callingAe: opts.callingAe,
        applicationContext: DICOM_APPLICATION_CONTEXT,
        protocolVersion: 1,
        contexts: opts.contexts,
        user: {
          maxPduLength: opts.maxPduLength ?? DEFAULT_MAX_PDU,
          implementationClassUid: IMPLEMENTATION_CLASS_UID,
          implementationVersionName: IMPLEMENTATION_VERSION_NAME,
          roles: opts.roles,
          userIdentity: opts.user && presentedIdentity(opts.user),
        },
      }),
    );
    const ac = await pending;
    conn.peerMaxPduLength = ac.user.maxPduLength;
    self.acceptedRoles = ac.user.roles ?? [];
    const proposed = new Map(opts.contexts.map((c) => [c.id, c]));
    for (const c of ac.contexts) {
      const p = proposed.get(c.id);
      // PS3.8 9.3.3.2: the accepted syntax must be one we proposed.
      if (p && c.result === PcResult.Acceptance && p.transferSyntaxes.includes(c.transferSyntax)) {
        self.accepted.set(c.id, { id: c.id, abstractSyntax: p.abstractSyntax, transferSyntax: c.transferSyntax });
      }
    }
    return self;
  }

  /** An accepted context for the SOP class, preferring `transferSyntax` when given. */
  findContext(abstractSyntax: string, transferSyntax?: string): AcceptedContext | undefined {
    return findAcceptedContext(this.accepted.values(), abstractSyntax, transferSyntax);
  }

  /** False once the association was aborted, rejected or closed: start a new one. */
  get usable(): boolean {
    return !this.lost && !this.conn.isClosed;
  }

  newMessageId(): number {
    const id = this.nextMessageId;
    this.nextMessageId = (this.nextMessageId % 0xffff) + 1;
    return id;
  }

  /**
   * Sends a request and waits for its final response. `sendDataset`, when given, streams the
   * dataset PDUs after the command (see scu-store.ts).
   */
  async request(contextId: number, cmd: DimseCommand, sendDataset?: () => Promise<void>): Promise<DimseCommand> {
    const response = this.wait<DimseCommand>('response');
    try {
      await this.conn.sendMessage(contextId, cmd);
      if (sendDataset) await sendDataset();
    } catch (err) {
      response.catch(() => undefined);
      throw err;
    }
    return response;
  }

  /** A request with a dataset held in memory (a small one: an N-EVENT-REPORT's, a C-FIND identifier). */
  requestWithDataset(contextId: number, cmd: DimseCommand, dataset: Buffer): Promise<DimseCommand> {
    return this.request(contextId, cmd, async () => {
      for (const pdu of fragmentMessage(contextId, false, dataset, this.conn.peerMaxPduLength)) await this.conn.send(pdu);
    });
  }

  /** A-RELEASE-RQ, wait for A-RELEASE-RP, close (PS3.8 9.2, AR-1..AR-3). */
  async release(): Promise<void> {
    if (this.conn.isClosed) return;
    const rp = this.wait<void>('release');
    rp.catch(() => undefined);
    await this.conn.send(encodeReleaseRq());
    await rp;
    this.conn.end();
  }

  abort(): void {
    this.conn.abort(AbortSource.ServiceUser, AbortReason.NotSpecified);
  }

  private wait<T>(kind: string): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<T>((resolve, reject) => {
      this.waiter = { resolve: resolve as (v: unknown) => void, reject, kind };
      this.timer = setTimeout(() => {
        this.fail(new MedgeError('MEDGE_ERR_DIMSE_TIMEOUT', `no ${kind} from the peer within ${this.timeoutMs} ms`, { kind }));
        this.abort();
      }, this.timeoutMs);
    });
  }

  private settle(kind: string, value: unknown): void {
    const w = this.waiter;
    if (!w || w.kind !== kind) {
      this.fail(new MedgeError('MEDGE_ERR_DIMSE_PDU', `unexpected ${kind} from the peer`, { kind }));
      this.conn.abort(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu);
      return;
    }
    clearTimeout(this.timer);
    this.waiter = undefined;
    w.resolve(value);
  }

  private fail(err: MedgeError): void {
    this.lost = true;
    clearTimeout(this.timer);
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  private onPdu(pdu: Pdu): void {
    switch (pdu.type) {
      case 'associate-ac':
        return this.settle('associate', pdu.ac);
      case 'associate-rj':
        this.fail(new MedgeError('MEDGE_ERR_DIMSE_REJECTED', `association rejected (result ${pdu.result}, source ${pdu.source}, reason ${pdu.reason})`, { result: pdu.result, source: pdu.source, reason: pdu.reason }));
        this.conn.end();
        return;
      case 'release-rp':
        return this.settle('release', undefined);
      case 'abort':
        this.fail(new MedgeError('MEDGE_ERR_DIMSE_ABORTED', `the peer aborted the association (source ${pdu.source}, reason ${pdu.reason})`, { source: pdu.source, reason: pdu.reason }));
        this.conn.destroy();
        return;
      case 'p-data':
        for (const pdv of pdu.pdvs) {
          if (!pdv.command) continue; // response identifiers (C-FIND) are not used by this SCU
          this.commandParts.push(pdv.data);
          if (!pdv.last) continue;
          const cmd = decodeCommand(Buffer.concat(this.commandParts));
          this.commandParts = [];
          // PS3.7 C.4: pending responses (FF00/FF01) are followed by more; wait for the final one.
          if (cmd.status === 0xff00 || cmd.status === 0xff01) continue;
          this.settle('response', cmd);
        }
        return;
      default:
        this.fail(new MedgeError('MEDGE_ERR_DIMSE_PDU', `unexpected ${pdu.type} from the peer`));
        this.conn.abort(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu);
    }
  }

  private onClosed(error?: MedgeError): void {
    this.closedError = error ?? new MedgeError('MEDGE_ERR_DIMSE_ABORTED', 'the peer closed the connection');
    this.fail(this.closedError);
  }
}
