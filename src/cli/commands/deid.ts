import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createMemoryDeidMap } from '../../dicom/deid/deid-map.js';
import { createDeidentifier } from '../../dicom/deid/deidentifier.js';
import { readSecret } from '../../dicom/deid/keys.js';
import type { DeidOptions } from '../../dicom/deid/profile.js';
import { emptyStats, type DeidStats } from '../../dicom/deid/walker.js';
import { readFileMeta } from '../../dicom/part10.js';
import { isMedgeError, MedgeError } from '../../errors.js';
import { parseCommandArgs } from '../parse-args.js';

const HELP = `Usage: medge deid DIR --out DIR [options]

Applies the DICOM PS3.15 Annex E Basic Application Confidentiality Profile (Table E.1-1, DICOM
2024b) to every DICOM Part 10 file under DIR, offline, and writes the de-identified copies under
--out as STUDY/SERIES/INSTANCE.dcm, named by their new UIDs (input file and folder names often hold
patient names, so they are not kept). It is what the uplink sends when a destination is
'deidentified': run it to see what leaves the node. Files that are not Part 10 are skipped.

Options:
  --out DIR                         where the de-identified files go (created; must not be DIR)
  --retain-uids                     Retain UIDs Option: UIDs are kept instead of replaced
  --retain-dates                    Retain Longitudinal Temporal Information, Full Dates Option
  --shift-dates                     ... Modified Dates: every date of a patient moved back by the
                                    same 1 to 3650 days (derived from the secret and the patient)
  --clean-descriptors               Clean Descriptors Option: descriptions and comments kept, with
                                    names, IDs, dates and numbers found in them replaced by '*'
  --retain-device-identity          Retain Device Identity Option
  --retain-institution-identity     Retain Institution Identity Option
  --retain-patient-characteristics  Retain Patient Characteristics Option (sex, age, size, weight...)
  --secret-file FILE                the secret replacement UIDs and pseudonyms derive from (16 bytes
                                    or more; the node's own is deid.secret in its data directory).
                                    Without it a random one is used for this run only.
  --map FILE                        also write the replacements (JSON lines: kind, original,
                                    deidentified). It re-identifies the copies: keep it private.
  -h, --help                        this text

Always: private elements are removed (Retain Safe Private is not implemented), Patient's Name and
Patient ID become a pseudonym (ANON-...), Patient Identity Removed (0012,0062) is YES and the
method is recorded in (0012,0063) and (0012,0064). Pixel data is not touched: burned-in text stays.
See docs/deid.md.

Exit status: 0 when every DICOM file was de-identified; 1 when one or more failed (each is listed
with its error code) or DIR cannot be read; 2 for usage errors.`;

interface Summary {
  files: number;
  skipped: number;
  failed: number;
  bytesIn: number;
  ms: number;
  stats: DeidStats;
  studies: Set<string>;
  patients: Set<string>;
}

