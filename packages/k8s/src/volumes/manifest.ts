/**
 * Volume manifests: every entry of a volume (path, type, mode, size, SHA-256 of the content,
 * symlink target) — computed from a tar stream, either a backup item or a live PVC read through
 * a mover. Comparing the two is how a restore test checks volume data.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

import type { KubeConfig } from '@kubernetes/client-node';
import tarStream from 'tar-stream';

import { openExec } from '../exec.js';
import { TAR_CREATE } from './backup.js';
import { deletePod, startMover, waitPodsGone } from './mover.js';
import { abortError } from './util.js';

export interface ManifestEntry {
  /** Relative to the volume root, without `./` (directories without a trailing slash). */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'other';
  mode: number;
  size: number;
  sha256?: string;
  linkname?: string;
  mtime?: number;
}

export interface VolumeManifest {
  entries: ManifestEntry[];
  files: number;
  bytes: number;
}

function normalize(name: string): string {
  return name
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/');
}

/** Reads a tar stream to its end and lists its entries (sorted by path). */
export async function tarManifest(stream: AsyncIterable<Uint8Array> | NodeJS.ReadableStream): Promise<VolumeManifest> {
  const extract = tarStream.extract();
  const source = Readable.from(stream as AsyncIterable<Uint8Array>);
  const feed = (async () => {
    for await (const chunk of source) {
      if (!extract.write(chunk as Buffer)) await new Promise<void>((resolve) => extract.once('drain', () => resolve()));
    }
    extract.end(undefined);
  })().catch((err: unknown) => {
    extract.destroy(err as Error);
  });
  const entries: ManifestEntry[] = [];
  let bytes = 0;
  let files = 0;
  for await (const e of extract) {
    const h = e.header;
    const path = normalize(h.name);
    if (h.type === 'file' || h.type === 'contiguous-file') {
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of e) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      files++;
      bytes += size;
      entries.push({ path, type: 'file', mode: h.mode & 0o7777, size, sha256: hash.digest('hex'), mtime: h.mtime?.getTime() });
    } else {
      e.resume();
      if (path === '') continue;
      const type = h.type === 'directory' ? 'directory' : h.type === 'symlink' ? 'symlink' : h.type === 'link' ? 'link' : 'other';
      entries.push({ path, type, mode: h.mode & 0o7777, size: 0, ...(h.linkname ? { linkname: type === 'link' ? normalize(h.linkname) : h.linkname } : {}), mtime: h.mtime?.getTime() });
    }
  }
  await feed;
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, files, bytes };
}

/** Differences between two manifests (empty when equal), as readable lines. */
export function compareManifests(expected: VolumeManifest, actual: VolumeManifest, options: { modes?: boolean; mtimes?: boolean } = {}): string[] {
  const diffs: string[] = [];
  const got = new Map(actual.entries.map((e) => [e.path, e]));
  for (const want of expected.entries) {
    const have = got.get(want.path);
    got.delete(want.path);
    if (!have) {
      diffs.push(`missing: ${want.path}`);
      continue;
    }
    if (have.type !== want.type) diffs.push(`type differs: ${want.path} (${want.type} → ${have.type})`);
    else if (want.type === 'file' && (have.sha256 !== want.sha256 || have.size !== want.size)) diffs.push(`content differs: ${want.path}`);
    else if (want.type === 'symlink' && have.linkname !== want.linkname) diffs.push(`link target differs: ${want.path} (${want.linkname} → ${have.linkname})`);
    if ((options.modes ?? true) && have.type === want.type && want.type !== 'symlink' && have.mode !== want.mode) {
      diffs.push(`mode differs: ${want.path} (${want.mode.toString(8)} → ${have.mode.toString(8)})`);
    }
    if (options.mtimes && want.type === 'file' && have.mtime !== want.mtime) diffs.push(`mtime differs: ${want.path}`);
  }
  for (const extra of got.keys()) diffs.push(`unexpected: ${extra}`);
  return diffs;
}

/**
 * The manifest of a live PVC: a read-only mover pod streams `tar cf -` of it and we hash the
 * entries on the fly (nothing is stored). The mover is deleted afterwards.
 */
export async function readVolumeManifest(
  kc: KubeConfig,
  namespace: string,
  pvcName: string,
  opts: { moverImage?: string; signal?: AbortSignal; startTimeoutMs?: number; timeoutMs?: number } = {},
): Promise<VolumeManifest> {
  let created: string | undefined;
  try {
    const mover = await startMover(kc, namespace, pvcName, {
      image: opts.moverImage,
      readOnly: true,
      purpose: 'verify',
      startTimeoutMs: opts.startTimeoutMs,
      signal: opts.signal,
      onCreated: (name) => (created = name),
    });
    const session = openExec(kc, { namespace, pod: mover.name, container: mover.container }, TAR_CREATE, {
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
      maxBuffer: 64 * 1024,
    });
    const [manifest, result] = await Promise.all([tarManifest(session.stdout), session.result]);
    if (result.exitCode !== 0) {
      throw new Error(`tar in ${namespace}/${mover.name} exited with code ${result.exitCode}: ${result.stderr.toString('utf8').trim()}`);
    }
    return manifest;
  } catch (err) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    throw err;
  } finally {
    if (created) {
      await deletePod(kc, namespace, created).catch(() => {});
      await waitPodsGone(kc, namespace, [created]).catch(() => {});
    }
  }
}
