/**
 * Storage commitment against a real requester: Orthanc 1.10 as the Storage Commitment SCU
 * (POST /modalities/{id}/storage-commitment) asks the node about instances it sent, and reads the
 * report the node sends back on an association of its own (GET /storage-commitment/{transaction}).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticCtSeries } from '../dicom/synthetic/ct-series.js';
import { startMedge } from '../../test/helpers/medge-process.js';
import { orthancJson, requireOrthanc, startOrthanc } from '../../test/helpers/orthanc.js';
import { DCMTK_HINT, ORTHANC_HINT, requireTool, skipMessage } from '../../test/helpers/peers.js';
import { runStorescu } from '../../test/helpers/storescu.js';

const missing = [...(requireOrthanc() ? [] : ['Orthanc']), ...(requireTool('storescu', DCMTK_HINT) ? [] : ['storescu'])];
const skip = missing.length ? skipMessage(missing.join(', '), `${ORTHANC_HINT} dcmtk`) : false;

interface OrthancReport {
  Status: string;
  Success?: { SOPClassUID: string; SOPInstanceUID: string }[];
  Failures?: { SOPClassUID: string; SOPInstanceUID: string; FailureReason: number }[];
}

test('Orthanc asks the node to commit to instances: the report names what the node holds and why the rest failed; a request from an AE without a report address is refused', { skip }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-commitment-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const orthanc = await startOrthanc({ aeTitle: 'ORTHANC' });
  t.after(() => orthanc.stop());
  const config = join(dir, 'medge.yaml');
  await writeFile(config, `dicom:\n  remoteAes:\n    - aeTitle: ORTHANC\n      host: 127.0.0.1\n      port: ${orthanc.dicomPort}\n`);
  const medge = await startMedge({ args: ['--config', config, '--ae-title', 'MEDGE'] });
  t.after(() => medge.stop());
  await orthancJson(orthanc.httpUrl, '/modalities/medge', { method: 'PUT', body: JSON.stringify({ AET: 'MEDGE', Host: '127.0.0.1', Port: medge.dicomPort }) });

  const series = await writeSyntheticCtSeries({ dir: join(dir, 'series'), slices: 3, rows: 64, columns: 64, seed: 11 });
  const sent = await runStorescu({ host: '127.0.0.1', port: medge.dicomPort, aec: 'MEDGE', paths: series.files });
  assert.equal(sent.code, 0, sent.output);
  const ct = '1.2.840.10008.5.1.4.1.1.2';
  const held = series.sopInstanceUids.map((uid) => ({ SOPClassUID: ct, SOPInstanceUID: uid }));
  const unknown = { SOPClassUID: ct, SOPInstanceUID: '1.2.826.0.1.3680043.10.999.1' };
  const wrongClass = { SOPClassUID: '1.2.840.10008.5.1.4.1.1.4', SOPInstanceUID: series.sopInstanceUids[0]! };

  const ask = async (instances: { SOPClassUID: string; SOPInstanceUID: string }[]): Promise<OrthancReport> => {
    const { ID } = await orthancJson<{ ID: string }>(orthanc.httpUrl, '/modalities/medge/storage-commitment', { method: 'POST', body: JSON.stringify({ DicomInstances: instances }) });
    for (let i = 0; i < 200; i++) {
      const report = await orthancJson<OrthancReport>(orthanc.httpUrl, `/storage-commitment/${ID}`);
      if (report.Status !== 'Pending') return report;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`no report for transaction ${ID} within 10 s:\n${medge.output().slice(-3000)}`);
  };

  const all = await ask(held);
  assert.equal(all.Status, 'Success', JSON.stringify(all));
  assert.deepEqual(all.Success?.map((s) => s.SOPInstanceUID).sort(), [...series.sopInstanceUids].sort());
  assert.deepEqual(all.Failures ?? [], []);

  const mixed = await ask([...held, unknown, wrongClass]);
  assert.equal(mixed.Status, 'Failure', JSON.stringify(mixed));
  assert.equal(mixed.Success?.length, 3);
  const reasons = new Map(mixed.Failures?.map((f) => [`${f.SOPClassUID} ${f.SOPInstanceUID}`, f.FailureReason]));
  assert.equal(reasons.get(`${unknown.SOPClassUID} ${unknown.SOPInstanceUID}`), 0x0112, 'no such object instance');
  assert.equal(reasons.get(`${wrongClass.SOPClassUID} ${wrongClass.SOPInstanceUID}`), 0x0119, 'class / instance conflict');

  // Orthanc has both reports; the node records each delivery right after the answer to it.
  let commitment = { pending: -1, delivered: -1 };
  for (let i = 0; i < 100 && commitment.delivered !== 2; i++) {
    commitment = ((await (await fetch(`${medge.httpUrl}/api/health`)).json()) as { storageCommitment: typeof commitment }).storageCommitment;
    if (commitment.delivered !== 2) await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual([commitment.pending, commitment.delivered], [0, 2]);
  const metrics = await (await fetch(`${medge.httpUrl}/metrics`)).text();
  assert.match(metrics, /medge_commitment_requests_total\{result="accepted"\} 2/);
  assert.match(metrics, /medge_commitment_reports_total\{outcome="delivered"\} 2/);

  // Another AE title for Orthanc, one the node has no report address for: the N-ACTION is refused.
  await orthancJson(orthanc.httpUrl, '/modalities/medge', { method: 'PUT', body: JSON.stringify({ AET: 'MEDGE', Host: '127.0.0.1', Port: medge.dicomPort, LocalAet: 'STRANGER' }) });
  const refused = await fetch(`${orthanc.httpUrl}/modalities/medge/storage-commitment`, { method: 'POST', body: JSON.stringify({ DicomInstances: held }) });
  const refusedText = await refused.text();
  assert.ok(!refused.ok && /cannot be handled by remote AET: MEDGE/.test(refusedText), `Orthanc reports the refusal: ${refused.status} ${refusedText}`);
  assert.match(medge.output(), /"event":"commitment-refused".*"callingAe":"STRANGER".*has no entry in dicom\.remoteAes/);
});
