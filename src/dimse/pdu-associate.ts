/**
 * A-ASSOCIATE-RQ and A-ASSOCIATE-AC PDUs (PS3.8 9.3.2, 9.3.3) with their presentation context and
 * user information items (PS3.8 9.3.2.2, 9.3.3.2, Annex D.1, D.3.3.2, D.3.3.3), and SCP/SCU role
 * selection (PS3.7 D.3.3.4), which the node proposes when it opens an association to send a
 * storage commitment report as the SCP, and User Identity negotiation (PS3.7 D.3.3.7). Other user
 * information sub-items (asynchronous operations 53h, extended negotiation) are read and ignored:
 * PS3.7 D.3.3 lets an acceptor answer without them.
 */
import { MedgeError } from '../errors.js';
import { AbortReason, DICOM_APPLICATION_CONTEXT, ItemType, PDU_HEADER_LENGTH, PROTOCOL_VERSION, PduType } from './pdu-constants.js';

export interface PresentationContextRq {
  id: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
}

export interface PresentationContextAc {
  id: number;
  /** PS3.8 Table 9-18 (PcResult). */
  result: number;
  /** Meaningful only when result is acceptance; PS3.8 9.3.3.2 still requires the sub-item. */
  transferSyntax: string;
}

export interface UserInformation {
  /** Largest P-DATA-TF variable field the sender can receive (PS3.8 D.1); 0 means no limit. */
  maxPduLength: number;
  implementationClassUid?: string;
  implementationVersionName?: string;
  /** SCP/SCU Role Selection sub-items (PS3.7 D.3.3.4): the roles of the association requestor. */
  roles?: RoleSelection[];
  /** A-ASSOCIATE-RQ: who the requestor says it is (PS3.7 D.3.3.7.1, item 58H). */
  userIdentity?: UserIdentity;
  /**
   * A-ASSOCIATE-AC: the positive answer to a user identity whose requestor asked for one and who
   * was authenticated (PS3.7 D.3.3.7.2, item 59H): the server response, empty for a username.
   */
  userIdentityResponse?: Buffer;
}

/** PS3.7 Table D.3-14. */
export interface UserIdentity {
  /** UserIdentityType: 1 username, 2 username and passcode, 3 Kerberos, 4 SAML, 5 JWT. */
  type: number;
  positiveResponseRequested: boolean;
  /** The username (UTF-8), Kerberos ticket, SAML assertion or JSON web token. */
  primary: Buffer;
  /** The passcode of type 2 (UTF-8); empty otherwise. */
  secondary: Buffer;
}

export interface RoleSelection {
  sopClassUid: string;
  /** The requestor may act as SCU (proposed), or the acceptor agrees that it does (answer). */
  scu: boolean;
  scp: boolean;
}

interface AssociateCommon {
  calledAe: string;
  callingAe: string;
  applicationContext: string;
  protocolVersion: number;
  user: UserInformation;
}

export interface AssociateRq extends AssociateCommon {
  contexts: PresentationContextRq[];
}

export interface AssociateAc extends AssociateCommon {
  contexts: PresentationContextAc[];
}

/** PS3.8 9.3.2: fixed part of A-ASSOCIATE-RQ/AC after the PDU header. */
const FIXED_LENGTH = 68;
/** AE titles are 16 bytes, space padded (PS3.8 Table 9-11). */
const AE_LENGTH = 16;

export function encodeAssociateRq(rq: AssociateRq): Buffer {
  const items = [appContextItem(rq.applicationContext), ...rq.contexts.map(encodePcRq), userInfoItem(rq.user)];
  return encodeAssociate(PduType.AssociateRq, rq, items);
}

export function encodeAssociateAc(ac: AssociateAc): Buffer {
  const items = [appContextItem(ac.applicationContext), ...ac.contexts.map(encodePcAc), userInfoItem(ac.user)];
  return encodeAssociate(PduType.AssociateAc, ac, items);
}

