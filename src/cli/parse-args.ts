import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MedgeError } from '../errors.js';

/** node:util parseArgs with usage errors turned into MEDGE_ERR_CLI_USAGE, which main prints with the help hint. */
export function parseCommandArgs<T extends ParseArgsConfig['options']>(command: string, argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new MedgeError('MEDGE_ERR_CLI_USAGE', `${(err as Error).message}; see 'medge ${command} --help'`, {}, err);
  }
}

/** Parses a whole number option, naming the flag when it is not one. */
export function intOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new MedgeError('MEDGE_ERR_CLI_USAGE', `${flag} must be a whole number, got '${value}'`, { flag });
  return n;
}
