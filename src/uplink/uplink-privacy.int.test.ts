import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinkSimulator } from './link-simulator.js';
import { readIndex, run, sendTo, uplinkStatus, waitFor, writeConfig } from './int-test-support.js';
import { buildSentinelStudy } from '../dicom/deid/sentinel-study.js';
import { startMedge } from '../../test/helpers/medge-process.js';
import { orthancJson, requireOrthanc, startOrthanc } from '../../test/helpers/orthanc.js';
import { DICOM3TOOLS_HINT, ORTHANC_HINT, requireTool, skipMessage } from '../../test/helpers/peers.js';

/** dciodvfy's Error lines (it exits 0 whatever it finds). */
async function dciodvfyErrors(file: string): Promise<string[]> {
  const { stdout, stderr } = await run('dciodvfy', ['-new', file]).catch((err: { stdout: string; stderr: string }) => err);
  return `${stdout}\n${stderr}`.split('\n').filter((l) => l.startsWith('Error'));
}

test('privacy: a study whose every PHI attribute holds a sentinel goes out deidentified; no sentinel in any byte the link carried; dciodvfy finds no new error in what Orthanc holds', async (t) => {
  if (!requireOrthanc()) return t.skip(skipMessage('Orthanc with orthanc-dicomweb', ORTHANC_HINT));
  if (!requireTool('dciodvfy', DICOM3TOOLS_HINT)) return t.skip(skipMessage('dciodvfy', DICOM3TOOLS_HINT));
  const dir = await mkdtemp(join(tmpdir(), 'medge-uplink-privacy-'));
  const orthanc = await startOrthanc();
  const link = await createLinkSimulator({ target: { host: '127.0.0.1', port: orthanc.httpPort }, rateBitsPerSecond: 50_000_000, delayMs: 20, capture: true });
  try {
    const study = buildSentinelStudy({ slices: 3 });
    await mkdir(join(dir, 'in'), { recursive: true });
    const files = await Promise.all(study.files.map(async (b, i) => {
      const f = join(dir, 'in', `${i}.dcm`);
      await writeFile(f, b);
      return f;
    }));
    const config = await writeConfig(dir, [{ id: 'research', type: 'stow-rs', baseUrl: link.url('/dicom-web'), policy: { what: 'full-study', when: 'immediate', privacy: 'deidentified' } }]);
    const node = await startMedge({ dataDir: join(dir, 'data'), args: ['--config', config] });
    try {
      await sendTo(node.dicomPort, files);
      await waitFor('3 instances confirmed', async () => ((await uplinkStatus(node.httpUrl)).destinations[0]!.queue.confirmed >= 3 ? true : undefined), 20_000);
      const captured = link.capturedConnections();
      assert.ok(captured.reduce((n, c) => n + c.length, 0) > 3 * 2000, 'the capture holds the upload');
      for (const conn of captured) {
        const latin1 = conn.toString('latin1');
        for (const s of study.sentinels) assert.ok(!latin1.includes(s), `${s} crossed the link`);
        for (const uid of study.uids) assert.ok(!latin1.includes(uid), `original UID ${uid} crossed the link`);
      }
      const ids = await orthancJson<string[]>(orthanc.httpUrl, '/instances');
      assert.equal(ids.length, 3);
      const map = readIndex<{ n: number }>(node.dataDir, `SELECT count(*) AS n FROM deid_map WHERE kind = 'uid'`)[0]!.n;
      assert.ok(map >= 5, `the mapping kept on the node (${map} UIDs)`);
      for (const [i, id] of ids.entries()) {
        const res = await fetch(`${orthanc.httpUrl}/instances/${id}/file`);
        const out = join(dir, `arrived-${i}.dcm`);
        await writeFile(out, Buffer.from(await res.arrayBuffer()));
        const before = new Set(await dciodvfyErrors(files[0]!));
        const added = (await dciodvfyErrors(out)).filter((l) => !before.has(l));
        assert.deepEqual(added, [], 'no new dciodvfy error');
      }
    } finally {
      await node.stop();
    }
  } finally {
    await link.close();
    await orthanc.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
