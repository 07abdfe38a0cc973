/**
 * Association acceptance (PS3.8 9.3.4, Table 9-21) and presentation context negotiation
 * (PS3.8 9.3.3.2, Table 9-18): which AEs may associate, and for each proposed context the
 * FIRST proposed transfer syntax we support (the requestor lists its preference first).
 */
import type { MedgeConfig } from '../config/schema.js';
import { STORABLE_TRANSFER_SYNTAXES, TS } from '../dicom/uids.js';
import { isStorageSopClass } from '../dicom/sop-classes.js';
import { IDENTIFIER_SYNTAXES } from './dataset-codec.js';
import type { AssociateRq, PresentationContextAc, RoleSelection } from './pdu-associate.js';
import {
  DICOM_APPLICATION_CONTEXT,
  PATIENT_ROOT_FIND,
  PATIENT_ROOT_GET,
  PATIENT_ROOT_MOVE,
  PcResult,
  PROTOCOL_VERSION,
  RjReason,
  RjResult,
  RjSource,
  STORAGE_COMMITMENT_PUSH,
  STUDY_ROOT_FIND,
  STUDY_ROOT_GET,
  STUDY_ROOT_MOVE,
  VERIFICATION_SOP_CLASS,
} from './pdu-constants.js';
import { COMMITMENT_SYNTAXES } from '../commitment/request.js';

export interface Rejection {
  result: number;
  source: number;
  reason: number;
  /** For logs and metrics labels. */
  why: 'called-ae' | 'calling-ae' | 'user-identity' | 'app-context' | 'protocol-version' | 'limit';
}

export interface AcceptedContext {
  id: number;
  abstractSyntax: string;
  transferSyntax: string;
}

type Policy = Pick<MedgeConfig['dicom'], 'aeTitle' | 'aePolicy' | 'allowedPeers' | 'maxAssociations' | 'requireUserIdentity'>;

/**
 * Decides whether an association may proceed. `active` counts associations already being served
 * (this one excluded); `user` is the username its User Identity authenticated (user-identity.ts).
 * Returns undefined to accept.
 */
export function checkAssociation(rq: AssociateRq, policy: Policy, remoteAddress: string, active: number, user?: string): Rejection | undefined {
  if ((rq.protocolVersion & PROTOCOL_VERSION) === 0) {
    return { result: RjResult.Permanent, source: RjSource.ServiceProviderAcse, reason: RjReason.ProtocolVersionNotSupported, why: 'protocol-version' };
  }
  if (rq.applicationContext !== DICOM_APPLICATION_CONTEXT) {
    return { result: RjResult.Permanent, source: RjSource.ServiceUser, reason: RjReason.ApplicationContextNotSupported, why: 'app-context' };
  }
  if (rq.calledAe.trim() !== policy.aeTitle.trim()) {
    return { result: RjResult.Permanent, source: RjSource.ServiceUser, reason: RjReason.CalledAeNotRecognized, why: 'called-ae' };
  }
  if (policy.aePolicy === 'allow-list' && !isAllowedPeer(policy.allowedPeers, rq.callingAe.trim(), remoteAddress)) {
    return { result: RjResult.Permanent, source: RjSource.ServiceUser, reason: RjReason.CallingAeNotRecognized, why: 'calling-ae' };
  }
  if (policy.requireUserIdentity && user === undefined) {
    // PS3.7 D.3.3.7 names no reason for a user it does not accept; PS3.8 Table 9-21 has none closer.
    return { result: RjResult.Permanent, source: RjSource.ServiceUser, reason: RjReason.NoReason, why: 'user-identity' };
  }
  if (policy.maxAssociations > 0 && active >= policy.maxAssociations) {
    // PS3.8 Table 9-21: source 3 (presentation related), reason 2 local-limit-exceeded, transient.
    return { result: RjResult.Transient, source: RjSource.ServiceProviderPresentation, reason: RjReason.LocalLimitExceeded, why: 'limit' };
  }
  return undefined;
}

/**
 * Host entries are compared literally with the peer's IP address (no DNS look-up on the accept
 * path); "localhost" matches the loopback addresses.
 */
