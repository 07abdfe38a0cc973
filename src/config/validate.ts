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
  'pipeline.quietMs': integer(100, 3_600_000),
  'pipeline.geometrySettleMs': integer(0, 3_600_000),
  'pipeline.workers': integer(1, 64),
  'pipeline.emergencyAeTitles': (v) => (Array.isArray(v) && v.every((a) => aeTitle(a, '') === undefined) ? undefined : 'must be a list of AE titles'),
  'pipeline.priorityPatterns': (v) => {
    if (!Array.isArray(v) || !v.every((p) => typeof p === 'string')) return 'must be a list of regular expressions';
    for (const p of v) {
      try {
        new RegExp(p as string, 'i');
      } catch (err) {
        return `${JSON.stringify(p)} is not a valid regular expression (${(err as Error).message})`;
      }
    }
    return undefined;
  },
  'alerts.rules': (v) => {
    if (!Array.isArray(v)) return 'must be a list of { finding, minVolumeMl?, severity }';
    for (const [i, r] of v.entries()) {
      const rule = r as Record<string, unknown>;
      if (typeof rule !== 'object' || rule === null || typeof rule.finding !== 'string') return `entry ${i} must have a finding type`;
      if (rule.minVolumeMl !== undefined && !(typeof rule.minVolumeMl === 'number' && rule.minVolumeMl >= 0)) return `entry ${i}: minVolumeMl must be a number >= 0`;
      const sev = oneOf('critical', 'urgent', 'routine')(rule.severity, '');
      if (sev) return `entry ${i}: severity ${sev}`;
    }
    return undefined;
  },
  'alerts.escalateAfterMs': integer(0, 86_400_000),
  'alerts.retryInitialMs': integer(10, 3_600_000),
  'alerts.retryMaxMs': integer(10, 86_400_000),
  'alerts.channels': checkChannels,
};

/** alerts.channels: each entry by its type (see AlertChannelConfig in schema.ts). */
function checkChannels(v: unknown): string | undefined {
  if (!Array.isArray(v)) return 'must be a list of channels ({ id, type: webhook | hl7 | fhir, tier, ... })';
  const ids = new Set<string>(['dashboard']);
  for (const [i, c] of v.entries()) {
    const ch = c as Record<string, unknown>;
    if (typeof ch !== 'object' || ch === null) return `entry ${i} must be an object`;
    if (typeof ch.id !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(ch.id)) return `entry ${i}: id must be lower-case letters, digits and dashes`;
    if (ids.has(ch.id)) return `entry ${i}: id '${ch.id}' is used twice (or is the reserved 'dashboard')`;
    ids.add(ch.id);
    if (integer(0, 9)(ch.tier, '')) return `channel ${ch.id}: tier must be a whole number from 0 to 9`;
    if (ch.timeoutMs !== undefined && integer(100, 600_000)(ch.timeoutMs, '')) return `channel ${ch.id}: timeoutMs must be a whole number from 100 to 600000`;
    if (ch.type === 'webhook') {
      if (!isHttpUrl(ch.url)) return `channel ${ch.id}: url must be an http or https URL`;
      if (typeof ch.secret !== 'string' || ch.secret.length < 16) return `channel ${ch.id}: secret must be at least 16 characters (the HMAC-SHA256 key)`;
    } else if (ch.type === 'hl7') {
      if (text(ch.host)) return `channel ${ch.id}: host must be a host name or address`;
      if (integer(1, 65535)(ch.port, '')) return `channel ${ch.id}: port must be a whole number from 1 to 65535`;
    } else if (ch.type === 'fhir') {
      if (!isHttpUrl(ch.baseUrl)) return `channel ${ch.id}: baseUrl must be an http or https URL`;
    } else return `channel ${ch.id}: type must be one of webhook, hl7, fhir`;
  }
  return undefined;
}

function isHttpUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}

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