function encodeAssociate(type: number, a: AssociateCommon, items: Buffer[]): Buffer {
  const fixed = Buffer.alloc(FIXED_LENGTH);
  fixed.writeUInt16BE(a.protocolVersion || PROTOCOL_VERSION, 0);
  fixed.write(aeField(a.calledAe), 4, 'latin1');
  fixed.write(aeField(a.callingAe), 20, 'latin1');
  const body = Buffer.concat([fixed, ...items]);
  const header = Buffer.alloc(PDU_HEADER_LENGTH);
  header[0] = type;
  header.writeUInt32BE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** Decodes the PDU's variable field (everything after the 6-byte header). */
export function decodeAssociateRq(body: Buffer): AssociateRq {
  const { common, items } = decodeAssociate(body);
  const contexts: PresentationContextRq[] = [];
  for (const item of items) {
    if (item.type !== ItemType.PresentationContextRq) continue;
    if (item.value.length < 4) throw malformed('presentation context item shorter than 4 bytes');
    const pc: PresentationContextRq = { id: item.value[0]!, abstractSyntax: '', transferSyntaxes: [] };
    for (const sub of readItems(item.value.subarray(4), 2)) {
      if (sub.type === ItemType.AbstractSyntax) pc.abstractSyntax = uidString(sub.value);
      else if (sub.type === ItemType.TransferSyntax) pc.transferSyntaxes.push(uidString(sub.value));
    }
    contexts.push(pc);
  }
  return { ...common, contexts };
}

export function decodeAssociateAc(body: Buffer): AssociateAc {
  const { common, items } = decodeAssociate(body);
  const contexts: PresentationContextAc[] = [];
  for (const item of items) {
    if (item.type !== ItemType.PresentationContextAc) continue;
    if (item.value.length < 4) throw malformed('presentation context item shorter than 4 bytes');
    let transferSyntax = '';
    for (const sub of readItems(item.value.subarray(4), 2)) {
      if (sub.type === ItemType.TransferSyntax) transferSyntax = uidString(sub.value);
    }
    contexts.push({ id: item.value[0]!, result: item.value[2]!, transferSyntax });
  }
  return { ...common, contexts };
}

function decodeAssociate(body: Buffer): { common: AssociateCommon; items: Item[] } {
  if (body.length < FIXED_LENGTH) throw malformed('A-ASSOCIATE PDU shorter than its fixed part');
  const common: AssociateCommon = {
    protocolVersion: body.readUInt16BE(0),
    calledAe: body.toString('latin1', 4, 4 + AE_LENGTH).trim(),
    callingAe: body.toString('latin1', 20, 20 + AE_LENGTH).trim(),
    applicationContext: '',
    user: { maxPduLength: 0 },
  };
  const items = readItems(body.subarray(FIXED_LENGTH), 2);
  for (const item of items) {
    if (item.type === ItemType.ApplicationContext) common.applicationContext = uidString(item.value);
    else if (item.type === ItemType.UserInformation) common.user = decodeUserInfo(item.value);
  }
  return { common, items };
}

function decodeUserInfo(value: Buffer): UserInformation {
  const user: UserInformation = { maxPduLength: 0 };
  for (const sub of readItems(value, 2)) {
    if (sub.type === ItemType.MaximumLength) {
      if (sub.value.length !== 4) throw malformed('maximum length sub-item is not 4 bytes');
      user.maxPduLength = sub.value.readUInt32BE(0);
    } else if (sub.type === ItemType.ImplementationClassUid) user.implementationClassUid = uidString(sub.value);
    else if (sub.type === ItemType.ImplementationVersionName) user.implementationVersionName = sub.value.toString('latin1').trim();
    else if (sub.type === ItemType.RoleSelection) (user.roles ??= []).push(decodeRole(sub.value));
    else if (sub.type === ItemType.UserIdentityRq) user.userIdentity = decodeUserIdentity(sub.value);
    else if (sub.type === ItemType.UserIdentityAc) user.userIdentityResponse = decodeUserIdentityResponse(sub.value);
  }
  return user;
}

/** PS3.7 Table D.3-14: type (1), positive-response-requested (1), primary length (2), primary, secondary length (2), secondary. */
function decodeUserIdentity(value: Buffer): UserIdentity {
  if (value.length < 6) throw malformed('user identity sub-item shorter than 6 bytes');
  const primaryLength = value.readUInt16BE(2);
  if (value.length < 4 + primaryLength + 2) throw malformed('user identity sub-item shorter than its primary field');
  const secondaryLength = value.readUInt16BE(4 + primaryLength);
  const secondaryStart = 6 + primaryLength;
  if (value.length < secondaryStart + secondaryLength) throw malformed('user identity sub-item shorter than its secondary field');
  return {
    type: value[0]!,
    positiveResponseRequested: value[1] === 1,
    primary: value.subarray(4, 4 + primaryLength),
    secondary: value.subarray(secondaryStart, secondaryStart + secondaryLength),
  };
}

function encodeUserIdentity(id: UserIdentity): Buffer {
  const head = Buffer.from([id.type, id.positiveResponseRequested ? 1 : 0, 0, 0]);
  head.writeUInt16BE(id.primary.length, 2);
  const secondaryLength = Buffer.alloc(2);
  secondaryLength.writeUInt16BE(id.secondary.length, 0);
  return item(ItemType.UserIdentityRq, Buffer.concat([head, id.primary, secondaryLength, id.secondary]));
}

/** PS3.7 Table D.3-15: server response length (2), server response. */
function decodeUserIdentityResponse(value: Buffer): Buffer {
  if (value.length < 2 || value.length < 2 + value.readUInt16BE(0)) throw malformed('user identity answer shorter than its server response');
  return value.subarray(2, 2 + value.readUInt16BE(0));
}

function encodeUserIdentityResponse(response: Buffer): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(response.length, 0);
  return item(ItemType.UserIdentityAc, Buffer.concat([head, response]));
}

