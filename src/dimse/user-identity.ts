/**
 * User Identity negotiation as the association acceptor (PS3.7 D.3.3.7): a requestor may say who it
 * is with a username (type 1) or a username and passcode (type 2), and ask for a positive
 * response. The acceptor answers only "unless a positive response is requested and user
 * authentication succeeded" (D.3.3.7), so a node without `dicom.users` answers nothing and the
 * requestor decides whether to go on (dcmtk's `--pos-response` does not). Kerberos, SAML and JWT
 * identities (types 3 to 5) need an identity provider the node does not have: never authenticated.
 * As the requestor (`medge send --user`), the node presents a username and passcode.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { DicomUser } from '../config/schema.js';
import type { UserIdentity } from './pdu-associate.js';
import { UserIdentityType } from './pdu-constants.js';

/** The username of an identity that matches one of `users`, or undefined. */
export function authenticateUser(identity: UserIdentity | undefined, users: readonly DicomUser[]): string | undefined {
  if (!identity || (identity.type !== UserIdentityType.Username && identity.type !== UserIdentityType.UsernameAndPasscode)) return undefined;
  const username = identity.primary.toString('utf8');
  const user = users.find((u) => u.username === username);
  if (!user) return undefined;
  if (user.passcode === undefined) return username;
  if (identity.type !== UserIdentityType.UsernameAndPasscode) return undefined;
  // Digests of equal length, compared in constant time: the answer's timing tells nothing of the passcode.
  return timingSafeEqual(digest(identity.secondary), digest(Buffer.from(user.passcode, 'utf8'))) ? username : undefined;
}

/** The A-ASSOCIATE-AC answer: an empty server response for an authenticated username that asked for one (PS3.7 D.3.3.7.2). */
export function userIdentityResponse(identity: UserIdentity | undefined, authenticated: string | undefined): Buffer | undefined {
  return authenticated !== undefined && identity?.positiveResponseRequested ? Buffer.alloc(0) : undefined;
}

/**
 * What the node presents as the requestor: a username, or a username and passcode (types 1, 2).
 * No positive response is asked for: the peer accepting the association is answer enough.
 */
export function presentedIdentity(user: DicomUser): UserIdentity {
  return {
    type: user.passcode === undefined ? UserIdentityType.Username : UserIdentityType.UsernameAndPasscode,
    positiveResponseRequested: false,
    primary: Buffer.from(user.username, 'utf8'),
    secondary: Buffer.from(user.passcode ?? '', 'utf8'),
  };
}

function digest(b: Buffer): Buffer {
  return createHash('sha256').update(b).digest();
}
