/**
 * Frames Upper Layer PDUs out of a TCP byte stream (PS3.8 9.3.1: type, reserved, 4-byte length).
 * P-DATA-TF PDUs are not assembled: their PDV items (PS3.8 9.3.5.1) are parsed across socket
 * chunk boundaries and handed on as views into the received chunks, so an instance's bytes are
 * never copied between the socket and the file (before, each PDU was concatenated: every byte
 * allocated and copied twice, which drove the garbage collector). Other PDUs are small and are
 * handed on whole. While the handler of the previous batch is still working (for example an
 * ingest write on a slow disk), chunks accumulate up to a high-water mark and the socket is
 * paused, so TCP flow control slows the peer instead of memory growing; the next batch then holds
 * everything that arrived meanwhile (one file write for many chunks).
 */
import type { Socket } from 'node:net';
import { MedgeError, toMedgeError } from '../errors.js';
import { AbortReason, MCH_COMMAND, MCH_LAST, PDU_HEADER_LENGTH, PDV_HEADER_LENGTH, PduType } from './pdu-constants.js';
import { malformed } from './pdu-associate.js';
import type { Pdv } from './pdu.js';
import { takeChunkListener } from './read-buffer.js';

/** Association PDUs hold at most 128 contexts of a few UIDs each; 1 MiB is far beyond any real one. */
const NON_DATA_LIMIT = 1024 * 1024;
/** When our limit is 0 ("unlimited", PS3.8 D.1) a P-DATA-TF PDU may still not exceed this. */
export const UNLIMITED_PDU_CAP = 64 * 1024 * 1024;
/** Bytes of the PDV item length field (PS3.8 9.3.5.1) that count outside the item's length. */
const PDV_LENGTH_FIELD = 4;

export interface PduReaderOptions {
  /** Our announced maximum P-DATA-TF variable field length in bytes; 0 means unlimited. */
  maxPduLength: number;
  /** Called once per whole PDU other than P-DATA-TF, in order; the next waits until a returned promise settles. */
  onPdu(pdu: Buffer): void | Promise<void>;
  /**
   * PDV data of P-DATA-TF PDUs, in order, as views into the received chunks (valid for as long as
   * the caller keeps them). A PDV item split across chunks arrives as several pieces with the
   * same context and command flag, `last` set only on the final piece of a last fragment.
   */
  onPdvs(pdvs: Pdv[]): void | Promise<void>;
  // On a socket made by withReadBuffer (read-buffer.ts), PDV data and PDUs are views into the
  // connection's read buffer: valid until the returned promise settles (or the call returns).
  /** Framing errors (oversized or unknown PDU, bad PDV item) and handler failures; the reader stops after it. */
  onError(err: MedgeError): void;
}

type Batch = { kind: 'pdu'; pdu: Buffer } | { kind: 'pdvs'; pdvs: Pdv[] };

