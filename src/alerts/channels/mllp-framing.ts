/**
 * The Minimal Lower Layer Protocol (HL7 v2.5.1 Appendix C.4, MLLP release 1): each message travels
 * as <SB> payload <EB><CR>, with SB = 0x0B and EB = 0x1C. The payload never holds those bytes (HL7
 * text is printable apart from the CR segment separator), so the frame needs no escaping.
 */

export const MLLP_START_BLOCK = 0x0b;
export const MLLP_END_BLOCK = 0x1c;
export const MLLP_CARRIAGE_RETURN = 0x0d;

/** One message in its MLLP frame. */
export function mllpFrame(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([Buffer.of(MLLP_START_BLOCK), body, Buffer.of(MLLP_END_BLOCK, MLLP_CARRIAGE_RETURN)]);
}

/**
 * Reassembles MLLP frames from a TCP stream: bytes before a start block are dropped (C.4.2: a
 * receiver ignores anything between frames), a frame ends at EB CR. Chunks may split a frame or
 * carry several.
 */
export class MllpDeframer {
  private buffered: Buffer = Buffer.alloc(0);

  /** Adds received bytes; returns the payloads of the frames they completed. */
  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const start = this.buffered.indexOf(MLLP_START_BLOCK);
      if (start < 0) {
        this.buffered = Buffer.alloc(0);
        break;
      }
      let end = this.buffered.indexOf(MLLP_END_BLOCK, start + 1);
      while (end >= 0 && end + 1 < this.buffered.length && this.buffered[end + 1] !== MLLP_CARRIAGE_RETURN) {
        end = this.buffered.indexOf(MLLP_END_BLOCK, end + 1);
      }
      if (end < 0 || end + 1 >= this.buffered.length) {
        this.buffered = this.buffered.subarray(start);
        break;
      }
      out.push(Buffer.from(this.buffered.subarray(start + 1, end)));
      this.buffered = this.buffered.subarray(end + 2);
    }
    return out;
  }

  /** Bytes held for a frame not yet complete. */
  get pending(): number {
    return this.buffered.length;
  }
}
