import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapInGroups } from './map-in-groups.js';

test('mapInGroups: results in order, never more than `size` calls at once', async () => {
  let running = 0;
  let most = 0;
  const out = await mapInGroups([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
    most = Math.max(most, ++running);
    await new Promise((r) => setTimeout(r, n));
    running--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30, 0, 60]);
  assert.equal(most, 3);
  assert.deepEqual(await mapInGroups([], 3, async (n: number) => n), []);
});
