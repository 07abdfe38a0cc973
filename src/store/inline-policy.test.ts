import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createInlinePolicy } from './inline-policy.js';

function setup() {
  let t = 0;
  const policy = createInlinePolicy({ slowMs: 5, backoffMs: 60_000, now: () => t });
  return { policy, advance: (ms: number) => (t += ms) };
}

test('inline waits: a fast disk keeps them; one hiccup does not turn them off', () => {
  const { policy } = setup();
  for (let i = 0; i < 100; i++) policy.waited(0.8);
  assert.equal(policy.allowed(), true);
  policy.waited(12);
  assert.equal(policy.allowed(), true, 'a single 12 ms wait among fast ones');
});

test('inline waits: a slow disk turns them off for the backoff, then they are tried again', () => {
  const { policy, advance } = setup();
  policy.waited(0.8);
  let n = 0;
  while (policy.allowed() && n < 10) {
    policy.waited(20);
    n++;
  }
  assert.equal(policy.allowed(), false);
  assert.ok(n <= 4, `off after ${n} slow waits`);
  advance(59_999);
  assert.equal(policy.allowed(), false);
  advance(1);
  assert.equal(policy.allowed(), true);
});
