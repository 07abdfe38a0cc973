import { closeSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * CPU milliseconds this process spends per MB written as new file data into the page cache under
 * `parent`: the median of three files of 16 MB in 1 MB writes, no fsync; the files are left for
 * the caller to remove.
 *
 * Why a benchmark wants to know: on this VM the figure moves between about 0.7 and 3 ms/MB from
 * one minute to the next (the host backs a fresh guest page on first touch; balloon and DAMON
 * reclaim are active). Every receiver pays it for every byte it stores, so it pulls the
 * medge/Orthanc ratios toward 1 and explains most of the spread between rounds.
 */
export function pageCacheWriteMsPerMb(parent: string, megabytes = 16): number {
  const dir = mkdtempSync(join(parent, 'page-cache-cost-'));
  const chunk = Buffer.alloc(1024 * 1024, 0x5a);
  const samples = [0, 1, 2].map((n) => {
    const fd = openSync(join(dir, `f${n}`), 'w');
    const before = process.cpuUsage();
    try {
      for (let i = 0; i < megabytes; i++) writeSync(fd, chunk, 0, chunk.length, i * chunk.length);
    } finally {
      closeSync(fd);
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000 / megabytes;
  });
  return samples.sort((a, b) => a - b)[1]!;
}

/** Above this (ms per MB) new page-cache pages are in their slow phase. */
export const SLOW_PAGE_CACHE_MS_PER_MB = 1.5;
