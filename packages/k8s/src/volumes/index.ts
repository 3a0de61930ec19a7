export * from './backup.js';
export * from './restore.js';
export * from './manifest.js';
export {
  DEFAULT_MOVER_IMAGE,
  MOVER_PREFIX,
  MOVER_CONTAINER,
  MOVER_LIFETIME_SECONDS,
  MoverError,
  moverPodSpec,
  startMover,
  deletePod,
  waitPodsGone,
  type Mover,
  type MoverOptions,
} from './mover.js';
export {
  SNAPSHOT_PREFIX,
  CLONE_PREFIX,
  SnapshotError,
  classForDriver,
  listSnapshotClasses,
  type SnapshotClassInfo,
} from './snapshots.js';
export { MANAGED_BY, MANAGED_BY_LABEL, PVC_ANNOTATION } from './util.js';
export { removeLeftovers, type Leftover, type LeftoverOptions } from './leftovers.js';
