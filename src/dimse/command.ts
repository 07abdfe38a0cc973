/**
 * The DIMSE command set codec (PS3.7 6.3 and Annex E). Command sets are always Implicit VR Little
 * Endian (PS3.7 6.3.1) and start with Command Group Length (0000,0000). Unknown command elements
 * are skipped on decode; encode writes the elements in ascending tag order.
 */
import { MedgeError } from '../errors.js';
import { NO_DATASET } from './pdu-constants.js';

export interface DimseCommand {
  /** PS3.7 E.1-1 (0000,0100), see CommandField. */
  commandField: number;
  messageId?: number;
  messageIdBeingRespondedTo?: number;
  affectedSopClassUid?: string;
  requestedSopClassUid?: string;
  affectedSopInstanceUid?: string;
  requestedSopInstanceUid?: string;
  priority?: number;
  /** Command Data Set Type (0000,0800) is anything but 0101H. */
  hasDataset: boolean;
  status?: number;
  /** Error Comment (0000,0902), LO: at most 64 characters. */
  errorComment?: string;
  moveDestination?: string;
  moveOriginatorAeTitle?: string;
  moveOriginatorMessageId?: number;
  /** N-EVENT-REPORT Event Type ID (0000,1002). */
  eventTypeId?: number;
  /** N-ACTION Action Type ID (0000,1008). */
  actionTypeId?: number;
  /** C-MOVE/C-GET responses: Number of Remaining, Completed, Failed and Warning Sub-operations (0000,1020-1023). */
  remainingSuboperations?: number;
  completedSuboperations?: number;
  failedSuboperations?: number;
  warningSuboperations?: number;
}

type Key = Exclude<keyof DimseCommand, 'hasDataset'> | 'dataSetType';
type Vr = 'UI' | 'US' | 'AE' | 'LO';

/** PS3.7 Table E.1-1: tag, field, VR. */
const ELEMENTS: ReadonlyArray<readonly [number, Key, Vr]> = [
  [0x0002, 'affectedSopClassUid', 'UI'],
  [0x0003, 'requestedSopClassUid', 'UI'],
  [0x0100, 'commandField', 'US'],
  [0x0110, 'messageId', 'US'],
  [0x0120, 'messageIdBeingRespondedTo', 'US'],
  [0x0600, 'moveDestination', 'AE'],
  [0x0700, 'priority', 'US'],
  [0x0800, 'dataSetType', 'US'],
  [0x0900, 'status', 'US'],
  [0x0902, 'errorComment', 'LO'],
  [0x1000, 'affectedSopInstanceUid', 'UI'],
  [0x1001, 'requestedSopInstanceUid', 'UI'],
  [0x1002, 'eventTypeId', 'US'],
  [0x1008, 'actionTypeId', 'US'],
  [0x1020, 'remainingSuboperations', 'US'],
  [0x1021, 'completedSuboperations', 'US'],
  [0x1022, 'failedSuboperations', 'US'],
  [0x1023, 'warningSuboperations', 'US'],
  [0x1030, 'moveOriginatorAeTitle', 'AE'],
  [0x1031, 'moveOriginatorMessageId', 'US'],
];
const BY_ELEMENT = new Map(ELEMENTS.map((e) => [e[0], e]));

/** Data Set Type value we send when a dataset follows (PS3.7 E.1-1: any value but 0101H). */
const DATASET_PRESENT = 0x0000;
const ERROR_COMMENT_MAX = 64;

export function encodeCommand(cmd: DimseCommand): Buffer {
  const parts: Buffer[] = [];
  for (const [element, key, vr] of ELEMENTS) {
    const value = key === 'dataSetType' ? (cmd.hasDataset ? DATASET_PRESENT : NO_DATASET) : cmd[key];
    if (value === undefined || value === null) continue;
    parts.push(encodeElement(element, vr, value));
  }
  const body = Buffer.concat(parts);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt32LE(0x00000000, 0);
  groupLength.writeUInt32LE(4, 4);
  groupLength.writeUInt32LE(body.length, 8);
  return Buffer.concat([groupLength, body]);
}

function encodeElement(element: number, vr: Vr, value: string | number): Buffer {
  let v: Buffer;
  if (vr === 'US') {
    v = Buffer.alloc(2);
    v.writeUInt16LE(Number(value) & 0xffff, 0);
  } else {
    let s = String(value);
    if (vr === 'LO') s = s.slice(0, ERROR_COMMENT_MAX);
    if (vr === 'AE') s = s.slice(0, 16);
    v = Buffer.from(s, 'latin1');
    // PS3.5 6.2: even length; UIDs pad with NUL, text with a space.
    if (v.length % 2) v = Buffer.concat([v, Buffer.from([vr === 'UI' ? 0x00 : 0x20])]);
  }
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0x0000, 0);
  head.writeUInt16LE(element, 2);
  head.writeUInt32LE(v.length, 4);
  return Buffer.concat([head, v]);
}

/** Decodes a whole command set (all its PDV fragments joined). Throws MEDGE_ERR_DIMSE_PDU. */
export function decodeCommand(buf: Buffer): DimseCommand {
  const cmd: Partial<DimseCommand> & { hasDataset: boolean } = { hasDataset: false };
  let sawField = false;
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 8 > buf.length) throw bad('element header truncated');
    const group = buf.readUInt16LE(pos);
    const element = buf.readUInt16LE(pos + 2);
    const length = buf.readUInt32LE(pos + 4);
    if (group !== 0x0000) throw bad(`element of group ${group.toString(16)} in a command set`);
    if (length === 0xffffffff || pos + 8 + length > buf.length) throw bad(`element (0000,${hex(element)}) length invalid`);
    const value = buf.subarray(pos + 8, pos + 8 + length);
    pos += 8 + length;
    const def = BY_ELEMENT.get(element);
    if (!def) continue;
    const [, key, vr] = def;
    if (vr === 'US') {
      if (length < 2) throw bad(`element (0000,${hex(element)}) too short`);
      const n = value.readUInt16LE(0);
      if (key === 'dataSetType') cmd.hasDataset = n !== NO_DATASET;
      else {
        (cmd as Record<string, unknown>)[key] = n;
        if (key === 'commandField') sawField = true;
      }
    } else {
      (cmd as Record<string, unknown>)[key] = value.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
    }
  }
  if (!sawField) throw bad('command set without Command Field (0000,0100)');
  return cmd as DimseCommand;
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0').toUpperCase();
}

function bad(reason: string): MedgeError {
  return new MedgeError('MEDGE_ERR_DIMSE_PDU', `malformed DIMSE command: ${reason}`, { reason });
}
