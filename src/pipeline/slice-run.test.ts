import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SliceRun } from './slice-run.js';

const AXIAL = '1\\0\\0\\0\\1\\0';

test('an even run in any arrival order is contiguous; fewer than three slices prove nothing', () => {
  const run = new SliceRun();
  run.add('a', '0\\0\\10', AXIAL);
  run.add('b', '0\\0\\0', AXIAL);
  assert.equal(run.contiguous(), false);
  run.add('c', '0\\0\\5', AXIAL);
  assert.equal(run.contiguous(), true);
  run.add('d', '0\\0\\20', AXIAL);
  assert.equal(run.contiguous(), false, 'a hole at 15');
});

test('a tilted gantry: positions step off the normal, locations along it stay even', () => {
  const t = (20 * Math.PI) / 180;
  const orientation = `1\\0\\0\\0\\${Math.cos(t).toFixed(6)}\\${(-Math.sin(t)).toFixed(6)}`;
  const run = new SliceRun();
  // Slices 5 mm apart along z (table steps), the image planes tilted about x.
  for (let k = 0; k < 6; k++) run.add(`s${k}`, `-100\\-100\\${k * 5}`, orientation);
  assert.equal(run.contiguous(), true);
});

test('a replaced instance moves instead of counting twice; localizers and non-images are ignored', () => {
  const run = new SliceRun();
  for (let k = 0; k < 4; k++) run.add(`s${k}`, `0\\0\\${k * 2.5}`, AXIAL);
  run.add('s2', '0\\0\\5', AXIAL);
  assert.equal(run.slices, 4);
  run.add('loc', '0\\-200\\0', '1\\0\\0\\0\\0\\-1');
  run.add('sr', null, null);
  assert.equal(run.contiguous(), true);
  run.add('dup', '0\\0\\5', AXIAL);
  assert.equal(run.contiguous(), false, 'two slices at one location');
});
