/** Where `npm run demo` works and what it prints for a person to use by hand. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The root of the clone (this file is `kubectl-plugin/dist/demo/paths.js` once built). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The repository password of the demo: a demo-only default, printed as such. */
export const DEMO_PASSWORD = 'demo';

export interface DemoPaths {
  /** `.tmp/demo` in the clone; KUBECTL_BACKUP_DEMO_DIR moves it (the demo's own test). */
  dir: string;
  /** The fixture manifests with their namespace set, handed to `kube-sim serve --seed`. */
  seed: string;
  /** kube-sim's state directory. */
  cluster: string;
  kubeconfig: string;
  repository: string;
  /** kube-sim's output. */
  simLog: string;
  /** kube-sim's process id while it runs (to stop one left by a killed demo). */
  simPid: string;
  /** `node_modules/.bin` of the clone: `kubectl-backup` for kubectl's plugin discovery. */
  binDir: string;
  /** The copied real applications (see test/fixtures/SOURCES.md). */
  fixtures: string;
}

export function demoPaths(env: NodeJS.ProcessEnv): DemoPaths {
  const dir = path.resolve(env.KUBECTL_BACKUP_DEMO_DIR || path.join(ROOT, '.tmp', 'demo'));
  return {
    dir,
    seed: path.join(dir, 'seed'),
    cluster: path.join(dir, 'cluster'),
    kubeconfig: path.join(dir, 'kubeconfig'),
    repository: path.join(dir, 'repository'),
    simLog: path.join(dir, 'kube-sim.log'),
    simPid: path.join(dir, 'kube-sim.pid'),
    binDir: path.join(ROOT, 'node_modules', '.bin'),
    fixtures: path.join(ROOT, 'test', 'fixtures', 'apps'),
  };
}
