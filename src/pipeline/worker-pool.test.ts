import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMedgeError } from '../errors.js';
import { createLogger } from '../observability/log.js';
import { systemClock } from './clock.js';
import { createWorkerPool } from './worker-pool.js';

test('a worker that cannot start fails start() with MEDGE_ERR_PIPELINE_WORKER instead of retrying forever', async () => {
  const pool = createWorkerPool({
    size: 1,
    init: { softwareVersion: 'test', nice: 0, schedIdle: false, warmUp: false },
    clock: systemClock,
    log: createLogger('silent'),
    onIdle: () => undefined,
    workerUrl: new URL('data:text/javascript,throw new Error("broken build")'),
  });
  await assert.rejects(pool.start(), (err) => isMedgeError(err, 'MEDGE_ERR_PIPELINE_WORKER') && /broken build/.test(err.message));
  assert.equal(pool.status()[0]!.state, 'stopped');
});
