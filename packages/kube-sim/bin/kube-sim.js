#!/usr/bin/env node
// The `kube-sim` command (a committed, executable file so that npm links it even before the
// TypeScript build has produced dist/): runs dist/cli.js.
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    console.error(`kube-sim: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
