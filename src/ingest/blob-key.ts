import { createHash, randomInt } from 'node:crypto';

/** Study and series hashes of recent instances: a series is hundreds of instances with the same two UIDs. */
const hashes = new Map<string, string>();
const HASH_CACHE = 1024;

const short = (s: string) => {
  let h = hashes.get(s);
  if (h === undefined) {
    h = createHash('sha1').update(s).digest('hex').slice(0, 16);
    if (hashes.size >= HASH_CACHE) hashes.clear();
    hashes.set(s, h);
  }
  return h;
};

/** Suffix counter, from a random start so that two processes on one store rarely begin alike. */
let suffix = randomInt(0x1000000);

/**
 * Where an instance's file lives: `<study>/<series>/<SOP Instance UID>-<arrival><suffix>.dcm`,
 * with study and series as short hashes (UIDs can be 64 characters; a path segment per level keeps
 * directories small and a study's files together). The suffix (6 hex digits, a counter in this
 * process) makes the key of a new version of an instance differ from the file the index still
 * points at, even within one millisecond, without a call for random bytes per instance.
 */
export function blobKeyFor(studyUid: string, seriesUid: string, sopUid: string, receivedAt: number): string {
  suffix = (suffix + 1) & 0xffffff;
  return `${short(studyUid)}/${short(seriesUid)}/${sopUid}-${receivedAt.toString(36)}${suffix.toString(16).padStart(6, '0')}.dcm`;
}
