/** Builds the plugin (and the engine) before the tests, which run the built executable. */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', fileURLToPath(new URL('../..', import.meta.url))], {
    stdio: 'inherit',
  });
}
