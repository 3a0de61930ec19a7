/**
 * The volume and hook modules (src/volumes/, src/hooks.ts) as this package's orchestrators call
 * them, behind a seam that tests can replace (setIntegrationModules).
 */
import type { KubeConfig, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { runHooks, type HookRecord, type RunHooksOptions } from './hooks.js';
import type { KubeObject } from './types.js';
import {
  prepareVolumeBackups,
  restoreVolumeData,
  type PreparedVolumeBackups,
  type VolumeBackupMode,
  type VolumeBackupOptions,
  type VolumeRecord,
  type VolumeRestoreOptions,
  type VolumeRestoreResult,
} from './volumes/index.js';

export type VolumeMode = VolumeBackupMode;
export type VolumeBackups = PreparedVolumeBackups;
export type { HookRecord, VolumeRecord, VolumeRestoreResult };

export interface VolumesModule {
  prepareVolumeBackups(kc: KubeConfig, namespace: string, pvcs: KubeObject[], opts: VolumeBackupOptions): Promise<PreparedVolumeBackups>;
  restoreVolumeData(kc: KubeConfig, namespace: string, pvcName: string, data: NodeJS.ReadableStream, opts: VolumeRestoreOptions): Promise<VolumeRestoreResult>;
}

export interface HooksModule {
  runHooks(kc: KubeConfig, namespace: string, pods: KubeObject[], phase: 'pre' | 'post', opts: RunHooksOptions): Promise<HookRecord[]>;
}

let volumesOverride: VolumesModule | null | undefined;
let hooksOverride: HooksModule | null | undefined;

/** The volume module (undefined when a test removed it). */
export async function loadVolumesModule(): Promise<VolumesModule | undefined> {
  if (volumesOverride !== undefined) return volumesOverride ?? undefined;
  return {
    prepareVolumeBackups: (kc, namespace, pvcs, opts) => prepareVolumeBackups(kc, namespace, pvcs as unknown as V1PersistentVolumeClaim[], opts),
    restoreVolumeData: (kc, namespace, pvc, data, opts) => restoreVolumeData(kc, namespace, pvc, data, opts),
  };
}

export async function loadHooksModule(): Promise<HooksModule | undefined> {
  if (hooksOverride !== undefined) return hooksOverride ?? undefined;
  return { runHooks: (kc, namespace, pods, phase, opts) => runHooks(kc, namespace, pods as unknown as V1Pod[], phase, opts) };
}

/** Tests: replace the modules (null: absent; undefined: the real ones). */
export function setIntegrationModules(modules: { volumes?: VolumesModule | null; hooks?: HooksModule | null }): void {
  volumesOverride = modules.volumes;
  hooksOverride = modules.hooks;
}
