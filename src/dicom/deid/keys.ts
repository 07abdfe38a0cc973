import { createHmac, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { MedgeError } from '../../errors.js';

/**
 * Keyed, deterministic replacements: the same original gives the same replacement on every
 * instance, across restarts and on every node that holds the same secret, and nobody without the
 * secret can compute one from a guessed original (HMAC-SHA256, RFC 2104). The secret never leaves
 * the node; the mapping table (deid-map.ts) is what turns a replacement back into the original.
 */

/** Shortest secret accepted: 128 bits. */
export const MIN_SECRET_BYTES = 16;

function hmac(secret: Uint8Array, domain: string, value: string): Buffer {
  // The domain keeps a UID, a patient and a date shift of the same text apart.
  return createHmac('sha256', secret).update(`${domain}\0${value}`, 'latin1').digest();
}

/**
 * The replacement of a UID: 2.25 followed by a 128-bit integer (PS3.5 B.2) that is a version 8
 * UUID (RFC 9562 5.8: custom, here the first 16 bytes of HMAC-SHA256(secret, UID)).
 * At most 44 characters, so always a valid UI (64).
 */
export function deriveUid(secret: Uint8Array, uid: string): string {
  const b = hmac(secret, 'uid', uid).subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${b.toString('hex')}`).toString()}`;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The pseudonym of a patient (ANON- and 12 base-32 characters, 60 bits), used as both Patient ID
 * and Patient's Name, so that the destination can group one patient's studies without knowing who
 * the patient is. `patientKey` is what identifies the patient at the node (see patientKey()).
 */
export function patientPseudonym(secret: Uint8Array, key: string): string {
  const b = hmac(secret, 'patient', key);
  let bits = 0n;
  for (let i = 0; i < 8; i++) bits = (bits << 8n) | BigInt(b[i]!);
  let out = '';
  for (let i = 0; i < 12; i++) out += BASE32[Number((bits >> BigInt(64 - 5 * (i + 1))) & 31n)];
  return `ANON-${out}`;
}

/**
 * Issuer and ID when the dataset has an ID (the HL7 CX form "ID^^^ISSUER", which is also what the
 * mapping table keeps as the original); otherwise name and birth date, otherwise the study.
 */
export function patientKey(id: string, issuer: string, name: string, birthDate: string, studyUid: string): string {
  if (id) return issuer ? `${id}^^^${issuer}` : id;
  if (name || birthDate) return `name:${name}|${birthDate}`;
  return `study:${studyUid}`;
}

/**
 * Days by which the Modified Dates option moves one patient's dates back: 1 to 3650, the same for
 * every study of the patient, so intervals between studies are kept (PS3.15 E.3.6).
 */
export function dateShiftDays(secret: Uint8Array, key: string): number {
  return -(1 + (hmac(secret, 'date-shift', key).readUInt32BE(0) % 3650));
}

/** Checks a secret's length; the error names no value. */
export function checkSecret(secret: Uint8Array): Uint8Array {
  if (secret.length < MIN_SECRET_BYTES) {
    throw new MedgeError('MEDGE_ERR_DEID_SECRET', `the de-identification secret has ${secret.length} bytes; at least ${MIN_SECRET_BYTES} are needed`, { bytes: secret.length });
  }
  return secret;
}

/**
 * Reads the node's secret from `file`, creating it (32 random bytes, mode 0600) when it does not
 * exist. Losing the file changes every replacement UID and pseudonym from then on (studies sent
 * before and after no longer match); the mapping table still re-identifies both.
 */
export async function loadOrCreateSecret(file: string): Promise<Uint8Array> {
  try {
    return checkSecret(await readFile(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(32);
  try {
    await writeFile(file, secret, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return checkSecret(await readFile(file));
    throw err;
  }
  return secret;
}

/** Reads a secret that must exist (the CLI's --secret-file). */
export async function readSecret(file: string): Promise<Uint8Array> {
  let secret: Buffer;
  try {
    secret = await readFile(file);
  } catch (err) {
    throw new MedgeError('MEDGE_ERR_DEID_SECRET', `the de-identification secret ${file} cannot be read: ${(err as Error).message}`, { file }, err);
  }
  return checkSecret(secret);
}