export function isAllowedPeer(peers: MedgeConfig['dicom']['allowedPeers'], callingAe: string, remoteAddress: string): boolean {
  const addr = normalizeAddress(remoteAddress);
  return peers.some((p) => {
    if (p.aeTitle.trim() !== callingAe) return false;
    if (!p.hosts || p.hosts.length === 0) return true;
    return p.hosts.some((h) => normalizeAddress(h) === addr || (h === 'localhost' && (addr === '127.0.0.1' || addr === '::1')));
  });
}

/** An IPv4 peer seen through an IPv6 socket (::ffff:10.0.0.7) as its IPv4 address. */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Uncompressed syntaxes we can read and write for Verification and Query (PS3.5 A.1, A.2). */
const UNCOMPRESSED = new Set<string>([TS.ImplicitVRLittleEndian, TS.ExplicitVRLittleEndian, TS.ExplicitVRBigEndian]);

/** The transfer syntaxes we accept for an abstract syntax, or undefined when we do not serve it. */
export function acceptableSyntaxes(abstractSyntax: string): ReadonlySet<string> | undefined {
  if (abstractSyntax === VERIFICATION_SOP_CLASS) return UNCOMPRESSED;
  if (abstractSyntax === STUDY_ROOT_FIND || abstractSyntax === PATIENT_ROOT_FIND) return IDENTIFIER_SYNTAXES;
  if (abstractSyntax === STUDY_ROOT_MOVE || abstractSyntax === PATIENT_ROOT_MOVE) return IDENTIFIER_SYNTAXES;
  if (abstractSyntax === STUDY_ROOT_GET || abstractSyntax === PATIENT_ROOT_GET) return IDENTIFIER_SYNTAXES;
  if (abstractSyntax === STORAGE_COMMITMENT_PUSH) return COMMITMENT_SYNTAXES;
  if (isStorageSopClass(abstractSyntax)) return STORABLE_TRANSFER_SYNTAXES;
  return undefined;
}

/** Answers every proposed context (PS3.8 9.3.3.2) and returns the accepted ones by id. */
export function negotiateContexts(rq: AssociateRq): { answers: PresentationContextAc[]; accepted: Map<number, AcceptedContext> } {
  const answers: PresentationContextAc[] = [];
  const accepted = new Map<number, AcceptedContext>();
  for (const pc of rq.contexts) {
    const supported = acceptableSyntaxes(pc.abstractSyntax);
    if (!supported) {
      answers.push({ id: pc.id, result: PcResult.AbstractSyntaxNotSupported, transferSyntax: TS.ImplicitVRLittleEndian });
      continue;
    }
    const ts = pc.transferSyntaxes.find((t) => supported.has(t));
    if (!ts) {
      answers.push({ id: pc.id, result: PcResult.TransferSyntaxesNotSupported, transferSyntax: TS.ImplicitVRLittleEndian });
      continue;
    }
    answers.push({ id: pc.id, result: PcResult.Acceptance, transferSyntax: ts });
    accepted.set(pc.id, { id: pc.id, abstractSyntax: pc.abstractSyntax, transferSyntax: ts });
  }
  return { answers, accepted };
}

/**
 * The answers to the requestor's SCP/SCU role selection items (PS3.7 D.3.3.4) for the SOP classes
 * of accepted contexts: the SCU role as proposed; the SCP role for storage SOP classes, where the
 * requestor then receives C-STOREs from the node on this association (a C-GET, PS3.4 C.4.3).
 */
export function negotiateRoles(proposed: readonly RoleSelection[] | undefined, accepted: ReadonlyMap<number, AcceptedContext>): RoleSelection[] {
  const classes = new Set([...accepted.values()].map((c) => c.abstractSyntax));
  return (proposed ?? [])
    .filter((r) => classes.has(r.sopClassUid))
    .map((r) => ({ sopClassUid: r.sopClassUid, scu: r.scu, scp: r.scp && isStorageSopClass(r.sopClassUid) }));
}

/** An accepted context for the SOP class, in `transferSyntax` when given (any syntax otherwise). */
export function findAcceptedContext(contexts: Iterable<AcceptedContext>, abstractSyntax: string, transferSyntax?: string): AcceptedContext | undefined {
  let any: AcceptedContext | undefined;
  for (const c of contexts) {
    if (c.abstractSyntax !== abstractSyntax) continue;
    if (transferSyntax === undefined || c.transferSyntax === transferSyntax) return c;
    any ??= c;
  }
  return transferSyntax === undefined ? any : undefined;
}
