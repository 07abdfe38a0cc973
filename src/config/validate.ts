import { MedgeError } from '../errors.js';
import { DEFAULT_CONFIG, type MedgeConfig } from './schema.js';

type Check = (value: unknown, key: string, root?: Record<string, unknown>) => string | undefined;

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
  'dicom.users': (v) => {
    if (!Array.isArray(v)) return 'must be a list of { username, passcode? }';
    for (const [i, user] of v.entries()) {
      const problem = checkUser(user, `entry ${i}`);
      if (problem) return problem;
      const twice = listedTwice(v, i, 'username');
      if (twice) return twice;
    }
    return undefined;
  },
  'dicom.requireUserIdentity': (v, _key, root) => {
    if (typeof v !== 'boolean') return 'must be true or false';
    const users = (root?.dicom as Record<string, unknown> | undefined)?.users;
    return v && Array.isArray(users) && users.length === 0 ? 'needs at least one entry in dicom.users' : undefined;
  },
  'dicom.artimTimeoutMs': integer(100, 3_600_000),
  'dicom.idleTimeoutMs': integer(100, 86_400_000),
  'dicom.maxAssociations': integer(1, 10_000),
  'dicom.remoteAes': (v) => {
    if (!Array.isArray(v)) return 'must be a list of { aeTitle, port, host?, tls? }';
    for (const [i, peer] of v.entries()) {
      const p = peer as Record<string, unknown>;
      if (typeof p !== 'object' || p === null) return `entry ${i} must be an object with aeTitle and port`;
      const ae = aeTitle(p.aeTitle, '');
      if (ae) return `entry ${i}: aeTitle ${ae}`;
      if (integer(1, 65535)(p.port, '')) return `entry ${i}: port must be a whole number from 1 to 65535 (where ${String(p.aeTitle)} listens)`;
      if (p.host !== undefined && text(p.host)) return `entry ${i}: host must be a host name or address`;
      const unknown = Object.keys(p).find((k) => !['aeTitle', 'port', 'host', 'tls', 'user'].includes(k));
      if (unknown) return `entry ${i}: ${unknown} is not a known key (aeTitle, port, host, tls, user)`;
      if (p.user !== undefined) {
        const user = checkUser(p.user, `entry ${i}: user`);
        if (user) return user;
      }
      if (p.tls !== undefined) {
        const tls = p.tls as Record<string, unknown>;
        if (typeof tls !== 'object' || tls === null || Object.keys(tls).some((k) => !TLS_FILES.includes(k))) return `entry ${i}: tls must be { caFile?, certFile?, keyFile? } (PEM paths)`;
        const files = tlsFiles(tls, `entry ${i}`, 'tls.');
        if (files) return files;
      }
      const twice = listedTwice(v, i, 'aeTitle', 'AE title');
      if (twice) return twice;
    }
    return undefined;
  },
  'dicom.tls': checkDicomTls,
  'http.port': integer(0, 65535),
  'http.host': text,
  'http.users': (v) => {
    if (!Array.isArray(v)) return 'must be a list of { username, password }';
    for (const [i, user] of v.entries()) {
      const u = user as Record<string, unknown>;
      if (typeof u !== 'object' || u === null || text(u.username) || text(u.password)) return `entry ${i} must be { username, password }, both non-empty`;
      if (String(u.username).includes(':')) return `entry ${i}: a username cannot contain ':' (RFC 7617)`;
      const unknown = Object.keys(u).find((k) => k !== 'username' && k !== 'password');
      if (unknown) return `entry ${i}: ${unknown} is not a known key (username, password)`;
      const twice = listedTwice(v, i, 'username');
      if (twice) return twice;
    }
    return undefined;
  },
  'http.tls': (v) => {
    if (v === null) return undefined;
    const t = v as Record<string, unknown>;
    if (typeof t !== 'object' || text(t.certFile) || text(t.keyFile)) return 'must be null or { certFile, keyFile } (PEM paths)';
    const unknown = Object.keys(t).find((k) => k !== 'certFile' && k !== 'keyFile');
    return unknown ? `${unknown} is not a known key (certFile, keyFile)` : undefined;
  },
  'store.minFreeBytes': integer(0, Number.MAX_SAFE_INTEGER),
  'store.warnHoursToFloor': integer(0, 8760),
  'store.checkAllAtStart': (v) => (typeof v === 'boolean' ? undefined : 'must be true or false'),
  'store.retentionDays': integer(0, 36_500),
  'store.reclaimBelowFreeBytes': (v, _key, root) => {
    const range = integer(0, Number.MAX_SAFE_INTEGER)(v, '');
    if (range) return range;
    const floor = (root?.store as Record<string, unknown> | undefined)?.minFreeBytes;
    return v !== 0 && typeof floor === 'number' && (v as number) <= floor
      ? `must be 0 (off) or above store.minFreeBytes (${floor}): studies are removed before new ones are refused, not after`
      : undefined;
  },
  'store.retentionMinHours': integer(0, 876_000),
  'log.level': oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  'pipeline.quietMs': integer(100, 3_600_000),
  'pipeline.geometrySettleMs': integer(0, 3_600_000),
  'pipeline.requestGraceMs': integer(0, 60_000),
  'pipeline.workers': integer(1, 64),
  'pipeline.workerPriority': oneOf('idle', 'low', 'normal'),
  'pipeline.analyseRecoveredWithinHours': integer(0, 876_000),
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
  'uplink.destinations': checkUplinkDestinations,
  'uplink.retryInitialMs': integer(10, 3_600_000),
  'uplink.retryMaxMs': integer(10, 86_400_000),
  'uplink.breakerFailures': integer(1, 1000),
  'uplink.breakerCoolDownMs': integer(100, 86_400_000),
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

