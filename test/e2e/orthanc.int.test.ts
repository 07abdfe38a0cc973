/**
 * medge and a real Orthanc 1.10 talking both ways: Orthanc C-STOREs to medge (its SCU), medge's
 * `send` C-STOREs to Orthanc, and Orthanc's DICOMweb client STOWs to medge. medge starts first
 * because Orthanc's configuration must name medge's run-time ports.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import dicomParser from 'dicom-parser';
import { startMedge, type MedgeProcess } from '../helpers/medge-process.js';
import { orthancJson, requireOrthanc, startOrthanc, uploadToOrthanc, type OrthancInstance } from '../helpers/orthanc.js';
import { ORTHANC_HINT, skipMessage } from '../helpers/peers.js';
import { realData, repoRoot } from '../helpers/real-data.js';

const run = promisify(execFile);
const MEDGE_AE = 'MEDGE';

interface FileUids {
  file: string;
  study: string;
  series: string;
  sop: string;
}

async function uidsOf(dir: string, filter: (name: string) => boolean = () => true): Promise<FileUids[]> {
  const names = (await readdir(dir)).filter(filter).sort();
  return Promise.all(
    names.map(async (name) => {
      const file = join(dir, name);
      const ds = dicomParser.parseDicom(await readFile(file), { untilTag: 'x7fe00010' });
      return { file, study: ds.string('x0020000d')!, series: ds.string('x0020000e')!, sop: ds.string('x00080018')! };
    }),
  );
}

/** Number of instances medge's QIDO-RS lists for the series. */
async function medgeSeriesCount(medge: MedgeProcess, study: string, series: string): Promise<number> {
  const res = await fetch(`${medge.httpUrl}/dicom-web/studies/${study}/series/${series}/instances`, { headers: { accept: 'application/dicom+json' } });
  const text = await res.text();
  if (res.status === 204 || (res.ok && !text.trim())) return 0;
  assert.equal(res.status, 200, text);
  return (JSON.parse(text) as unknown[]).length;
}

describe('medge with a real Orthanc', () => {
  let medge: MedgeProcess | undefined;
  let orthanc: OrthancInstance | undefined;
  let skip: string | undefined;

  before(async () => {
    if (!requireOrthanc()) {
      skip = skipMessage('Orthanc with orthanc-dicomweb', ORTHANC_HINT);
      return;
    }
    if (!realData('ge-head-ct') || !realData('transfer-syntaxes', 'ct') || !realData('philips-head-phantom-5mm')) {
      skip = 'real data missing under ../shared/data/real';
      return;
    }
    medge = await startMedge({ args: ['--ae-title', MEDGE_AE] });
    orthanc = await startOrthanc({
      aeTitle: 'ORTHANC',
      modalities: { medge: [MEDGE_AE, '127.0.0.1', medge.dicomPort] },
      dicomWebServers: { medge: `${medge.httpUrl}/dicom-web/` },
    });
  });

  after(async () => {
    await orthanc?.stop();
    await medge?.stop();
  });

  test('Orthanc C-STOREs the real head CT to medge, which stores all of it', async (t) => {
    if (skip) return t.skip(skip);
    const files = await uidsOf(realData('ge-head-ct')!);
    const { instances } = await uploadToOrthanc(orthanc!, files.map((f) => f.file));
    assert.equal(new Set(instances).size, files.length);
    // Synchronous: the call returns when Orthanc's C-STORE job has finished.
    const answer = await orthancJson<{ FailedInstancesCount?: number; InstancesCount?: number }>(orthanc!.httpUrl, '/modalities/medge/store', {
      method: 'POST',
      body: JSON.stringify({ Resources: instances, Synchronous: true }),
    });
    assert.equal(answer.FailedInstancesCount ?? 0, 0, JSON.stringify(answer));
    const { study, series } = files[0]!;
    assert.equal(await medgeSeriesCount(medge!, study, series), files.length);
  });

  test('medge send C-STOREs every transfer syntax file to Orthanc, which has each instance', async (t) => {
    if (skip) return t.skip(skip);
    const dir = realData('transfer-syntaxes', 'ct')!;
    const files = await uidsOf(dir);
    const result = await run(process.execPath, [join(repoRoot(), 'bin', 'medge.js'), 'send', dir, '--to', `ORTHANC@127.0.0.1:${orthanc!.dicomPort}`], {
      env: { ...process.env },
    }).catch((err: { code: number; stdout: string; stderr: string }) => err);
    const output = `${result.stdout}\n${result.stderr}`;
    assert.match(output, new RegExp(`sent ${files.length}, failed 0`), output);
    // Several files are the same instance in different transfer syntaxes: Orthanc keeps the first
    // copy and answers success for the others, so we check each distinct SOP Instance UID.
    for (const sop of new Set(files.map((f) => f.sop))) {
      const found = await orthancJson<Array<{ Type: string }>>(orthanc!.httpUrl, '/tools/lookup', { method: 'POST', body: sop });
      assert.ok(found.some((r) => r.Type === 'Instance'), `Orthanc lacks ${sop}\n${output}`);
    }
  });

  test("Orthanc's DICOMweb client STOWs a study to medge, and medge's QIDO-RS finds all of it", async (t) => {
    if (skip) return t.skip(skip);
    const files = await uidsOf(realData('philips-head-phantom-5mm')!, (name) => name !== 'DIRFILE');
    const { studies } = await uploadToOrthanc(orthanc!, files.map((f) => f.file));
    assert.equal(studies.size, 1);
    const answer = await orthancJson<Record<string, unknown>>(orthanc!.httpUrl, '/dicom-web/servers/medge/stow', {
      method: 'POST',
      body: JSON.stringify({ Resources: [...studies], Synchronous: true }),
    });
    assert.ok(answer !== null, 'Orthanc answered');
    const { study, series } = files[0]!;
    assert.equal(await medgeSeriesCount(medge!, study, series), files.length);
  });
});
