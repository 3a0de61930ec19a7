/**
 * Where the chunk worker threads' script is and how many of them to start. Light on purpose
 * (nothing of the engine is imported): prestart.ts starts threads before the engine loads.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * The compiled worker script. Under a test runner the engine runs from its TypeScript sources,
 * where no `.js` sibling exists; then the built copy in dist/ is used, if there is one.
 */
export function workerScript(): URL | undefined {
  const here = new URL('./worker-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL('../../dist/pipeline/worker-thread.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : undefined;
}

/** Default worker count: one per CPU, at most 4. */
export function defaultWorkers(): number {
  return Math.min(4, Math.max(1, cpus().length));
}
