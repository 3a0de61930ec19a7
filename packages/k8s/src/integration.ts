/**
 * The volume and hook modules (src/volumes/, src/hooks.ts) as this package's orchestrators call
 * them. They are loaded at run time, so backup and restore of resources work in a build without
 * them; then volume data is reported as not captured.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from './types.js';

export type VolumeMode = 'auto' | 'snapshot' | 'fs' | 'none';

export interface VolumeStream {
  /** `volumes/<pvc>.tar` */
  name: string;
  stream: AsyncIterable<Uint8Array>;
  mediaType: string;
}

/** How one PVC's data was captured (recorded in the manifest's `volumes`). */
export interface VolumeRecord {
  pvc: string;
  storageClass?: string;
  size?: string;
  method: string;
  item?: string;
  bytes?: number;
  [key: string]: unknown;
}

export interface VolumeBackups {
  streams: VolumeStream[];
  records(): VolumeRecord[];
  cleanup(): Promise<void>;
}

export interface VolumeRestoreRecord {
  pvc: string;
  [key: string]: unknown;
}

export interface HookRecord {
  [key: string]: unknown;
}

export interface VolumesModule {
  prepareVolumeBackups(
    kc: KubeConfig,
    namespace: string,
    pvcs: KubeObject[],
    opts: { mode: VolumeMode; moverImage?: string; parallel?: number; signal?: AbortSignal; onWarning?(msg: string): void },
  ): Promise<VolumeBackups>;
  restoreVolumeData(
    kc: KubeConfig,
    namespace: string,
    pvcName: string,
    data: NodeJS.ReadableStream,
    opts: { moverImage?: string; signal?: AbortSignal; onWarning?(msg: string): void; [key: string]: unknown },
  ): Promise<VolumeRestoreRecord>;
}

export interface HooksModule {
  runHooks(
    kc: KubeConfig,
    namespace: string,
    pods: KubeObject[],
    phase: 'pre' | 'post',
    opts: { signal?: AbortSignal; onWarning?(msg: string): void; [key: string]: unknown },
  ): Promise<HookRecord[]>;
}

// variables, so that the compiler does not require the files to exist
const VOLUMES_MODULE = './volumes/index.js';
const HOOKS_MODULE = './hooks.js';

async function optionalImport<T>(specifier: string, exportName: string): Promise<T | undefined> {
  try {
    const mod = (await import(specifier)) as Record<string, unknown>;
    return typeof mod[exportName] === 'function' ? (mod as T) : undefined;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

let volumesOverride: VolumesModule | null | undefined;
let hooksOverride: HooksModule | null | undefined;

/** The volume module, or undefined when this build has none. */
export async function loadVolumesModule(): Promise<VolumesModule | undefined> {
  if (volumesOverride !== undefined) return volumesOverride ?? undefined;
  return optionalImport<VolumesModule>(new URL(VOLUMES_MODULE, import.meta.url).href, 'prepareVolumeBackups');
}

export async function loadHooksModule(): Promise<HooksModule | undefined> {
  if (hooksOverride !== undefined) return hooksOverride ?? undefined;
  return optionalImport<HooksModule>(new URL(HOOKS_MODULE, import.meta.url).href, 'runHooks');
}

/** Tests: replace the modules (null: pretend they are absent; undefined: load normally). */
export function setIntegrationModules(modules: { volumes?: VolumesModule | null; hooks?: HooksModule | null }): void {
  volumesOverride = modules.volumes;
  hooksOverride = modules.hooks;
}
