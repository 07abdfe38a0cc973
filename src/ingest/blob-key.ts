import { createHash, randomBytes } from 'node:crypto';

const short = (s: string) => createHash('sha1').update(s).digest('hex').slice(0, 16);

/**
 * Where an instance's file lives: `<study>/<series>/<SOP Instance UID>-<arrival><random>.dcm`,
 * with study and series as short hashes (UIDs can be 64 characters; a path segment per level keeps
 * directories small and a study's files together). The unique suffix means a new version of an
 * instance never overwrites the file the index still points at.
 */
export function blobKeyFor(studyUid: string, seriesUid: string, sopUid: string, receivedAt: number): string {
  return `${short(studyUid)}/${short(seriesUid)}/${sopUid}-${receivedAt.toString(36)}${randomBytes(3).toString('hex')}.dcm`;
}
