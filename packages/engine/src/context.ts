/**
 * What every repository-level module needs: the storage, the derived keys and the codec, plus
 * sealed-JSON helpers for metadata files (config, index, snapshots, locks, audit entries…).
 */
import type { Codec } from './compression.js';
import { open, seal, type RepoKeys } from './crypto.js';
import type { Storage } from './storage/types.js';

export interface RepoContext {
  readonly storage: Storage;
  readonly keys: RepoKeys;
  readonly codec: Codec;
}

/** What sealing needs: the encryption key and the codec (a worker thread has no storage). */
export interface SealContext {
  readonly keys: Pick<RepoKeys, 'encryption'>;
  readonly codec: Codec;
}

/** JSON → compressed → sealed bytes. */
export function sealJson(ctx: SealContext, value: unknown): Buffer {
  return seal(ctx.keys.encryption, ctx.codec.pack(Buffer.from(JSON.stringify(value))));
}

export function openJson<T>(ctx: RepoContext, sealed: Uint8Array, what: string): T {
  const plain = ctx.codec.unpack(open(ctx.keys.encryption, sealed, what), what);
  try {
    return JSON.parse(plain.toString('utf8')) as T;
  } catch (cause) {
    throw new Error(`${what}: authenticated but not valid JSON`, { cause });
  }
}

export async function putSealedJson(ctx: RepoContext, key: string, value: unknown): Promise<void> {
  await ctx.storage.put(key, sealJson(ctx, value));
}

export async function getSealedJson<T>(ctx: RepoContext, key: string): Promise<T> {
  return openJson<T>(ctx, await ctx.storage.get(key), key);
}
