import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** True when the tests run in CI, where a missing peer is a failure, never a skip. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1';
}

/** Full path of an executable found on PATH (or an absolute path that exists), else undefined. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  const dirs = (env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/usr/local/sbin', '/sbin']);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Whether a peer tool (dcmtk's storescu, Orthanc, dciodvfy...) is installed. Returns false when it
 * is missing so that the test can `t.skip(...)` on a developer machine, but throws under CI=true:
 * CI must never pass by skipping.
 */
export function requireTool(name: string, installHint: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (findExecutable(name, env)) return true;
  if (isCi(env)) throw new Error(`${name} is required in CI but not installed; install with: ${installHint}`);
  return false;
}

/** Same rule for a file a test needs (a plugin .so, a data directory). */
export function requireFile(path: string, installHint: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (existsSync(path)) return true;
  if (isCi(env)) throw new Error(`${path} is required in CI but missing; ${installHint}`);
  return false;
}

/** Skip message in one form for every test. */
export function skipMessage(name: string, installHint: string): string {
  return `${name} not installed; install with: ${installHint}`;
}

export const DCMTK_HINT = 'sudo apt-get install dcmtk';
export const ORTHANC_HINT = 'sudo apt-get install orthanc orthanc-dicomweb';
export const DICOM3TOOLS_HINT = 'sudo apt-get install dicom3tools';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
