import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { MedgeError } from '../errors.js';
import { DEFAULT_CONFIG, type MedgeConfig } from './schema.js';
import { validateConfig } from './validate.js';

/** A partial configuration, as found in a file, the environment or flags. */
export type ConfigOverrides = { [K in keyof MedgeConfig]?: Partial<MedgeConfig[K]> | MedgeConfig[K] };

/**
 * Builds the configuration: defaults, then the YAML file, then MEDGE_* variables, then flags.
 * Throws MEDGE_ERR_CONFIG_FILE or MEDGE_ERR_CONFIG_INVALID naming the key at fault.
 */
export function loadConfig(options: {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
} = {}): MedgeConfig {
  let merged: unknown = structuredClone(DEFAULT_CONFIG);
  if (options.file) merged = deepMerge(merged, readConfigFile(options.file));
  merged = deepMerge(merged, envOverrides(options.env ?? {}));
  if (options.overrides) merged = deepMerge(merged, options.overrides);
  return validateConfig(merged);
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MedgeError('MEDGE_ERR_CONFIG_FILE', `cannot read configuration file ${file}: ${(err as Error).message}`, { file }, err);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    throw new MedgeError('MEDGE_ERR_CONFIG_FILE', `configuration file ${file} is not valid YAML: ${(err as Error).message}`, { file }, err);
  }
}

/**
 * MEDGE_<SECTION>_<KEY> sets a key: MEDGE_DICOM_PORT=104, MEDGE_DICOM_AE_TITLE=EDGE1,
 * MEDGE_DATA_DIR=/var/lib/medge, MEDGE_STORE_MIN_FREE_BYTES=5e9. Values are parsed as YAML scalars,
 * so numbers and booleans keep their type; lists (allowedPeers) take JSON.
 */
export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('MEDGE_') || raw === undefined) continue;
    const path = envNameToPath(name.slice('MEDGE_'.length));
    if (!path) continue;
    let cursor = out;
    for (const key of path.slice(0, -1)) cursor = (cursor[key] ??= {}) as Record<string, unknown>;
    cursor[path[path.length - 1]!] = parseYaml(raw);
  }
  return out;
}

function envNameToPath(rest: string): string[] | undefined {
  const camel = (words: string[]) => words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
  const words = rest.toLowerCase().split('_').filter(Boolean);
  if (words.length === 0) return undefined;
  const top = camel(words);
  if (top in DEFAULT_CONFIG && typeof (DEFAULT_CONFIG as unknown as Record<string, unknown>)[top] !== 'object') return [top];
  const section = words[0]!;
  if (!(section in DEFAULT_CONFIG) || words.length < 2) return undefined;
  return [section, camel(words.slice(1))];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = deepMerge(base[k], v);
  }
  return out;
}