export class PduReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private busy = false;
  private stopped = false;
  private paused = false;
  /** Chunks are views into a reused read buffer (read-buffer.ts). */
  private borrowed = false;
  private readonly highWater: number;
  private readonly dataLimit: number;
  /** Bytes of the current P-DATA-TF variable field not yet parsed; 0 between PDUs. */
  private pduLeft = 0;
  /** Data bytes of the current PDV item not yet handed on. */
  private pdvLeft = 0;
  private pdvContext = 0;
  private pdvMch = 0;

  constructor(private readonly socket: Socket, private readonly opts: PduReaderOptions) {
    this.dataLimit = opts.maxPduLength > 0 ? opts.maxPduLength : UNLIMITED_PDU_CAP;
    this.highWater = Math.min(this.dataLimit, 4 * 1024 * 1024) + PDU_HEADER_LENGTH;
    const listen = takeChunkListener(socket);
    if (listen) {
      this.borrowed = true;
      listen((chunk) => this.pushBorrowed(chunk));
    } else {
      socket.on('data', (chunk: Buffer) => this.push(chunk));
    }
  }

  /**
   * A read into the shared buffer: handled at once; while a handler is still working on views
   * into it, reading pauses (returns false) and resumes when it is done. Bytes left over (a
   * partial header or non-data PDU) are copied before the buffer is read into again.
   */
  private pushBorrowed(chunk: Buffer): boolean {
    if (this.stopped) return true;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (!this.busy) this.drain();
    if (this.busy && !this.stopped) {
      this.paused = true;
      return false;
    }
    this.keepLeftovers();
    return true;
  }

  private keepLeftovers(): void {
    if (this.borrowed) this.chunks = this.chunks.map((c) => Buffer.from(c));
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
      const batch = this.next();
      if (!batch) return;
      let result: void | Promise<void>;
      try {
        result = batch.kind === 'pdu' ? this.opts.onPdu(batch.pdu) : this.opts.onPdvs(batch.pdvs);
      } catch (err) {
        this.fail(toMedgeError(err));
        return;
      }
      if (result && typeof result.then === 'function') {
        this.busy = true;
        result.then(
          () => {
            this.busy = false;
            if (this.borrowed) {
              // Finish the paused read's bytes first: the buffer is reused once reading resumes.
              this.drain();
              if (this.busy || !this.paused || this.stopped) return;
              this.keepLeftovers();
              this.paused = false;
              this.socket.resume();
              return;
            }
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
   * The next batch: a whole non-data PDU, or every PDV piece that the buffered bytes hold (across
   * consecutive P-DATA-TF PDUs). Undefined when more bytes are needed or after a framing error
   * (reported through onError). The type is checked on the first byte so garbage is refused at
   * once instead of waiting for a length that never comes.
   */
  private next(): Batch | undefined {
    const pdvs: Pdv[] = [];
    while (this.buffered > 0) {
      if (this.pduLeft === 0 && this.pdvLeft === 0) {
        // At a PDU boundary.
        const type = this.chunks[0]![0]!;
        if (type < PduType.AssociateRq || type > PduType.Abort) {
          this.fail(malformed(`unknown PDU type ${type}`, AbortReason.UnrecognizedPdu));
          return undefined;
        }
        if (type !== PduType.PData && pdvs.length > 0) break;
        if (this.buffered < PDU_HEADER_LENGTH) break;
        const length = this.peek(PDU_HEADER_LENGTH).readUInt32BE(2);
        const limit = type === PduType.PData ? this.dataLimit : NON_DATA_LIMIT;
        if (length > limit) {
          this.fail(malformed(`PDU length ${length} exceeds the limit of ${limit}`, AbortReason.InvalidPduParameterValue));
          return undefined;
        }
        if (type !== PduType.PData) {
          const total = PDU_HEADER_LENGTH + length;
          if (this.buffered < total) return undefined;
          return { kind: 'pdu', pdu: this.take(total) };
        }
        if (length === 0) {
          this.fail(malformed('P-DATA-TF without PDV items'));
          return undefined;
        }
        this.skip(PDU_HEADER_LENGTH);
        this.pduLeft = length;
      } else if (this.pdvLeft === 0) {
        // At a PDV item boundary inside a P-DATA-TF PDU.
        if (this.buffered < PDV_HEADER_LENGTH) break;
        const header = this.peek(PDV_HEADER_LENGTH);
        const length = header.readUInt32BE(0);
        if (length < 2 || PDV_LENGTH_FIELD + length > this.pduLeft) {
          this.fail(malformed(`PDV item length ${length} invalid`));
          return undefined;
        }
        this.pdvContext = header[4]!;
        this.pdvMch = header[5]!;
        this.skip(PDV_HEADER_LENGTH);
        this.pduLeft -= PDV_HEADER_LENGTH;
        this.pdvLeft = length - 2;
        if (this.pdvLeft === 0) pdvs.push(this.piece(Buffer.alloc(0)));
      } else {
        const first = this.chunks[0]!;
        const n = Math.min(this.pdvLeft, first.length);
        const data = n === first.length ? first : first.subarray(0, n);
        if (n === first.length) this.chunks.shift();
        else this.chunks[0] = first.subarray(n);
        this.buffered -= n;
        this.pduLeft -= n;
        this.pdvLeft -= n;
        pdvs.push(this.piece(data));
      }
    }
    return pdvs.length > 0 ? { kind: 'pdvs', pdvs } : undefined;
  }

  /** A piece of the current PDV item; `last` only on the final piece of a last fragment. */
  private piece(data: Buffer): Pdv {
    return {
      contextId: this.pdvContext,
      command: (this.pdvMch & MCH_COMMAND) !== 0,
      last: this.pdvLeft === 0 && (this.pdvMch & MCH_LAST) !== 0,
      data,
    };
  }

  /** The first n buffered bytes (n small: a header), without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    for (const c of this.chunks) {
      at += c.copy(out, at, 0, Math.min(c.length, n - at));
      if (at === n) break;
    }
    return out;
  }

  private skip(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      if (first.length <= n) {
        this.chunks.shift();
        n -= first.length;
      } else {
        this.chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }

  private take(total: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= total) {
      out = this.borrowed ? Buffer.from(first.subarray(0, total)) : first.subarray(0, total);
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
