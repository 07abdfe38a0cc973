/**
 * One Upper Layer transport connection (PS3.8 9.1, 9.2), shared by the SCP and the SCU: frames and
 * decodes incoming PDUs, sends each PDU with one socket write (DESIGN.md: Nagle costs ~40 ms per
 * C-STORE otherwise), fragments messages to the peer's maximum PDU length, answers malformed
 * input with A-ABORT, and runs the ARTIM and idle timers.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../observability/log.js';
import { MedgeError } from '../errors.js';
import { decodePdu, encodeAbort, fragmentMessage, type Pdu } from './pdu.js';
import { PduReader } from './pdu-reader.js';
import { AbortReason, AbortSource } from './pdu-constants.js';
import { encodeCommand, type DimseCommand } from './command.js';

export interface ConnectionOptions {
  /** Our maximum P-DATA-TF length (PS3.8 D.1), enforced on what we receive; 0 = unlimited. */
  maxPduLength: number;
  /** Already bound to the association id (`assoc`). */
  log: Logger;
  /**
   * Each decoded PDU, in order; the next waits while a returned promise is pending (backpressure).
   * P-DATA-TF arrives as PDV pieces batched by what the socket delivered (pdu-reader.ts): a PDV
   * item may come in several pieces, only the final one of a last fragment marked `last`.
   */
  onPdu(pdu: Pdu): void | Promise<void>;
  /** Called once when the transport is gone, whatever the reason. */
  onClosed(info: { error?: MedgeError }): void;
}

export class Connection {
  /** The peer's maximum P-DATA-TF length, known after A-ASSOCIATE (0 = no limit). */
  peerMaxPduLength = 0;
  private readonly reader: PduReader;
  private artim: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;
  private idleMs = 0;
  private onIdle: (() => void) | undefined;
  private closed = false;
  private closeError: MedgeError | undefined;

  constructor(readonly socket: Socket, private readonly opts: ConnectionOptions) {
    socket.setNoDelay(true);
    this.reader = new PduReader(socket, {
      maxPduLength: opts.maxPduLength,
      onPdu: (raw) => this.handle(raw),
      onPdvs: (pdvs) => {
        this.touch();
        return this.opts.onPdu({ type: 'p-data', pdvs });
      },
      onError: (err) => this.malformed(err),
    });
    socket.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      // The code says what an operator can act on (ECONNRESET, or a TLS alert such as
      // ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: the peer wants a client certificate).
      this.closeError ??= new MedgeError('MEDGE_ERR_DIMSE_ABORTED', `connection error${code ? ` (${code})` : ''}`, { errno: code }, err);
    });
    socket.on('close', () => this.finish());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private handle(raw: Buffer): void | Promise<void> {
    this.touch();
    let pdu: Pdu;
    try {
      pdu = decodePdu(raw);
    } catch (err) {
      this.malformed(err as MedgeError);
      return;
    }
    return this.opts.onPdu(pdu);
  }

  /** PS3.8 9.2, AA-1 etc.: an invalid PDU is answered with A-ABORT and the connection closed. */
  private malformed(err: MedgeError): void {
    const abortReason = typeof err.fields.abortReason === 'number' ? err.fields.abortReason : AbortReason.NotSpecified;
    if (err.code === 'MEDGE_ERR_DIMSE_PDU') this.opts.log.warn({ event: 'pdu-malformed', reason: err.fields.reason ?? err.message });
    else this.opts.log.warn({ event: 'association-error', code: err.code, reason: err.message });
    this.closeError ??= err;
    this.abort(AbortSource.ServiceProvider, abortReason);
  }

  /** Sends one whole PDU with one write; resolves once the socket can take more (drain). */
  send(pdu: Buffer): Promise<void> {
    if (this.closed || this.socket.destroyed) return Promise.reject(new MedgeError('MEDGE_ERR_DIMSE_ABORTED', 'the association is closed'));
    if (this.socket.write(pdu)) return Promise.resolve();
    return this.drained();
  }

  /**
   * Sends whole PDUs laid end to end in one buffer with one write (no PDU is left half-written
   * for Nagle); `written` runs once the socket no longer needs the buffer. Resolves once the
   * socket can take more.
   */
  async sendBatch(pdus: Buffer, written: () => void): Promise<void> {
    if (this.closed || this.socket.destroyed) {
      written();
      throw new MedgeError('MEDGE_ERR_DIMSE_ABORTED', 'the association is closed');
    }
    if (!this.socket.write(pdus, () => written())) await this.drained();
  }

  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        this.socket.off('drain', ok);
        this.socket.off('close', gone);
        if (err) reject(err);
        else resolve();
      };
      const ok = () => done();
      const gone = () => done(new MedgeError('MEDGE_ERR_DIMSE_ABORTED', 'the association closed while sending'));
      this.socket.once('drain', ok);
      this.socket.once('close', gone);
    });
  }

  /** Sends a DIMSE message: the command, then the dataset, each in P-DATA-TF PDUs (PS3.7 6.3.1, PS3.8 9.3.5). */
  async sendMessage(contextId: number, command: DimseCommand, dataset?: Buffer): Promise<void> {
    for (const pdu of fragmentMessage(contextId, true, encodeCommand(command), this.peerMaxPduLength)) await this.send(pdu);
    if (dataset) for (const pdu of fragmentMessage(contextId, false, dataset, this.peerMaxPduLength)) await this.send(pdu);
  }

  /** Sends A-ABORT (PS3.8 9.3.8) and closes; the peer need not answer (PS3.8 9.2.4, AA-1). */
  abort(source: number = AbortSource.ServiceUser, reason: number = AbortReason.NotSpecified): void {
    if (this.closed) return;
    this.reader.stop();
    if (!this.socket.destroyed) this.socket.end(encodeAbort(source, reason));
    this.closeSoon();
  }

  /** Half-closes after the last PDU and lets the peer close; ARTIM bounds the wait (PS3.8 9.1.5). */
  end(): void {
    if (this.closed) return;
    this.reader.stop();
    this.socket.end();
    this.closeSoon();
  }

  /** Closes at once without any PDU (transport gone or ARTIM expired). */
  destroy(): void {
    this.reader.stop();
    this.socket.destroy();
  }

  private closeSoon(): void {
    this.startArtim(ARTIM_CLOSE_MS, () => this.destroy());
  }

  /** Starts (or restarts) the ARTIM timer (PS3.8 9.1.5). */
  startArtim(ms: number, onExpire: () => void): void {
    this.stopArtim();
    this.artim = setTimeout(onExpire, ms);
    this.artim.unref();
  }

  stopArtim(): void {
    if (this.artim) clearTimeout(this.artim);
    this.artim = undefined;
  }

  /** Calls `fn` after `ms` without any incoming PDU; 0 disables. */
  setIdleTimeout(ms: number, fn: () => void): void {
    this.idleMs = ms;
    this.onIdle = fn;
    this.touch();
  }

  private touch(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    if (this.idleMs > 0 && this.onIdle && !this.closed) {
      this.idle = setTimeout(this.onIdle, this.idleMs);
      this.idle.unref();
    }
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.stop();
    this.stopArtim();
    if (this.idle) clearTimeout(this.idle);
    this.opts.onClosed({ error: this.closeError });
  }
}

/** How long we wait for the peer to close after our A-ABORT or final PDU before destroying. */
const ARTIM_CLOSE_MS = 5_000;
