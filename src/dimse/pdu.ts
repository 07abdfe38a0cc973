/**
 * The seven Upper Layer PDUs (PS3.8 9.3): one decoder that turns a whole framed PDU into a typed
 * value, and encoders that build each PDU as ONE buffer so it is sent with one socket write.
 */
import { decodeAssociateAc, decodeAssociateRq, malformed, type AssociateAc, type AssociateRq } from './pdu-associate.js';
import { AbortReason, MCH_COMMAND, MCH_LAST, PDU_HEADER_LENGTH, PDV_HEADER_LENGTH, PduType } from './pdu-constants.js';

/** One presentation data value (PS3.8 9.3.5.1, Annex E.2). `data` is a view into the PDU. */
export interface Pdv {
  contextId: number;
  command: boolean;
  last: boolean;
  data: Buffer;
}

export type Pdu =
  | { type: 'associate-rq'; rq: AssociateRq }
  | { type: 'associate-ac'; ac: AssociateAc }
  | { type: 'associate-rj'; result: number; source: number; reason: number }
  | { type: 'p-data'; pdvs: Pdv[] }
  | { type: 'release-rq' }
  | { type: 'release-rp' }
  | { type: 'abort'; source: number; reason: number };

/** Decodes one whole PDU (header included). Throws MEDGE_ERR_DIMSE_PDU with an abort reason. */
export function decodePdu(pdu: Buffer): Pdu {
  if (pdu.length < PDU_HEADER_LENGTH) throw malformed('PDU shorter than its header');
  const type = pdu[0]!;
  const length = pdu.readUInt32BE(2);
  if (length !== pdu.length - PDU_HEADER_LENGTH) throw malformed('PDU length does not match its bytes');
  const body = pdu.subarray(PDU_HEADER_LENGTH);
  switch (type) {
    case PduType.AssociateRq:
      return { type: 'associate-rq', rq: decodeAssociateRq(body) };
    case PduType.AssociateAc:
      return { type: 'associate-ac', ac: decodeAssociateAc(body) };
    case PduType.AssociateRj:
      fixed(body, 4, 'A-ASSOCIATE-RJ');
      return { type: 'associate-rj', result: body[1]!, source: body[2]!, reason: body[3]! };
    case PduType.PData:
      return { type: 'p-data', pdvs: decodePdvs(body) };
    case PduType.ReleaseRq:
      fixed(body, 4, 'A-RELEASE-RQ');
      return { type: 'release-rq' };
    case PduType.ReleaseRp:
      fixed(body, 4, 'A-RELEASE-RP');
      return { type: 'release-rp' };
    case PduType.Abort:
      fixed(body, 4, 'A-ABORT');
      return { type: 'abort', source: body[2]!, reason: body[3]! };
    default:
      throw malformed(`unknown PDU type ${type}`, AbortReason.UnrecognizedPdu);
  }
}

function fixed(body: Buffer, length: number, name: string): void {
  if (body.length !== length) throw malformed(`${name} variable field is ${body.length} bytes, not ${length}`);
}

/** PS3.8 9.3.5: P-DATA-TF holds one or more PDV items: length (4), context id (1), header (1), data. */
function decodePdvs(body: Buffer): Pdv[] {
  const pdvs: Pdv[] = [];
  let pos = 0;
  while (pos < body.length) {
    if (pos + 4 > body.length) throw malformed('PDV item header truncated');
    const length = body.readUInt32BE(pos);
    if (length < 2 || pos + 4 + length > body.length) throw malformed(`PDV item length ${length} invalid`);
    const mch = body[pos + 5]!;
    pdvs.push({
      contextId: body[pos + 4]!,
      command: (mch & MCH_COMMAND) !== 0,
      last: (mch & MCH_LAST) !== 0,
      data: body.subarray(pos + PDV_HEADER_LENGTH, pos + 4 + length),
    });
    pos += 4 + length;
  }
  if (pdvs.length === 0) throw malformed('P-DATA-TF without PDV items');
  return pdvs;
}

