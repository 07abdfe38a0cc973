import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStowClient } from './stow-client.js';
import { createLinkSimulator } from '../uplink/link-simulator.js';
import { writeSyntheticCtSeries } from '../dicom/synthetic/ct-series.js';
import { generateUid } from '../dicom/uids.js';
import { isMedgeError } from '../errors.js';
import { orthancJson, requireOrthanc, startOrthanc } from '../../test/helpers/orthanc.js';
import { ORTHANC_HINT, skipMessage } from '../../test/helpers/peers.js';

/** A private Orthanc with the DICOMweb plugin and basic authentication as the cloud PACS. */

const MBIT = 1_000_000;
const credentials = { user: 'medge', password: 'uplink-secret' };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('Orthanc through a 50 Mbit/s 40 ms link: CT instances stored, confirmed by QIDO-RS and by its REST API byte for byte; wrong credentials fail permanently; a cut is retryable', async (t) => {
  if (!requireOrthanc()) return t.skip(skipMessage('Orthanc with orthanc-dicomweb', ORTHANC_HINT));
  const dir = await mkdtemp(join(tmpdir(), 'medge-stow-orthanc-'));
  const orthanc = await startOrthanc({ credentials });
  const link = await createLinkSimulator({ target: { host: '127.0.0.1', port: orthanc.httpPort }, rateBitsPerSecond: 50 * MBIT, delayMs: 20, capture: true });
  const client = createStowClient({ baseUrl: link.url('/dicom-web'), auth: { basic: credentials }, timeoutMs: 5000 });
  const rest = <T>(path: string) => orthancJson<T>(orthanc.httpUrl, path, { headers: orthanc.authHeaders });
  try {
    const series = await writeSyntheticCtSeries({ dir: join(dir, 'ct'), slices: 6 });

    await t.test('stored, and Orthanc holds the very bytes', async () => {
      const result = await client.store(series.files.map((path) => ({ part10: { path } })), { studyInstanceUid: series.studyUid });
      const mbit = (result.bytesSent * 8) / (result.ms / 1000) / MBIT;
      console.log(`# STOW-RS to Orthanc: ${series.files.length} CT instances, ${result.bytesSent} bytes in ${result.ms.toFixed(0)} ms (${mbit.toFixed(1)} Mbit/s on a 50 Mbit/s link)`);
      assert.equal(result.httpStatus, 200);
      assert.deepEqual(result.outcomes.map((o) => [o.sopInstanceUid, o.status]), series.sopInstanceUids.map((u) => [u, 'stored']));
      for (const uid of series.sopInstanceUids) assert.equal(await client.exists(series.studyUid, series.seriesUid, uid), true, uid);
      assert.equal(await client.exists(series.studyUid, series.seriesUid, generateUid()), false);
      for (const [i, uid] of series.sopInstanceUids.entries()) {
        const ids = await orthancJson<{ ID: string; Type: string }[]>(orthanc.httpUrl, '/tools/lookup', { method: 'POST', body: uid, headers: orthanc.authHeaders });
        assert.equal(ids[0]?.Type, 'Instance');
        const res = await fetch(`${orthanc.httpUrl}/instances/${ids[0]!.ID}/file`, { headers: orthanc.authHeaders });
        assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(await readFile(series.files[i]!)));
      }
    });

    await t.test('wrong or missing credentials: a permanent auth error that says what to check', async () => {
      const before = (await rest<string[]>('/instances')).length;
      for (const auth of [{ basic: { user: 'medge', password: 'wrong' } }, undefined, { bearer: 'not-a-token' }]) {
        const bad = createStowClient({ baseUrl: link.url('/dicom-web'), auth });
        try {
          await assert.rejects(bad.store({ part10: { path: series.files[0]! } }), (err) => {
            assert.ok(isMedgeError(err, 'MEDGE_ERR_UPLINK_AUTH'), String(err));
            assert.equal(err.fields.retryable, false);
            assert.equal(err.fields.httpStatus, 401);
            assert.match(err.message, /refused the credentials.*check the user and password or the token/);
            assert.ok(!err.message.includes('wrong'), 'the password is not in the message');
            return true;
          });
        } finally {
          bad.close();
        }
      }
      assert.equal((await rest<string[]>('/instances')).length, before);
    });

    await t.test('an instance of another study than the URL: what Orthanc answers reads as a failure', async () => {
      const other = await writeSyntheticCtSeries({ dir: join(dir, 'other'), slices: 1, rows: 64, columns: 64 });
      const result = await client.store({ part10: { path: other.files[0]! } }, { studyInstanceUid: series.studyUid });
      console.log(`# Orthanc answers a study mismatch with HTTP ${result.httpStatus}: ${JSON.stringify(result.outcomes[0])}`);
      assert.equal(result.outcomes[0]!.status, 'failed');
      assert.equal(result.outcomes[0]!.sopInstanceUid, other.sopInstanceUids[0]);
      assert.equal(await client.exists(other.studyUid, other.seriesUid, other.sopInstanceUids[0]!), false);
    });

    await t.test('the link dropped in the middle of a store: retryable; sent again after restore: stored once', async () => {
      const big = await writeSyntheticCtSeries({ dir: join(dir, 'big'), slices: 12 });
      link.setRate(20 * MBIT);
      const pending = client.store(big.files.map((path) => ({ part10: { path } })));
      // 6.3 MB at 2.5 MB/s: the cut lands in the middle of the body.
      setTimeout(() => void link.cut('drop'), 800);
      await assert.rejects(pending, (err) => isMedgeError(err, 'MEDGE_ERR_UPLINK_NETWORK') && err.fields.retryable === true);
      await link.restore();
      link.setRate(50 * MBIT);
      const again = await client.store(big.files.map((path) => ({ part10: { path } })));
      assert.deepEqual(again.outcomes.map((o) => o.status), big.files.map(() => 'stored'));
      const instances = await rest<string[]>(`/series/${(await orthancJson<{ ID: string }[]>(orthanc.httpUrl, '/tools/lookup', { method: 'POST', body: big.seriesUid, headers: orthanc.authHeaders }))[0]!.ID}/instances`);
      assert.equal(instances.length, big.files.length);
    });

    // Nothing on the wire but what was meant: the credentials travel as HTTP Basic only.
    assert.ok(link.captured().includes(Buffer.from(`authorization: Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`, 'latin1')));
  } finally {
    client.close();
    await link.close();
    await orthanc.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
