import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readInstance } from './slice-header.js';

export interface SeriesGroup<T> {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  modality: string;
  seriesDescription: string | null;
  /** The files of the series in input order; buildVolume sorts them by geometry. */
  files: T[];
}

/**
 * Splits a folder's worth of files into series by Series Instance UID (0020,000E). Files that are
 * not readable Part 10 DICOM or carry no Series Instance UID (a DICOMDIR, for instance) come back
 * in `other` with the reason. Series are ordered by Study then Series Instance UID, so that the
 * result does not depend on the order of the input.
 */
export function groupSeries<T extends { part10: Buffer }>(files: readonly T[]): { series: SeriesGroup<T>[]; other: { file: T; reason: string }[] } {
  const groups = new Map<string, SeriesGroup<T>>();
  const other: { file: T; reason: string }[] = [];
  for (const file of files) {
    const info = readInstance(file.part10);
    if (!info) {
      other.push({ file, reason: 'not a readable DICOM Part 10 file' });
      continue;
    }
    if (!info.seriesInstanceUid) {
      other.push({ file, reason: 'no Series Instance UID' });
      continue;
    }
    let group = groups.get(info.seriesInstanceUid);
    if (!group) {
      group = { studyInstanceUid: info.studyInstanceUid, seriesInstanceUid: info.seriesInstanceUid, modality: info.modality, seriesDescription: info.seriesDescription, files: [] };
      groups.set(info.seriesInstanceUid, group);
    }
    group.files.push(file);
  }
  const series = [...groups.values()].sort((a, b) =>
    a.studyInstanceUid === b.studyInstanceUid ? (a.seriesInstanceUid < b.seriesInstanceUid ? -1 : 1) : a.studyInstanceUid < b.studyInstanceUid ? -1 : 1,
  );
  return { series, other };
}

/** Every regular file under `dir`, recursively, read into memory (paths sorted, for a stable order). */
export async function readFolder(dir: string): Promise<{ path: string; part10: Buffer }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const paths = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name)).sort();
  return Promise.all(paths.map(async (path) => ({ path, part10: await readFile(path) })));
}
