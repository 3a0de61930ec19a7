/**
 * kube-sim: a Kubernetes API server simulator that real clients (kubectl, client-node) accept.
 *
 *   const sim = await KubeSim.start({ dataDir });
 *   // sim.url, sim.kubeconfigPath (contexts admin, dev, viewer), sim.caPath
 *   await sim.stop();
 */
export { KubeSim, type KubeSimOptions, type RunningKubeSim } from './sim.js';
export { FailureInjector, type FailureRule } from './failures.js';
export { seedDirectory, readManifests, type SeedResult } from './seed.js';
export { ApiError } from './store/errors.js';
export type { Store } from './store/store.js';
export { Registry } from './discovery/registry.js';
export { CSI_DRIVER, SNAPSHOT_CLASS } from './store/bootstrap.js';
export { DEFAULT_STORAGE_CLASS } from './store/defaults.js';
export { DEV_NAMESPACE } from './auth/users.js';
export type * from './store-api.js';
export { startTestSim, kubectlBinaries, KUBECTL_DIR, type TestSim } from './testing.js';
