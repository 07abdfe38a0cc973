#!/usr/bin/env node
// The medge command. The TypeScript sources are compiled to dist/ by `npm ci` (the prepare script).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`medge: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
