/**
 * Messages between the backup pipeline (main thread) and its chunk workers. A job is one byte
 * stream (a file, a document, a tar stream). Workers cut, hash and keep chunks until the main
 * thread — which owns the index — says which ones are new (`store`) and which are known (`drop`).
 */
import type { ChunkerParams } from '../types.js';

export interface WorkerInit {
  idKey: Uint8Array;
  encryptionKey: Uint8Array;
  gearSeed: Uint8Array;
  chunker: ChunkerParams;
  compressionLevel: number;
}

export type ToWorker =
  | { t: 'data'; job: number; data: Uint8Array; final: boolean }
  /**
   * Read `length` bytes of a file from `offset` in the worker (sync reads, in segments) and chunk
   * them as one job; with `toEof`, read on to the end of the file.
   */
  | { t: 'file'; job: number; path: string; offset: number; length: number; toEof: boolean }
  | { t: 'resolve'; store: string[]; drop: string[] }
  /** Authenticate, decompress and id-check blobs lying at the given offsets of `data` (restore). */
  | { t: 'decode'; req: number; data: Uint8Array; blobs: Array<{ id: string; offset: number; length: number }> };

export interface ChunkRef {
  id: string;
  length: number;
}

export interface SealedBlob {
  id: string;
  plainLength: number;
  data: Uint8Array;
}

export type FromWorker =
  | { t: 'chunks'; job: number; chunks: ChunkRef[]; final: boolean; error?: string }
  | { t: 'sealed'; blobs: SealedBlob[] }
  | { t: 'decoded'; req: number; plains: Uint8Array[]; error?: string }
  | { t: 'error'; message: string };

export interface Outgoing<M> {
  msg: M;
  transfer: ArrayBuffer[];
}

/** What a worker needs from a repository: keys, chunker parameters, compression level. */
export function workerInit(repo: {
  keys: { id: Uint8Array; encryption: Uint8Array; gearSeed: Uint8Array };
  config: { chunker: ChunkerParams; compression: { level: number } };
}): WorkerInit {
  return {
    idKey: repo.keys.id,
    encryptionKey: repo.keys.encryption,
    gearSeed: repo.keys.gearSeed,
    chunker: repo.config.chunker,
    compressionLevel: repo.config.compression.level,
  };
}
