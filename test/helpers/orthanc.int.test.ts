import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startOrthanc, orthancJson, requireOrthanc } from './orthanc.js';
import { ORTHANC_HINT, skipMessage } from './peers.js';

test('startOrthanc starts a private Orthanc with DICOMweb and stops it by PID', async (t) => {
  if (!requireOrthanc()) return t.skip(skipMessage('Orthanc with orthanc-dicomweb', ORTHANC_HINT));
  const orthanc = await startOrthanc({ aeTitle: 'TESTORTHANC' });
  try {
    const system = await orthancJson<{ DicomAet: string; DicomPort: number }>(orthanc.httpUrl, '/system');
    assert.equal(system.DicomAet, 'TESTORTHANC');
    assert.equal(system.DicomPort, orthanc.dicomPort);
    const plugins = await orthancJson<string[]>(orthanc.httpUrl, '/plugins');
    assert.ok(plugins.includes('dicom-web'), `plugins: ${plugins.join(',')}`);
    const studies = await fetch(`${orthanc.httpUrl}/dicom-web/studies`);
    assert.equal(studies.status === 200 || studies.status === 204, true, `QIDO status ${studies.status}`);
    await studies.arrayBuffer();
  } finally {
    await orthanc.stop();
  }
  assert.equal(existsSync(orthanc.dir), false);
  assert.notEqual(orthanc.child.exitCode ?? orthanc.child.signalCode, null);
});
