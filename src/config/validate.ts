import { MedgeError } from '../errors.js';
import { DEFAULT_CONFIG, type MedgeConfig } from './schema.js';

type Check = (value: unknown, key: string) => string | undefined;

const integer = (min: number, max: number): Check => (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? undefined : `must be a whole number from ${min} to ${max}`;
const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string');
const oneOf = (...values: string[]): Check => (v) =>
  typeof v === 'string' && values.includes(v) ? undefined : `must be one of ${values.join(', ')}`;
/** PS3.5 6.2: AE is 1 to 16 characters of the default repertoire, no backslash or control chars. */
const aeTitle: Check = (v) =>
  typeof v === 'string' && /^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(v) && v.trim().length > 0
    ? undefined
    : 'must be an AE title of 1 to 16 printable ASCII characters without backslash';

const CHECKS: Record<string, Check> = {
  dataDir: text,
  'dicom.port': integer(0, 65535),
  'dicom.host': text,
  'dicom.aeTitle': aeTitle,
  'dicom.maxPduLength': (v) => (v === 0 ? undefined : integer(4096, 0xffffffff)(v, '')),
  'dicom.aePolicy': oneOf('open', 'allow-list'),
  'dicom.allowedPeers': (v) => {
    if (!Array.isArray(v)) return 'must be a list of { aeTitle, hosts? }';
    for (const [i, peer] of v.entries()) {
      if (typeof peer !== 'object' || peer === null) return `entry ${i} must be an object with aeTitle`;
      const problem = aeTitle((peer as Record<string, unknown>).aeTitle, '');
      if (problem) return `entry ${i}: aeTitle ${problem}`;
      const hosts = (peer as Record<string, unknown>).hosts;
      if (hosts !== undefined && !(Array.isArray(hosts) && hosts.every((h) => typeof h === 'string'))) {
        return `entry ${i}: hosts must be a list of host names or addresses`;
      }
    }
    return undefined;
  },
  'dicom.artimTimeoutMs': integer(100, 3_600_000),
  'dicom.idleTimeoutMs': integer(100, 86_400_000),
  'dicom.maxAssociations': integer(1, 10_000),
  'http.port': integer(0, 65535),
  'http.host': text,
  'store.minFreeBytes': integer(0, Number.MAX_SAFE_INTEGER),
  'log.level': oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
};

/** Checks every key, collecting all problems into one MEDGE_ERR_CONFIG_INVALID that names them. */
export function validateConfig(candidate: unknown): MedgeConfig {
  const problems: string[] = [];
  const root = candidate as Record<string, unknown>;
  for (const [key, check] of Object.entries(CHECKS)) {
    const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], root);
    const problem = check(value, key);
    if (problem) problems.push(`${key} ${problem} (got ${JSON.stringify(value)})`);
  }
  for (const [section, value] of Object.entries(root)) {
    if (!(section in DEFAULT_CONFIG)) problems.push(`${section} is not a known configuration key`);
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const known = (DEFAULT_CONFIG as unknown as Record<string, Record<string, unknown>>)[section]!;
      for (const key of Object.keys(value)) if (!(key in known)) problems.push(`${section}.${key} is not a known configuration key`);
    }
  }
  if (problems.length > 0) {
    throw new MedgeError('MEDGE_ERR_CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`, { problems });
  }
  return candidate as MedgeConfig;
}
