import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Microseconds one file creation takes in a new directory under `parent` (mean of `count`). The
 * files are left for the caller to remove with `parent`: removing them here would itself slow
 * the next creations down (below).
 *
 * Why a benchmark wants to know: ext4 without a journal (this machine's root filesystem) does not
 * reuse an inode freed in the last 60 s (360 s while its inode table block is unwritten); each
 * creation scans past every such inode of the directory's block group (`recently_deleted()` in
 * fs/ext4/ialloc.c). After a test run or a benchmark removed thousands of files nearby, a creation
 * in /tmp took 340 us here against 18 us in a directory elsewhere on the same disk, and a receiver
 * creating one file per instance paid that on each.
 */
export function fileCreationMicros(parent: string, count = 100): number {
  const dir = mkdtempSync(join(parent, 'create-cost-'));
  const started = performance.now();
  for (let i = 0; i < count; i++) closeSync(openSync(join(dir, `f${i}`), 'wx'));
  return ((performance.now() - started) * 1000) / count;
}

/** Above this (us per creation) the figures measure the filesystem's state more than the receivers. */
export const SLOW_CREATION_US = 100;
