/** Program name and version recorded in snapshots and audit entries. */
export const VERSION = '0.1.0';
export const PROGRAM = `kubectl-backup ${VERSION}`;
