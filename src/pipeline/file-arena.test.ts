import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileArena } from './file-arena.js';

test('file arena: each file whole, a missing one undefined, one buffer kept for the next series unless it is too large', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medge-file-arena-'));
  try {
    const paths = await Promise.all([1000, 0, 2500].map(async (n, i) => {
      const p = join(dir, `f${i}`);
      await writeFile(p, Buffer.alloc(n, i + 1));
      return p;
    }));
    const arena = new FileArena(10_000);
    const first = arena.read([paths[0]!, join(dir, 'gone'), paths[1]!, paths[2]!]);
    assert.deepEqual(first.map((b) => b?.length), [1000, undefined, 0, 2500]);
    assert.deepEqual(first[0], Buffer.alloc(1000, 1));
    assert.deepEqual(first[3], Buffer.alloc(2500, 3));
    const kept = first[0]!.buffer;
    const second = arena.read([paths[2]!]);
    assert.equal(second[0]!.buffer, kept, 'the next series reads into the same memory');
    assert.deepEqual(second[0], Buffer.alloc(2500, 3));
    await writeFile(join(dir, 'big'), Buffer.alloc(20_000, 9));
    const big = arena.read([join(dir, 'big')]);
    assert.notEqual(big[0]!.buffer, kept, 'a series over the limit gets its own buffer');
    assert.equal(arena.read([paths[0]!])[0]!.buffer, kept, 'and the kept one stays');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