function fixedPdu(type: number, b2: number, b3: number, b1 = 0): Buffer {
  const buf = Buffer.alloc(PDU_HEADER_LENGTH + 4);
  buf[0] = type;
  buf.writeUInt32BE(4, 2);
  buf[7] = b1;
  buf[8] = b2;
  buf[9] = b3;
  return buf;
}

/** PS3.8 9.3.4: result, source, reason as in Table 9-21. */
export function encodeAssociateRj(result: number, source: number, reason: number): Buffer {
  return fixedPdu(PduType.AssociateRj, source, reason, result);
}

export function encodeReleaseRq(): Buffer {
  return fixedPdu(PduType.ReleaseRq, 0, 0);
}

export function encodeReleaseRp(): Buffer {
  return fixedPdu(PduType.ReleaseRp, 0, 0);
}

/** PS3.8 9.3.8: source and reason/diag as in Table 9-26. */
export function encodeAbort(source: number, reason: number): Buffer {
  return fixedPdu(PduType.Abort, source, reason);
}

/**
 * A P-DATA-TF PDU with a single PDV whose data is `length` bytes, left for the caller to fill from
 * offset PDATA_PREFIX (lets a file be read straight into the PDU buffer: no copy).
 */
export function allocPDataPdu(contextId: number, command: boolean, last: boolean, length: number): Buffer {
  const buf = Buffer.allocUnsafe(PDATA_PREFIX + length);
  writePDataPrefix(buf, 0, contextId, command, last, length);
  return buf;
}

/** Writes the PDU and PDV headers of a single-PDV P-DATA-TF PDU carrying `length` bytes at `offset` (its data follows them). */
export function writePDataPrefix(buf: Buffer, offset: number, contextId: number, command: boolean, last: boolean, length: number): void {
  buf[offset] = PduType.PData;
  buf[offset + 1] = 0;
  buf.writeUInt32BE(PDV_HEADER_LENGTH + length, offset + 2);
  buf.writeUInt32BE(2 + length, offset + 6);
  buf[offset + 10] = contextId;
  buf[offset + 11] = (command ? MCH_COMMAND : 0) | (last ? MCH_LAST : 0);
}

/** Bytes before the PDV data in a single-PDV P-DATA-TF PDU. */
export const PDATA_PREFIX = PDU_HEADER_LENGTH + PDV_HEADER_LENGTH;

export function encodePDataPdu(contextId: number, command: boolean, last: boolean, data: Buffer): Buffer {
  const buf = allocPDataPdu(contextId, command, last, data.length);
  data.copy(buf, PDATA_PREFIX);
  return buf;
}

/**
 * Splits a message part (a command or a dataset) into P-DATA-TF PDUs that fit the peer's maximum
 * length (PS3.8 D.1: the limit is on the PDU's variable field, PDV headers included).
 * `maxPduLength` 0 means the peer set no limit; we still fragment at DEFAULT_FRAGMENT.
 */
export function fragmentMessage(contextId: number, command: boolean, data: Buffer, maxPduLength: number): Buffer[] {
  const size = maxDataPerPdu(maxPduLength);
  const pdus: Buffer[] = [];
  let pos = 0;
  do {
    const end = Math.min(pos + size, data.length);
    pdus.push(encodePDataPdu(contextId, command, end === data.length, data.subarray(pos, end)));
    pos = end;
  } while (pos < data.length);
  return pdus;
}

/** Fragment size used when the peer announces no limit. */
export const DEFAULT_FRAGMENT = 256 * 1024;

/** Most PDV data bytes per P-DATA-TF PDU for a peer maximum length. */
export function maxDataPerPdu(maxPduLength: number): number {
  if (maxPduLength === 0) return DEFAULT_FRAGMENT;
  // Even, so that every fragment but an odd dataset's last one is even (dcmtk refuses odd ones).
  return Math.max(2, (maxPduLength - PDV_HEADER_LENGTH) & ~1);
}
