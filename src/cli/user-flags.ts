/**
 * The DICOM User Identity flags of the SCU commands (`medge echo`, `medge send`): a username, or a
 * username and passcode, presented in the A-ASSOCIATE-RQ (PS3.7 D.3.3.7) to a peer that requires
 * one. The names are dcmtk's (storescu --user, --password).
 */
import type { DicomUser } from '../config/schema.js';
import { MedgeError } from '../errors.js';

export const USER_FLAGS = {
  user: { type: 'string' },
  password: { type: 'string' },
} as const;

export const USER_HELP = `  --user NAME          present a DICOM user identity (PS3.7 D.3.3.7) to a peer
                       that requires one
  --password PASS      its passcode (only with --user; sent in clear unless --tls)`;

/** The identity the flags give; undefined without --user. */
export function userFromFlags(values: { user?: string; password?: string }): DicomUser | undefined {
  if (values.user === undefined) {
    if (values.password !== undefined) throw new MedgeError('MEDGE_ERR_CLI_USAGE', '--password goes with --user (the user identity whose passcode it is)');
    return undefined;
  }
  if (values.user === '') throw new MedgeError('MEDGE_ERR_CLI_USAGE', '--user needs a name');
  return values.password === undefined ? { username: values.user } : { username: values.user, passcode: values.password };
}

/** What to try when a peer rejected the association with no reason: the user identity is the usual suspect. */
export function userAdvice(err: unknown, user: DicomUser | undefined): string | undefined {
  const e = err as { code?: string; fields?: { source?: number; reason?: number } };
  if (e.code !== 'MEDGE_ERR_DIMSE_REJECTED' || e.fields?.source !== 1 || e.fields?.reason !== 1) return undefined;
  return user
    ? `the peer gave no reason: it may not accept user ${user.username} or its --password`
    : 'the peer gave no reason: if it requires a DICOM user identity, add --user (and --password)';
}