/** uplink.destinations: each entry by its type (see UplinkDestinationConfig in schema.ts). Messages never echo a secret. */
/** The PEM file keys of a destination's TLS: its CA, and the node's certificate and key. */
const TLS_FILES = ['caFile', 'certFile', 'keyFile'];

/** A problem with the TLS file keys of `o`, named `${key}caFile` and so on, or undefined. */
function tlsFiles(o: Record<string, unknown>, at: string, key = ''): string | undefined {
  for (const k of TLS_FILES) if (o[k] !== undefined && text(o[k])) return `${at}: ${key}${k} must be the path of a PEM file`;
  if ((o.certFile === undefined) !== (o.keyFile === undefined)) return `${at}: ${key}certFile and ${key}keyFile go together (the node's certificate and its private key)`;
  return undefined;
}

/** dicom.tls: null, or the TLS listener (DicomTlsListenerConfig in schema.ts). */
function checkDicomTls(v: unknown, _key: string, root?: Record<string, unknown>): string | undefined {
  if (v === null) return undefined;
  const shape = '{ port, certFile, keyFile, caFile? } (PEM paths) or null';
  if (typeof v !== 'object' || Array.isArray(v)) return `must be ${shape}`;
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => k !== 'port' && !TLS_FILES.includes(k));
  if (unknown) return `has no key ${unknown}; it is ${shape}`;
  const port = integer(0, 65535)(o.port, '');
  if (port) return `port ${port}`;
  const plainPort = (root?.dicom as Record<string, unknown> | undefined)?.port;
  if (o.port !== 0 && o.port === plainPort) return `port must differ from dicom.port (${o.port}): the TLS listener is a second port`;
  if (o.certFile === undefined || o.keyFile === undefined) return 'needs certFile and keyFile (the node\'s certificate and its private key, PEM)';
  return TLS_FILES.filter((k) => o[k] !== undefined && text(o[k])).map((k) => `${k} must be the path of a PEM file`)[0];
}

function checkUplinkDestinations(v: unknown): string | undefined {
  if (!Array.isArray(v)) return 'must be a list of destinations ({ id, type: stow-rs | dimse, policy, ... })';
  const ids = new Set<string>();
  for (const [i, d] of v.entries()) {
    const dest = d as Record<string, unknown>;
    if (typeof dest !== 'object' || dest === null) return `entry ${i} must be an object`;
    if (typeof dest.id !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(dest.id)) return `entry ${i}: id must be lower-case letters, digits and dashes`;
    if (ids.has(dest.id)) return `entry ${i}: id '${dest.id}' is used twice`;
    ids.add(dest.id);
    const at = `destination ${dest.id}`;
    if (dest.type === 'stow-rs') {
      if (!isHttpUrl(dest.baseUrl)) return `${at}: baseUrl must be an http or https URL`;
      const auth = dest.auth as Record<string, unknown> | undefined;
      if (auth !== undefined) {
        const basic = auth?.basic as Record<string, unknown> | undefined;
        const okBasic = typeof basic === 'object' && basic !== null && typeof basic.user === 'string' && typeof basic.password === 'string';
        const okBearer = typeof auth?.bearer === 'string' && auth.bearer.length > 0;
        if (!(okBasic || okBearer)) return `${at}: auth must be { basic: { user, password } } or { bearer: TOKEN }`;
      }
      const files = tlsFiles(dest, at);
      if (files) return files;
    } else if (dest.type === 'dimse') {
      if (aeTitle(dest.aeTitle, '')) return `${at}: aeTitle ${aeTitle(dest.aeTitle, '')}`;
      if (text(dest.host)) return `${at}: host must be a host name or address`;
      if (integer(1, 65535)(dest.port, '')) return `${at}: port must be a whole number from 1 to 65535`;
      if (dest.callingAeTitle !== undefined && aeTitle(dest.callingAeTitle, '')) return `${at}: callingAeTitle ${aeTitle(dest.callingAeTitle, '')}`;
      if (dest.user !== undefined) {
        const user = checkUser(dest.user, `${at}: user`);
        if (user) return user;
      }
      const tls = dest.tls as Record<string, unknown> | undefined;
      if (tls !== undefined) {
        const shape = '{ caFile?, certFile?, keyFile? } (PEM paths)';
        if (typeof tls !== 'object' || tls === null) return `${at}: tls must be ${shape}`;
        const unknown = Object.keys(tls).find((k) => !TLS_FILES.includes(k));
        if (unknown) return `${at}: tls.${unknown} is not a known key; tls is ${shape}`;
        const files = tlsFiles(tls, at, 'tls.');
        if (files) return files;
      }
    } else return `${at}: type must be one of stow-rs, dimse`;
    if (dest.timeoutMs !== undefined && integer(100, 600_000)(dest.timeoutMs, '')) return `${at}: timeoutMs must be a whole number from 100 to 600000`;
    if (dest.compressResults !== undefined && typeof dest.compressResults !== 'boolean') return `${at}: compressResults must be true or false`;
    if (dest.concurrency !== undefined && integer(1, 16)(dest.concurrency, '')) return `${at}: concurrency must be a whole number from 1 to 16`;
    const problem = checkUplinkPolicy(dest.policy);
    if (problem) return `${at}: policy.${problem}`;
    const policy = dest.policy as Record<string, unknown>;
    if (policy.what === 'results+alerts' && !isHttpUrl(dest.alertUrl)) return `${at}: alertUrl must be an http or https URL (policy.what results+alerts sends alerts there)`;
    if (dest.alertUrl !== undefined && !isHttpUrl(dest.alertUrl)) return `${at}: alertUrl must be an http or https URL`;
  }
  return undefined;
}

