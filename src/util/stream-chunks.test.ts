import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { chunksOf } from './stream-chunks.js';

test('chunksOf hands on the very chunks pushed, pauses the stream at the limit and resumes it at a quarter', async () => {
  const stream = new PassThrough();
  const pushed = Array.from({ length: 8 }, (_, i) => Buffer.alloc(100, i));
  for (const c of pushed) stream.write(c);
  stream.end();
  const pauses: boolean[] = [];
  const got: Buffer[] = [];
  for await (const chunk of chunksOf(stream, 300)) {
    pauses.push(stream.isPaused());
    got.push(chunk);
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(got.length, 8);
  for (const [i, c] of got.entries()) assert.equal(c, pushed[i], 'the same Buffer, not a copy');
  assert.ok(pauses.includes(true), 'paused while 300 bytes waited');
  assert.equal(stream.listenerCount('data'), 0, 'listeners removed at the end');
});

test('chunksOf: an error of the stream is thrown to the consumer; a stream closed without end just ends', async () => {
  const failing = new PassThrough();
  failing.write(Buffer.from('a'));
  setImmediate(() => failing.destroy(new Error('connection reset')));
  await assert.rejects(async () => {
    for await (const _ of chunksOf(failing)) void _;
  }, /connection reset/);

  const closed = new PassThrough();
  closed.write(Buffer.from('abc'));
  setImmediate(() => closed.destroy());
  const got: string[] = [];
  for await (const c of chunksOf(closed)) got.push(c.toString());
  assert.deepEqual(got, ['abc']);
});
