#!/usr/bin/env node
// Runs every compiled test (unit *.test.js and integration *.int.test.js) with node's test runner.
// `npm test` compiles first. Pass a substring to run only matching files: npm test -- dimse
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['dist/src', 'dist/test'];
const filter = process.argv.slice(2);

function walk(dir) {
  let out = [];
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

// tsc never removes what it compiled once: a test whose source was deleted or renamed would still
// run from dist/ here (and not in CI's clean clone). Only compiled tests with a source are run.
const compiled = roots.flatMap(walk);
const withSource = compiled.filter((f) => existsSync(f.replace(/^dist[\\/]/, '').replace(/\.js$/, '.ts')));
if (withSource.length < compiled.length) console.error(`run-tests: ${compiled.length - withSource.length} compiled test(s) in dist/ without a source skipped (stale build output)`);
const files = withSource.filter((f) => filter.length === 0 || filter.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error('no test files found under dist/: run `npm run build` first');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-timeout=300000', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
