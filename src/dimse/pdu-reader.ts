/**
 * Frames Upper Layer PDUs out of a TCP byte stream (PS3.8 9.3.1: type, reserved, 4-byte length).
 * Holds at most about one PDU: while the handler of the previous PDU is still working (for
 * example an ingest write on a slow disk) and a full PDU's worth of bytes is waiting, the socket
 * is paused, so TCP flow control slows the peer instead of memory growing.
 */
import type { Socket } from 'node:net';
import { MedgeError, toMedgeError } from '../errors.js';
import { AbortReason, PDU_HEADER_LENGTH, PduType } from './pdu-constants.js';
import { malformed } from './pdu-associate.js';

/** Association PDUs hold at most 128 contexts of a few UIDs each; 1 MiB is far beyond any real one. */
const NON_DATA_LIMIT = 1024 * 1024;
/** When our limit is 0 ("unlimited", PS3.8 D.1) a P-DATA-TF PDU may still not exceed this. */
export const UNLIMITED_PDU_CAP = 64 * 1024 * 1024;

export interface PduReaderOptions {
  /** Our announced maximum P-DATA-TF variable field length in bytes; 0 means unlimited. */
  maxPduLength: number;
  /** Called once per whole PDU, in order; the next PDU waits until a returned promise settles. */
  onPdu(pdu: Buffer): void | Promise<void>;
  /** Framing errors (oversized or unknown PDU) and handler failures; the reader stops after it. */
  onError(err: MedgeError): void;
}

export class PduReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private busy = false;
  private stopped = false;
  private paused = false;
  private readonly highWater: number;
  private readonly dataLimit: number;

  constructor(private readonly socket: Socket, private readonly opts: PduReaderOptions) {
    this.dataLimit = opts.maxPduLength > 0 ? opts.maxPduLength : UNLIMITED_PDU_CAP;
    this.highWater = Math.min(this.dataLimit, 4 * 1024 * 1024) + PDU_HEADER_LENGTH;
    socket.on('data', (chunk: Buffer) => this.push(chunk));
  }

  /** Drops everything buffered and ignores further bytes (after an abort or a close). */
  stop(): void {
    this.stopped = true;
    this.chunks = [];
    this.buffered = 0;
  }

  /** Bytes received but not yet handed to the handler. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  private push(chunk: Buffer): void {
    if (this.stopped) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.busy) {
      if (this.buffered >= this.highWater && !this.paused) {
        this.paused = true;
        this.socket.pause();
      }
      return;
    }
    this.drain();
  }

  private drain(): void {
    while (!this.stopped && !this.busy) {
      const pdu = this.next();
      if (pdu === null) {
        return;
      }
      if (!pdu) break;
      let result: void | Promise<void>;
      try {
        result = this.opts.onPdu(pdu);
      } catch (err) {
        this.fail(toMedgeError(err));
        return;
      }
      if (result && typeof result.then === 'function') {
        this.busy = true;
        result.then(
          () => {
            this.busy = false;
            if (this.paused && !this.stopped) {
              this.paused = false;
              this.socket.resume();
            }
            this.drain();
          },
          (err: unknown) => this.fail(toMedgeError(err)),
        );
      }
    }
  }

  /**
   * Takes one whole PDU off the buffer; undefined when more bytes are needed, null after a framing
   * error (reported through onError). The type is checked on the first byte so garbage is refused
   * at once instead of waiting for a length that never comes.
   */
  private next(): Buffer | undefined | null {
    if (this.buffered === 0) return undefined;
    const type = this.chunks[0]![0]!;
    if (type < PduType.AssociateRq || type > PduType.Abort) {
      this.fail(malformed(`unknown PDU type ${type}`, AbortReason.UnrecognizedPdu));
      return null;
    }
    if (this.buffered < PDU_HEADER_LENGTH) return undefined;
    const length = this.peekHeader().readUInt32BE(2);
    const limit = type === PduType.PData ? this.dataLimit : NON_DATA_LIMIT;
    if (length > limit) {
      this.fail(malformed(`PDU length ${length} exceeds the limit of ${limit}`, AbortReason.InvalidPduParameterValue));
      return null;
    }
    const total = PDU_HEADER_LENGTH + length;
    if (this.buffered < total) return undefined;
    return this.take(total);
  }

  private peekHeader(): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= PDU_HEADER_LENGTH) return first;
    return Buffer.concat(this.chunks).subarray(0, PDU_HEADER_LENGTH);
  }

  private take(total: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= total) {
      out = first.subarray(0, total);
      if (first.length === total) this.chunks.shift();
      else this.chunks[0] = first.subarray(total);
    } else {
      const parts: Buffer[] = [];
      let need = total;
      while (need > 0) {
        const c = this.chunks[0]!;
        if (c.length <= need) {
          parts.push(c);
          this.chunks.shift();
          need -= c.length;
        } else {
          parts.push(c.subarray(0, need));
          this.chunks[0] = c.subarray(need);
          need = 0;
        }
      }
      out = Buffer.concat(parts, total);
    }
    this.buffered -= total;
    return out;
  }

  private fail(err: MedgeError): void {
    if (this.stopped) return;
    this.stop();
    this.opts.onError(err);
  }
}
