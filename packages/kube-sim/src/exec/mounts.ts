/**
 * Builds a container's file system view for exec: a per-container root file system under
 * `<dataDir>/pods/<uid>/<container>/rootfs`, and one mount per volumeMount — a PVC's bound PV
 * directory, a per-pod emptyDir, a shared hostPath stand-in under `<dataDir>/hostpath/`, and
 * read-only materialized configMap / secret / projected / downwardAPI files.
 */
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { chmod, lstat, mkdir, open, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { dirname, join, posix, sep } from 'node:path';

import type { KubeObject, SimContext } from '../store-api.js';
import { T } from '../controllers/util.js';
import { volumeDir } from '../controllers/volumes.js';
import type { Mount } from './vfs.js';

export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: {
      fieldRef?: { fieldPath: string };
      configMapKeyRef?: { name: string; key: string };
      secretKeyRef?: { name: string; key: string };
    };
  }>;
  envFrom?: Array<{ prefix?: string; configMapRef?: { name: string }; secretRef?: { name: string } }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>;
}

interface KeyItem {
  key: string;
  path: string;
  mode?: number;
}

interface VolumeSpec {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  emptyDir?: unknown;
  hostPath?: { path: string };
  configMap?: { name: string; items?: KeyItem[]; defaultMode?: number; optional?: boolean };
  secret?: { secretName: string; items?: KeyItem[]; defaultMode?: number; optional?: boolean };
  downwardAPI?: { items?: DownwardItem[]; defaultMode?: number };
  projected?: {
    defaultMode?: number;
    sources?: Array<{
      configMap?: { name: string; items?: KeyItem[]; optional?: boolean };
      secret?: { name: string; items?: KeyItem[]; optional?: boolean };
      downwardAPI?: { items?: DownwardItem[] };
      serviceAccountToken?: { path: string };
    }>;
  };
}

interface DownwardItem {
  path: string;
  fieldRef?: { fieldPath: string };
  mode?: number;
}

export class ExecSetupError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function safeRelative(p: string): string {
  const n = posix.normalize(p).replace(/^\/+/, '');
  if (n === '..' || n.startsWith('../')) throw new ExecSetupError(400, 'BadRequest', `invalid path ${p}`);
  return n === '.' ? '' : n;
}

async function writeIfChanged(path: string, data: Buffer, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const current = await readFile(path).catch(() => undefined);
  if (!current || !current.equals(data)) await writeFile(path, data);
  await chmod(path, mode);
}

/**
 * Creates `rel` under `base` (a directory the pod can write to) without following any symbolic
 * link the pod may have planted: whatever is not a directory on the way is replaced.
 */
async function ensureDirNoFollow(base: string, rel: string, mode = 0o755): Promise<string> {
  let cur = base;
  for (const part of rel.split('/').filter(Boolean)) {
    cur = join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (st && !st.isDirectory()) await rm(cur, { force: true, recursive: true });
    if (!st || !st.isDirectory()) await mkdir(cur, { mode });
  }
  return cur;
}

/** Writes a file in a pod-writable directory without following a planted symbolic link. */
async function writeNoFollow(path: string, data: Buffer, mode: number): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (st && !st.isFile()) await rm(path, { force: true, recursive: true });
  const handle = await open(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW, mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}

/** `subPath` inside a volume, refusing one that leaves it (through `..` or a symbolic link). */
async function subPathDir(volume: string, subPath: string): Promise<string> {
  const root = await realpath(volume);
  const dir = join(volume, safeRelative(subPath));
  await mkdir(dir, { recursive: true }).catch(() => {});
  const real = await realpath(dir).catch(() => '');
  if (real !== root && !real.startsWith(root + sep)) {
    throw new ExecSetupError(400, 'BadRequest', `subPath "${subPath}" leaves its volume`);
  }
  return real;
}