/** PS3.7 Table D.3-9: UID-length (2), SOP-class-uid, SCU-role (1), SCP-role (1). */
function decodeRole(value: Buffer): RoleSelection {
  if (value.length < 4) throw malformed('role selection sub-item shorter than 4 bytes');
  const uidLength = value.readUInt16BE(0);
  if (value.length < 2 + uidLength + 2) throw malformed('role selection sub-item shorter than its UID');
  return { sopClassUid: uidString(value.subarray(2, 2 + uidLength)), scu: value[2 + uidLength] === 1, scp: value[3 + uidLength] === 1 };
}

function encodeRole(role: RoleSelection): Buffer {
  const uid = Buffer.from(role.sopClassUid, 'latin1');
  const head = Buffer.alloc(2);
  head.writeUInt16BE(uid.length, 0);
  return item(ItemType.RoleSelection, Buffer.concat([head, uid, Buffer.from([role.scu ? 1 : 0, role.scp ? 1 : 0])]));
}

interface Item {
  type: number;
  value: Buffer;
}

/** Items: type (1), reserved (1), length (2, big endian), value (PS3.8 9.3.2.1). */
function readItems(buf: Buffer, lengthBytes: 2): Item[] {
  const items: Item[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 2 + lengthBytes > buf.length) throw malformed('item header truncated');
    const type = buf[pos]!;
    const length = buf.readUInt16BE(pos + 2);
    const start = pos + 2 + lengthBytes;
    if (start + length > buf.length) throw malformed(`item ${type.toString(16)}h longer than its PDU`);
    items.push({ type, value: buf.subarray(start, start + length) });
    pos = start + length;
  }
  return items;
}

function item(type: number, value: Buffer): Buffer {
  if (value.length > 0xffff) throw new MedgeError('MEDGE_ERR_DIMSE_PDU', 'association item too long', { type });
  const header = Buffer.alloc(4);
  header[0] = type;
  header.writeUInt16BE(value.length, 2);
  return Buffer.concat([header, value]);
}

function appContextItem(uid: string): Buffer {
  return item(ItemType.ApplicationContext, Buffer.from(uid || DICOM_APPLICATION_CONTEXT, 'latin1'));
}

function encodePcRq(pc: PresentationContextRq): Buffer {
  const head = Buffer.from([pc.id, 0, 0, 0]);
  const subs = [item(ItemType.AbstractSyntax, Buffer.from(pc.abstractSyntax, 'latin1'))];
  for (const ts of pc.transferSyntaxes) subs.push(item(ItemType.TransferSyntax, Buffer.from(ts, 'latin1')));
  return item(ItemType.PresentationContextRq, Buffer.concat([head, ...subs]));
}

function encodePcAc(pc: PresentationContextAc): Buffer {
  const head = Buffer.from([pc.id, 0, pc.result, 0]);
  return item(ItemType.PresentationContextAc, Buffer.concat([head, item(ItemType.TransferSyntax, Buffer.from(pc.transferSyntax, 'latin1'))]));
}

function userInfoItem(user: UserInformation): Buffer {
  const max = Buffer.alloc(4);
  max.writeUInt32BE(user.maxPduLength >>> 0, 0);
  const subs = [item(ItemType.MaximumLength, max)];
  if (user.implementationClassUid) subs.push(item(ItemType.ImplementationClassUid, Buffer.from(user.implementationClassUid, 'latin1')));
  for (const role of user.roles ?? []) subs.push(encodeRole(role));
  if (user.implementationVersionName) subs.push(item(ItemType.ImplementationVersionName, Buffer.from(user.implementationVersionName, 'latin1')));
  if (user.userIdentity) subs.push(encodeUserIdentity(user.userIdentity));
  if (user.userIdentityResponse) subs.push(encodeUserIdentityResponse(user.userIdentityResponse));
  return item(ItemType.UserInformation, Buffer.concat(subs));
}

/** UIDs in items are not padded (PS3.8 9.3.2.2.1), but some peers pad with NUL or space anyway. */
function uidString(value: Buffer): string {
  return value.toString('latin1').replace(/[\0 ]+$/, '');
}

function aeField(ae: string): string {
  return ae.slice(0, AE_LENGTH).padEnd(AE_LENGTH, ' ');
}

/** A malformed-PDU error carrying the A-ABORT reason to send (PS3.8 Table 9-26). */
export function malformed(reason: string, abortReason: number = AbortReason.InvalidPduParameterValue): MedgeError {
  return new MedgeError('MEDGE_ERR_DIMSE_PDU', `malformed PDU: ${reason}`, { reason, abortReason });
}