function checkUplinkPolicy(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return 'what, when and privacy are required';
  const p = v as Record<string, unknown>;
  const what = oneOf('results', 'results+alerts', 'full-study')(p.what, '');
  if (what) return `what ${what}`;
  const when = oneOf('immediate', 'window', 'capped')(p.when, '');
  if (when) return `when ${when}`;
  if (p.window !== undefined || p.when === 'window') {
    if (typeof p.window !== 'string' || !/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/.test(p.window)) return "window must be 'HH:MM-HH:MM' in the node's local time";
  }
  if (p.maxBytesPerSecond !== undefined || p.when === 'capped') {
    if (integer(1000, 1e12)(p.maxBytesPerSecond, '')) return 'maxBytesPerSecond must be a whole number of bytes per second, at least 1000';
  }
  if (p.criticalOutsideWindow !== undefined && typeof p.criticalOutsideWindow !== 'boolean') return 'criticalOutsideWindow must be true or false';
  const privacy = oneOf('identified', 'deidentified')(p.privacy, '');
  if (privacy) return `privacy ${privacy}`;
  if (p.deid !== undefined) {
    const deid = p.deid as Record<string, unknown>;
    if (typeof deid !== 'object' || deid === null) return 'deid must be an object of PS3.15 options';
    const flags = ['retainUids', 'cleanDescriptors', 'retainDeviceIdentity', 'retainInstitutionIdentity', 'retainPatientCharacteristics'];
    for (const [k, val] of Object.entries(deid)) {
      if (k === 'dates') {
        if (oneOf('remove', 'keep', 'shift')(val, '')) return 'deid.dates must be one of remove, keep, shift';
      } else if (!flags.includes(k)) return `deid.${k} is not a known option (${['dates', ...flags].join(', ')})`;
      else if (typeof val !== 'boolean') return `deid.${k} must be true or false`;
    }
  }
  return undefined;
}

/** A problem when entry `i` of `list` repeats the `key` of an earlier entry. */
function listedTwice(list: unknown[], i: number, key: string, name = key): string | undefined {
  const value = (list[i] as Record<string, unknown>)[key];
  return list.findIndex((o) => (o as Record<string, unknown> | null)?.[key] === value) !== i ? `entry ${i}: ${name} ${String(value)} is listed twice` : undefined;
}

/** A DICOM user identity { username, passcode? } (dicom.users, dicom.remoteAes[].user, uplink DIMSE destinations). */
function checkUser(v: unknown, at: string): string | undefined {
  const u = v as Record<string, unknown>;
  if (typeof u !== 'object' || u === null || text(u.username)) return `${at} must be an object with a username`;
  if (u.passcode !== undefined && text(u.passcode)) return `${at}: passcode must be a non-empty string when given`;
  const unknown = Object.keys(u).find((k) => k !== 'username' && k !== 'passcode');
  return unknown ? `${at}: ${unknown} is not a known key (username, passcode)` : undefined;
}

function isHttpUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}

const SECRET_BEARING: ReadonlySet<string> = new Set(['alerts.channels', 'uplink.destinations', 'dicom.users', 'dicom.remoteAes', 'http.users']);

/** Checks every key, collecting all problems into one MEDGE_ERR_CONFIG_INVALID that names them. */
export function validateConfig(candidate: unknown): MedgeConfig {
  const problems: string[] = [];
  const root = candidate as Record<string, unknown>;
  for (const [key, check] of Object.entries(CHECKS)) {
    const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], root);
    const problem = check(value, key, root);
    // Lists that hold passwords, tokens and keys are not echoed: the message names the entry instead.
    if (problem) problems.push(SECRET_BEARING.has(key) ? `${key} ${problem}` : `${key} ${problem} (got ${JSON.stringify(value)})`);
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