export async function runDeid(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('deid', argv, {
    out: { type: 'string' },
    'retain-uids': { type: 'boolean' },
    'retain-dates': { type: 'boolean' },
    'shift-dates': { type: 'boolean' },
    'clean-descriptors': { type: 'boolean' },
    'retain-device-identity': { type: 'boolean' },
    'retain-institution-identity': { type: 'boolean' },
    'retain-patient-characteristics': { type: 'boolean' },
    'secret-file': { type: 'string' },
    map: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw usage(`need exactly one input directory, got ${positionals.length}`);
  if (!values.out) throw usage('--out DIR is required');
  if (values['retain-dates'] && values['shift-dates']) throw usage('--retain-dates and --shift-dates exclude each other');
  const dir = resolve(positionals[0]!);
  const out = resolve(values.out);
  if (out === dir) throw usage('--out must not be the input directory');
  const options: DeidOptions = {
    retainUids: values['retain-uids'],
    dates: values['retain-dates'] ? 'keep' : values['shift-dates'] ? 'shift' : 'remove',
    cleanDescriptors: values['clean-descriptors'],
    retainDeviceIdentity: values['retain-device-identity'],
    retainInstitutionIdentity: values['retain-institution-identity'],
    retainPatientCharacteristics: values['retain-patient-characteristics'],
  };
  const secret = values['secret-file'] ? await readSecret(values['secret-file']) : randomBytes(32);
  if (!values['secret-file']) process.stderr.write('medge deid: no --secret-file: replacement UIDs and pseudonyms are random for this run\n');

  let files: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
    files = await listFiles(dir, out);
  } catch (err) {
    process.stderr.write(`medge deid: cannot read ${dir}: ${(err as Error).message}\n`);
    return 1;
  }
  const map = createMemoryDeidMap();
  const deid = createDeidentifier({ secret, map, options });
  const summary: Summary = { files: 0, skipped: 0, failed: 0, bytesIn: 0, ms: 0, stats: emptyStats(), studies: new Set(), patients: new Set() };
  const progress = process.stderr.isTTY;
  for (const [i, path] of files.entries()) {
    await deidentifyFile(path, dir, out, deid, summary);
    if (progress && (i % 10 === 9 || i === files.length - 1)) process.stderr.write(`\rde-identified ${summary.files}/${files.length} files`);
  }
  if (progress && files.length) process.stderr.write('\n');
  if (values.map) await writeFile(values.map, map.entries().map((e) => JSON.stringify(e)).join('\n') + '\n', { mode: 0o600 });
  process.stdout.write(`${formatSummary(dir, out, summary)}\n`);
  return summary.failed ? 1 : 0;
}

async function deidentifyFile(path: string, dir: string, out: string, deid: ReturnType<typeof createDeidentifier>, s: Summary): Promise<void> {
  const bytes = await readFile(path);
  if (!readFileMeta(bytes)) {
    s.skipped++;
    return;
  }
  try {
    const t0 = performance.now();
    const r = deid.deidentify(bytes);
    s.ms += performance.now() - t0;
    const target = join(out, r.studyInstanceUid || 'no-study', r.seriesInstanceUid || 'no-series');
    await mkdir(target, { recursive: true });
    await writeFile(join(target, `${r.sopInstanceUid}.dcm`), r.part10);
    s.files++;
    s.bytesIn += bytes.length;
    s.studies.add(r.studyInstanceUid);
    s.patients.add(r.patientPseudonym);
    for (const k of Object.keys(s.stats) as Array<keyof DeidStats>) s.stats[k] += r.stats[k];
  } catch (err) {
    if (!isMedgeError(err)) throw err;
    s.failed++;
    // The message names no patient data (src/errors.ts); the path is the user's own.
    process.stderr.write(`medge deid: ${relative(dir, path)}: ${err.message} [${err.code}]\n`);
  }
}

/** Every file under dir, depth first, sorted, leaving out the output directory if it lies inside. */
async function listFiles(dir: string, exclude: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (path === exclude) continue;
    if (entry.isDirectory()) out.push(...(await listFiles(path, exclude)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

export function formatSummary(dir: string, out: string, s: Summary): string {
  const st = s.stats;
  const perInstance = s.files ? (s.ms / s.files).toFixed(2) : '-';
  return [
    `${dir} -> ${out}: ${s.files} file(s) de-identified, ${s.failed} failed, ${s.skipped} not DICOM skipped`,
    `  ${s.studies.size} study(ies) of ${s.patients.size} patient(s); ${(s.bytesIn / 1e6).toFixed(1)} MB in ${Math.round(s.ms)} ms (${perInstance} ms per instance)`,
    `  attributes: ${st.removed} removed, ${st.privateRemoved} private removed, ${st.zeroed} emptied, ${st.dummied} dummy values, ` +
      `${st.uidsReplaced} UIDs replaced, ${st.pseudonymized} names/IDs pseudonymized, ${st.cleaned} cleaned, ${st.datesShifted} dates shifted`,
  ].join('\n');
}

function usage(message: string): MedgeError {
  return new MedgeError('MEDGE_ERR_CLI_USAGE', `${message}; see 'medge deid --help'`, {});
}
