/**
 * Mover pods: short-lived pods that mount one PVC at /data and idle (`sleep`) while we run
 * `tar` in them over exec.
 *
 * The image must have `tar` and `sleep` on its PATH (no shell needed): the default
 * `busybox:1.36` does. On a real cluster, pick an image your registry policy allows (opts.moverImage) that
 * has both; distroless images do not work.
 *
 * The pod is pinned (node affinity) to the node of a running pod that already mounts the PVC,
 * so that ReadWriteOnce volumes can be mounted a second time on the same node. A
 * ReadWriteOncePod volume in use cannot be mounted by a mover: use the snapshot method.
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';

import { COMPONENT_LABEL, MANAGED_BY, MANAGED_BY_LABEL, PVC_ANNOTATION, errorMessage, generatedName, isNotFound, pollUntil, sleep } from './util.js';

export const DEFAULT_MOVER_IMAGE = 'busybox:1.36';
export const MOVER_CONTAINER = 'mover';
export const MOVER_PREFIX = 'kubectl-backup-mover-';
/** How long a mover idles before it exits by itself (a leaked mover ends on its own). */
export const MOVER_LIFETIME_SECONDS = 6 * 3600;
export const DEFAULT_MOVER_START_TIMEOUT_MS = 5 * 60_000;

export interface MoverOptions {
  image?: string;
  /** Mount the PVC read-only (backup) or read-write (restore). */
  readOnly: boolean;
  /** What the mover is for, in its labels: backup, restore, verify. */
  purpose: string;
  /** How long to wait for the pod to run (default 5 min). */
  startTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called with the pod's name right after it was created (before it runs): for cleanup. */
  onCreated?(name: string): void;
}

export interface Mover {
  namespace: string;
  name: string;
  container: string;
  pvc: string;
  /** The node the mover runs on. */
  nodeName?: string;
}

export class MoverError extends Error {
  override readonly name = 'MoverError';
}

const WAITING_FATAL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'CrashLoopBackOff', 'RunContainerError']);

/** The node of a running pod that mounts the claim, if any. */
async function nodeOfClaimUser(core: CoreV1Api, namespace: string, claim: string): Promise<string | undefined> {
  try {
    const pods = await core.listNamespacedPod({ namespace });
    for (const p of pods.items) {
      if (p.status?.phase !== 'Running' || !p.spec?.nodeName) continue;
      if (p.spec.volumes?.some((v) => v.persistentVolumeClaim?.claimName === claim)) return p.spec.nodeName;
    }
  } catch {
    // no permission to list pods: let the scheduler choose
  }
  return undefined;
}

export function moverPodSpec(namespace: string, name: string, claim: string, options: Pick<MoverOptions, 'image' | 'readOnly' | 'purpose'>, nodeName?: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [COMPONENT_LABEL]: `volume-${options.purpose}` },
      annotations: { [PVC_ANNOTATION]: claim },
    },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(nodeName
        ? {
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
                },
              },
            },
            tolerations: [{ operator: 'Exists' }],
          }
        : {}),
      containers: [
        {
          name: MOVER_CONTAINER,
          image: options.image ?? DEFAULT_MOVER_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', String(MOVER_LIFETIME_SECONDS)],
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '1', memory: '256Mi' } },
          // root (the image's user) reads every file; nothing more is needed
          securityContext: { allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } },
          volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: options.readOnly }],
        },
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim, readOnly: options.readOnly } }],
    },
  };
}

