import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCi } from './peers.js';

/**
 * The repository root: the nearest directory above this file (compiled to dist/test/helpers/ or run
 * from test/helpers/) that holds package.json.
 */
export function repoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
}

/** ../shared/data/real relative to the repository root (real scanner files, never committed). */
export function realDataDir(): string {
  return resolve(repoRoot(), '..', 'shared', 'data', 'real');
}

/**
 * Path of a file or directory under the real data, or undefined when it is absent (so the test can
 * skip). Under CI=true a missing path throws: CI must never skip.
 */
export function realData(...parts: string[]): string | undefined {
  const path = join(realDataDir(), ...parts);
  if (existsSync(path)) return path;
  if (isCi()) throw new Error(`real data ${path} is required in CI but missing (see ../shared/data/real/SOURCES.md)`);
  return undefined;
}
