import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable, requireTool } from './peers.js';
import { repoRoot, realDataDir } from './real-data.js';
import { freePort, freePorts } from './free-port.js';
import { acknowledgedFiles } from './storescu.js';

test('requireTool: true when present; false when missing, but throws under CI=true (CI never skips)', () => {
  assert.equal(requireTool('node', 'x', { PATH: process.env.PATH, CI: 'true' }), findExecutable('node') !== undefined);
  assert.equal(requireTool('medge-no-such-tool', 'apt-get install nothing', { PATH: process.env.PATH }), false);
  assert.throws(() => requireTool('medge-no-such-tool', 'apt-get install nothing', { PATH: process.env.PATH, CI: 'true' }), /required in CI.*apt-get install nothing/);
});

test('repoRoot finds the directory with package.json; real data sits beside it under shared/', () => {
  const root = repoRoot();
  assert.ok(existsSync(join(root, 'package.json')));
  assert.equal(realDataDir(), join(root, '..', 'shared', 'data', 'real'));
});

test('freePort and freePorts return usable, distinct ports', async () => {
  const p = await freePort();
  assert.ok(p > 0 && p < 65536);
  const ps = await freePorts(3);
  assert.equal(new Set(ps).size, 3);
});

test('acknowledgedFiles pairs each "Sending file" with a Success or Warning response only', () => {
  const log = [
    'I: Requesting Association',
    'I: Sending file: /d/a.dcm',
    'I: Sending Store Request (MsgID 1, CT)',
    'XMIT: ....',
    'I: Received Store Response (Success)',
    'I: Sending file: /d/b.dcm',
    'I: Received Store Response (Warning: Coercion of Data Elements)',
    'I: Sending file: /d/c.dcm',
    'E: Store Failed, file: /d/c.dcm:',
    'I: Sending file: /d/d.dcm',
    'I: Received Store Response (Refused: Out of Resources)',
    'I: Sending file: /d/e.dcm',
  ].join('\n');
  assert.deepEqual(acknowledgedFiles(log), ['/d/a.dcm', '/d/b.dcm']);
});