/** Why a pod is not running yet, for error messages. */
async function diagnose(core: CoreV1Api, namespace: string, name: string, claim: string): Promise<string> {
  const parts: string[] = [];
  try {
    const pod = await core.readNamespacedPod({ name, namespace });
    parts.push(`phase ${pod.status?.phase ?? 'unknown'}`);
    for (const c of pod.status?.conditions ?? []) {
      if (c.status !== 'True' && c.message) parts.push(`${c.type}: ${c.message}`);
    }
    for (const cs of pod.status?.containerStatuses ?? []) {
      const w = cs.state?.waiting;
      if (w?.reason) parts.push(`${w.reason}${w.message ? `: ${w.message}` : ''}`);
    }
  } catch (err) {
    parts.push(`pod unreadable: ${errorMessage(err)}`);
  }
  try {
    const pvc = await core.readNamespacedPersistentVolumeClaim({ name: claim, namespace });
    parts.push(`PVC ${claim} is ${pvc.status?.phase ?? 'unknown'}`);
  } catch (err) {
    parts.push(`PVC ${claim}: ${errorMessage(err)}`);
  }
  return parts.join('; ');
}

/**
 * Creates a mover pod for `claim` and waits until it runs. On failure (timeout, image pull
 * errors, abort) the pod is deleted before the error is thrown.
 */
export async function startMover(kc: KubeConfig, namespace: string, claim: string, options: MoverOptions): Promise<Mover> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = generatedName(MOVER_PREFIX, claim);
  const nodeName = await nodeOfClaimUser(core, namespace, claim);
  try {
    await core.createNamespacedPod({ namespace, body: moverPodSpec(namespace, name, claim, options, nodeName) });
  } catch (err) {
    throw new MoverError(`cannot create mover pod for PVC ${namespace}/${claim}: ${errorMessage(err)}`);
  }
  options.onCreated?.(name);
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_MOVER_START_TIMEOUT_MS;
  try {
    const pod = await pollUntil<V1Pod>(
      async () => {
        const pod = await core.readNamespacedPod({ name, namespace });
        const phase = pod.status?.phase;
        if (phase === 'Running') return pod;
        if (phase === 'Succeeded' || phase === 'Failed') {
          throw new MoverError(`mover pod ${namespace}/${name} ended (${phase}) before it could be used`);
        }
        for (const cs of pod.status?.containerStatuses ?? []) {
          const reason = cs.state?.waiting?.reason;
          if (reason && WAITING_FATAL.has(reason)) {
            throw new MoverError(
              `mover pod ${namespace}/${name} cannot start: ${reason}${cs.state?.waiting?.message ? `: ${cs.state.waiting.message}` : ''} (image ${options.image ?? DEFAULT_MOVER_IMAGE}; set the mover image)`,
            );
          }
        }
        return undefined;
      },
      {
        timeoutMs,
        signal: options.signal,
        onTimeout: async () =>
          new MoverError(
            `mover pod ${namespace}/${name} for PVC ${claim} did not start within ${Math.round(timeoutMs / 1000)}s (${await diagnose(core, namespace, name, claim)})`,
          ),
      },
    );
    return { namespace, name, container: MOVER_CONTAINER, pvc: claim, nodeName: pod.spec?.nodeName };
  } catch (err) {
    await deletePod(kc, namespace, name).catch(() => {});
    if (err instanceof MoverError || (err as { name?: string }).name === 'AbortError') throw err;
    throw new MoverError(`mover pod ${namespace}/${name} for PVC ${claim}: ${errorMessage(err)}`);
  }
}

/** Deletes a pod (grace period 0); a missing pod is fine. */
export async function deletePod(kc: KubeConfig, namespace: string, name: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Waits (bounded) until the named pods are gone; returns the names still present. */
export async function waitPodsGone(kc: KubeConfig, namespace: string, names: string[], timeoutMs = 15_000): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  let left = [...names];
  const deadline = Date.now() + timeoutMs;
  while (left.length > 0 && Date.now() < deadline) {
    const still: string[] = [];
    for (const name of left) {
      try {
        await core.readNamespacedPod({ name, namespace });
        still.push(name);
      } catch (err) {
        if (!isNotFound(err)) still.push(name);
      }
    }
    left = still;
    if (left.length > 0) await sleep(200);
  }
  return left;
}
