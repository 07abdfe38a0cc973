import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10.js';
import { parseInstanceHeader } from '../../src/dicom/header.js';

/**
 * Writes a copy of a series under new Study, Series and SOP Instance UIDs of the same lengths, so
 * that the benchmark can send "a new study" many times without rendering a new phantom each time
 * (about 2.4 s for 240 slices) and without changing a single other byte (element lengths stay,
 * so the files stay valid). `run` (0 to 999999) goes into digits 2 to 7 of each UID's last
 * component, which must be at least 8 digits long (2.25 UUID-derived UIDs are 30 to 39).
 */
export async function reissueSeries(srcDir: string, outDir: string, run: number): Promise<{ studyInstanceUid: string; seriesInstanceUid: string; files: string[] }> {
  await mkdir(outDir, { recursive: true });
  const names = (await readdir(srcDir)).filter((n) => n.endsWith('.dcm')).sort();
  let study: { from: Buffer; to: Buffer } | undefined;
  let series: { from: Buffer; to: Buffer } | undefined;
  const files: string[] = [];
  for (const name of names) {
    const bytes = await readFile(join(srcDir, name));
    const meta = readFileMeta(bytes);
    if (!meta) throw new Error(`${name} is not a Part 10 file`);
    const parsed = parseInstanceHeader(bytes, meta.transferSyntaxUid, bytes.length);
    if (parsed.kind !== 'ok') throw new Error(`${name}: header cannot be parsed`);
    const h = parsed.header;
    study ??= swap(h.studyInstanceUid!, run);
    series ??= swap(h.seriesInstanceUid!, run);
    for (const s of [study, series, swap(h.sopInstanceUid!, run)]) replaceAll(bytes, s.from, s.to);
    const out = join(outDir, name);
    await writeFile(out, bytes);
    files.push(out);
  }
  if (!study || !series) throw new Error(`no DICOM file in ${srcDir}`);
  return { studyInstanceUid: study.to.toString('latin1'), seriesInstanceUid: series.to.toString('latin1'), files };
}

function swap(uid: string, run: number): { from: Buffer; to: Buffer } {
  const cut = uid.lastIndexOf('.') + 1;
  const last = uid.slice(cut);
  if (last.length < 8) throw new Error(`UID ${uid}: last component too short to re-issue`);
  const digits = String(run).padStart(6, '0');
  const to = uid.slice(0, cut) + last[0] + digits + last.slice(7);
  return { from: Buffer.from(uid, 'latin1'), to: Buffer.from(to, 'latin1') };
}

function replaceAll(buf: Buffer, from: Buffer, to: Buffer): void {
  for (let i = buf.indexOf(from); i >= 0; i = buf.indexOf(from, i + to.length)) to.copy(buf, i);
}