function fieldValue(pod: KubeObject, fieldPath: string): string {
  const m = pod.metadata;
  switch (fieldPath) {
    case 'metadata.name':
      return m.name ?? '';
    case 'metadata.namespace':
      return m.namespace ?? '';
    case 'metadata.uid':
      return m.uid ?? '';
    case 'metadata.labels':
      return Object.entries(m.labels ?? {}).map(([k, v]) => `${k}="${v}"`).join('\n');
    case 'metadata.annotations':
      return Object.entries(m.annotations ?? {}).map(([k, v]) => `${k}="${v}"`).join('\n');
    case 'spec.nodeName':
      return String((pod.spec as { nodeName?: string } | undefined)?.nodeName ?? '');
    case 'spec.serviceAccountName':
      return String((pod.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName ?? 'default');
    case 'status.podIP':
      return String((pod.status as { podIP?: string } | undefined)?.podIP ?? '');
    case 'status.hostIP':
      return String((pod.status as { hostIP?: string } | undefined)?.hostIP ?? '');
  }
  const label = /^metadata\.labels\['(.*)'\]$/.exec(fieldPath);
  if (label) return m.labels?.[label[1] as string] ?? '';
  const ann = /^metadata\.annotations\['(.*)'\]$/.exec(fieldPath);
  if (ann) return m.annotations?.[ann[1] as string] ?? '';
  return '';
}

/** Key/value data of a ConfigMap or Secret as bytes. */
function dataOf(obj: KubeObject | undefined, secret: boolean): Map<string, Buffer> | undefined {
  if (!obj) return undefined;
  const out = new Map<string, Buffer>();
  const data = (obj.data ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(data)) out.set(k, secret ? Buffer.from(v, 'base64') : Buffer.from(v));
  if (secret) for (const [k, v] of Object.entries((obj.stringData ?? {}) as Record<string, string>)) out.set(k, Buffer.from(v));
  else for (const [k, v] of Object.entries((obj.binaryData ?? {}) as Record<string, string>)) out.set(k, Buffer.from(v, 'base64'));
  return out;
}

async function writeKeys(dir: string, data: Map<string, Buffer>, items: KeyItem[] | undefined, mode: number): Promise<void> {
  const list: KeyItem[] = items ?? [...data.keys()].map((key) => ({ key, path: key }));
  for (const item of list) {
    const value = data.get(item.key);
    if (!value) continue;
    await writeIfChanged(join(dir, safeRelative(item.path)), value, item.mode ?? mode);
  }
}

export interface ContainerView {
  mounts: Mount[];
  env: Record<string, string>;
  cwd: string;
}

/** Prepares the directories of a container's view and returns its mount table. */
export async function containerView(ctx: SimContext, pod: KubeObject, container: ContainerSpec): Promise<ContainerView> {
  const uid = pod.metadata.uid ?? `${pod.metadata.namespace}-${pod.metadata.name}`;
  const podDir = join(ctx.dataDir, 'pods', uid);
  const rootfs = join(podDir, 'containers', container.name, 'rootfs');
  await mkdir(rootfs, { recursive: true });
  for (const d of ['bin', 'dev', 'etc', 'home', 'proc', 'root', 'sys', 'tmp', 'usr/bin', 'usr/sbin', 'var/log', 'var/tmp']) {
    await ensureDirNoFollow(rootfs, d);
  }
  await writeNoFollow(join(rootfs, 'etc', 'hostname'), Buffer.from(`${pod.metadata.name}\n`), 0o644);
  await chmod(await ensureDirNoFollow(rootfs, 'tmp'), 0o1777);

  const volumes = ((pod.spec as { volumes?: VolumeSpec[] } | undefined)?.volumes ?? []) as VolumeSpec[];
  const ns = pod.metadata.namespace;
  const store = ctx.store;
  const mounts: Mount[] = [{ path: '/', host: rootfs, readOnly: false }];
  for (const vm of container.volumeMounts ?? []) {
    const vol = volumes.find((v) => v.name === vm.name);
    if (!vol) throw new ExecSetupError(400, 'BadRequest', `volume "${vm.name}" not found in pod ${pod.metadata.name}`);
    let host: string;
    let readOnly = vm.readOnly === true;
    if (vol.persistentVolumeClaim) {
      const pvc = store.get(T.pvcs, ns, vol.persistentVolumeClaim.claimName);
      const pv = (pvc?.spec as { volumeName?: string } | undefined)?.volumeName;
      if (!pvc || !pv || (pvc.status as { phase?: string } | undefined)?.phase !== 'Bound') {
        throw new ExecSetupError(500, 'InternalError', `persistentvolumeclaim "${vol.persistentVolumeClaim.claimName}" is not bound`);
      }
      host = volumeDir(ctx.dataDir, pv);
      readOnly ||= vol.persistentVolumeClaim.readOnly === true;
    } else if (vol.hostPath) {
      const digest = createHash('sha256').update(vol.hostPath.path).digest('hex').slice(0, 16);
      host = join(ctx.dataDir, 'hostpath', `${vol.hostPath.path.replace(/[^A-Za-z0-9._-]+/g, '_')}-${digest}`);
    } else if (vol.configMap || vol.secret || vol.projected || vol.downwardAPI) {
      host = join(podDir, 'volumes', 'materialized', vol.name);
      readOnly = true;
      await mkdir(host, { recursive: true });
      if (vol.configMap) {
        const data = dataOf(store.get({ group: '', version: 'v1', resource: 'configmaps' }, ns, vol.configMap.name), false);
        if (data) await writeKeys(host, data, vol.configMap.items, vol.configMap.defaultMode ?? 0o644);
      } else if (vol.secret) {
        const data = dataOf(store.get({ group: '', version: 'v1', resource: 'secrets' }, ns, vol.secret.secretName), true);
        if (data) await writeKeys(host, data, vol.secret.items, vol.secret.defaultMode ?? 0o644);
      } else if (vol.downwardAPI) {
        for (const item of vol.downwardAPI.items ?? []) {
          if (item.fieldRef) {
            await writeIfChanged(join(host, safeRelative(item.path)), Buffer.from(fieldValue(pod, item.fieldRef.fieldPath)), item.mode ?? vol.downwardAPI.defaultMode ?? 0o644);
          }
        }
      } else if (vol.projected) {
        const mode = vol.projected.defaultMode ?? 0o644;
        for (const src of vol.projected.sources ?? []) {
          if (src.configMap) {
            const data = dataOf(store.get({ group: '', version: 'v1', resource: 'configmaps' }, ns, src.configMap.name), false);
            if (data) await writeKeys(host, data, src.configMap.items, mode);
          } else if (src.secret) {
            const data = dataOf(store.get({ group: '', version: 'v1', resource: 'secrets' }, ns, src.secret.name), true);
            if (data) await writeKeys(host, data, src.secret.items, mode);
          } else if (src.downwardAPI) {
            for (const item of src.downwardAPI.items ?? []) {
              if (item.fieldRef) await writeIfChanged(join(host, safeRelative(item.path)), Buffer.from(fieldValue(pod, item.fieldRef.fieldPath)), item.mode ?? mode);
            }
          } else if (src.serviceAccountToken) {
            await writeIfChanged(join(host, safeRelative(src.serviceAccountToken.path)), Buffer.from(`kube-sim-token-${uid}`), mode);
          }
        }
      }
    } else {
      // emptyDir and every other volume type: a per-pod directory
      host = join(podDir, 'volumes', 'dirs', vol.name);
    }
    await mkdir(host, { recursive: true });
    if (vm.subPath) host = await subPathDir(host, vm.subPath);
    const mountPath = posix.normalize(`/${vm.mountPath}`).replace(/(.)\/$/, '$1');
    // the mount point in the root file system (for `ls /`); PodFs resolves it either way
    await ensureDirNoFollow(rootfs, safeRelative(mountPath)).catch(() => {});
    mounts.push({ path: mountPath, host, readOnly });
  }

  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOSTNAME: pod.metadata.name ?? '',
    HOME: '/root',
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
  };
  const configMaps = { group: '', version: 'v1', resource: 'configmaps' };
  const secrets = { group: '', version: 'v1', resource: 'secrets' };
  for (const src of container.envFrom ?? []) {
    const data = src.configMapRef
      ? dataOf(store.get(configMaps, ns, src.configMapRef.name), false)
      : src.secretRef
        ? dataOf(store.get(secrets, ns, src.secretRef.name), true)
        : undefined;
    for (const [k, v] of data ?? []) env[`${src.prefix ?? ''}${k}`] = v.toString('utf8');
  }
  for (const e of container.env ?? []) {
    const from = e.valueFrom;
    if (e.value !== undefined) env[e.name] = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => env[n] ?? m);
    else if (from?.fieldRef) env[e.name] = fieldValue(pod, from.fieldRef.fieldPath);
    else if (from?.configMapKeyRef) {
      const v = dataOf(store.get(configMaps, ns, from.configMapKeyRef.name), false)?.get(from.configMapKeyRef.key);
      if (v) env[e.name] = v.toString('utf8');
    } else if (from?.secretKeyRef) {
      const v = dataOf(store.get(secrets, ns, from.secretKeyRef.name), true)?.get(from.secretKeyRef.key);
      if (v) env[e.name] = v.toString('utf8');
    }
  }
  const cwd = container.workingDir ? posix.normalize(`/${container.workingDir}`) : '/';
  // the runtime creates the working directory (when it is not inside a volume)
  if (!mounts.some((m) => m.path !== '/' && (cwd === m.path || cwd.startsWith(`${m.path}/`)))) {
    await ensureDirNoFollow(rootfs, safeRelative(cwd)).catch(() => {});
  }
  return { mounts, env, cwd };
}
