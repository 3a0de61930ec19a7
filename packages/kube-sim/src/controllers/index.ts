/**
 * kube-sim's controllers: what makes workloads come up on the simulated single node.
 * The core starts each with the shared `SimContext` and stops them on shutdown.
 */
import type { Controller } from '../store-api.js';
import { EndpointsController } from './endpoints.js';
import { PodController } from './pods.js';
import { SnapshotController } from './snapshots.js';
import { VolumeController } from './volumes.js';
import { workloadControllers } from './workloads.js';

export { imageID, normalizeImage } from './util.js';
export { volumeDir, snapshotDir } from './volumes.js';

export function createControllers(): Controller[] {
  return [...workloadControllers(), new PodController(), new VolumeController(), new SnapshotController(), new EndpointsController()];
}
