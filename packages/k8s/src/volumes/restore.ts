/**
 * Restoring a volume's data: a mover pod mounts the (new) PVC read-write at /data and
 * `tar xf - -C /data` reads the backup's tar stream over exec stdin.
 *
 * The mover is the PVC's first consumer, so a PVC of a WaitForFirstConsumer class binds
 * through it; an Immediate one is waited for (the pod runs once the PVC is Bound). The exit
 * status of tar decides `ok`; the pod is deleted in every case. Failures are returned
 * (`ok: false`, `error`), aborts are thrown.
 */
import { CoreV1Api, StorageV1Api, type KubeConfig } from '@kubernetes/client-node';

import { execInPod } from '../exec.js';
import { deletePod, startMover, waitPodsGone, type Mover } from './mover.js';
import { abortError, errorMessage, isNotFound } from './util.js';

/** The tar command a restore mover runs. */
export const TAR_EXTRACT = ['tar', 'xf', '-', '-C', '/data'];

export interface VolumeRestoreOptions {
  moverImage?: string;
  signal?: AbortSignal;
  /** Upper bound of the tar extraction (default none). */
  timeoutMs?: number;
  /** How long the mover may take to run, PVC binding included (default 5 min). */
  startTimeoutMs?: number;
  /** Told of problems that do not fail the restore (a mover pod that could not be deleted). */
  onWarning?(msg: string): void;
}

export interface VolumeRestoreResult {
  pvc: string;
  /** Bytes of tar fed to the mover. */
  bytes: number;
  ok: boolean;
  error?: string;
  durationMs?: number;
}

/** An async iterator over the data, with its first chunk already read. */
async function peek(data: NodeJS.ReadableStream | AsyncIterable<Uint8Array>): Promise<{ first?: Uint8Array; rest: AsyncIterator<Uint8Array> }> {
  const iterable = data as AsyncIterable<Uint8Array>;
  const it = iterable[Symbol.asyncIterator]();
  for (;;) {
    const r = await it.next();
    if (r.done) return { rest: it };
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    if (chunk.length > 0) return { first: chunk, rest: it };
  }
}

export async function restoreVolumeData(
  kc: KubeConfig,
  namespace: string,
  pvcName: string,
  data: NodeJS.ReadableStream,
  opts: VolumeRestoreOptions = {},
): Promise<VolumeRestoreResult> {
  const started = Date.now();
  const signal = opts.signal;
  const done = (r: Omit<VolumeRestoreResult, 'pvc' | 'durationMs'>): VolumeRestoreResult => ({ pvc: pvcName, ...r, durationMs: Date.now() - started });
  const destroy = () => (data as { destroy?: () => void }).destroy?.();

  const core = kc.makeApiClient(CoreV1Api);
  try {
    const pvc = await core.readNamespacedPersistentVolumeClaim({ name: pvcName, namespace });
    const className = pvc.spec?.storageClassName;
    if (pvc.status?.phase !== 'Bound' && className) {
      // a PVC whose class does not exist never binds: say so now rather than after a timeout
      const missing = await kc
        .makeApiClient(StorageV1Api)
        .readStorageClass({ name: className })
        .then(
          () => false,
          (err: unknown) => isNotFound(err),
        );
      if (missing) {
        destroy();
        return done({ bytes: 0, ok: false, error: `PVC ${namespace}/${pvcName} cannot bind: StorageClass ${className} does not exist` });
      }
    }
  } catch (err) {
    destroy();
    return done({ bytes: 0, ok: false, error: isNotFound(err) ? `PVC ${namespace}/${pvcName} does not exist` : errorMessage(err) });
  }

  let head: Awaited<ReturnType<typeof peek>>;
  try {
    head = await peek(data);
  } catch (err) {
    return done({ bytes: 0, ok: false, error: `cannot read the volume data from the backup: ${errorMessage(err)}` });
  }
  if (!head.first) return done({ bytes: 0, ok: false, error: 'the backup holds no data for this volume' });
  const first = head.first;
  const rest = head.rest;
  const input = (async function* () {
    yield first;
    for (;;) {
      const r = await rest.next();
      if (r.done) return;
      yield r.value;
    }
  })();

  let mover: Mover | undefined;
  let created: string | undefined;
  try {
    mover = await startMover(kc, namespace, pvcName, {
      image: opts.moverImage,
      readOnly: false,
      purpose: 'restore',
      startTimeoutMs: opts.startTimeoutMs,
      signal,
      onCreated: (name) => (created = name),
    });
    const result = await execInPod(kc, { namespace, pod: mover.name, container: mover.container }, TAR_EXTRACT, {
      stdin: input,
      signal,
      timeoutMs: opts.timeoutMs,
      maxBuffer: 64 * 1024,
    });
    if (result.exitCode !== 0) {
      const stderr = result.stderr.toString('utf8').trim().split('\n').slice(-5).join('; ');
      return done({ bytes: result.stdinBytes, ok: false, error: `tar exited with code ${result.exitCode}${stderr ? `: ${stderr}` : ''}` });
    }
    return done({ bytes: result.stdinBytes, ok: true });
  } catch (err) {
    if (signal?.aborted) throw abortError(signal);
    return done({ bytes: 0, ok: false, error: errorMessage(err) });
  } finally {
    destroy();
    const pod = mover?.name ?? created;
    if (pod) {
      await deletePod(kc, namespace, pod).catch((err: unknown) => opts.onWarning?.(`could not delete mover pod ${namespace}/${pod}: ${errorMessage(err)}`));
      // a ReadWriteOncePod volume is free only once the mover is gone
      const left = await waitPodsGone(kc, namespace, [pod]).catch(() => [pod]);
      if (left.length) opts.onWarning?.(`mover pod ${namespace}/${pod} is still terminating`);
    }
  }
}
