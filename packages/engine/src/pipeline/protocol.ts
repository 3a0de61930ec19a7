/**
 * Messages between the backup pipeline (main thread) and its chunk workers. A job is one byte
 * stream (a file region, a document, a tar stream). Workers cut and hash chunks and keep them
 * until the main thread — which owns the index — says which ones are new (`store`) and which are
 * known (`drop`); new ones are compressed, sealed and packed by the worker, which hands over
 * whole packs. Messages travel in batches (arrays), one `postMessage` per batch.
 */
import type { PackHeaderRow } from '../pack.js';
import type { ChunkerParams } from '../types.js';

export interface WorkerInit {
  idKey: Uint8Array;
  encryptionKey: Uint8Array;
  gearSeed: Uint8Array;
  chunker: ChunkerParams;
  compressionLevel: number;
  /** Target pack size: a worker hands a pack over once it holds this many bytes. */
  packSize: number;
}

export type ToWorker =
  | { t: 'data'; job: number; data: Uint8Array; final: boolean }
  /**
   * Read `length` bytes of a file from `offset` in the worker (sync reads, in segments) and chunk
   * them as one job; with `toEof`, read on to the end of the file.
   */
  | { t: 'file'; job: number; path: string; offset: number; length: number; toEof: boolean }
  | { t: 'resolve'; store: string[]; drop: string[] }
  /** Hand over the pack being filled (if any), then answer `flushed`. */
  | { t: 'flush' }
  /** The buffer of an uploaded pack, given back for the next one. */
  | { t: 'recycle'; buffer: ArrayBuffer }
  /** Authenticate, decompress and id-check blobs lying at the given offsets of `data` (restore). */
  | {
      t: 'decode';
      req: number;
      data: Uint8Array;
      blobs: Array<{ id: string; offset: number; length: number }>;
    };

export interface ChunkRef {
  id: string;
  length: number;
}

/** Chunks cut from one piece of a job, in order; `final` on the job's last piece. */
export interface ChunkResult {
  job: number;
  chunks: ChunkRef[];
  final: boolean;
  error?: string;
}

export type FromWorker =
  | { t: 'chunks'; results: ChunkResult[] }
  /** A finished data pack: `data` is a whole buffer of its own (transferred). */
  | { t: 'pack'; data: Uint8Array; rows: PackHeaderRow[] }
  | { t: 'flushed' }
  | { t: 'decoded'; req: number; plains: Uint8Array[]; error?: string }
  | { t: 'error'; message: string };

export interface Outgoing<M> {
  msg: M;
  transfer: ArrayBuffer[];
}

/** What a worker needs from a repository: keys, chunker parameters, compression, pack size. */
export function workerInit(repo: {
  keys: { id: Uint8Array; encryption: Uint8Array; gearSeed: Uint8Array };
  config: { chunker: ChunkerParams; compression: { level: number }; packSize: number };
}): WorkerInit {
  return {
    idKey: repo.keys.id,
    encryptionKey: repo.keys.encryption,
    gearSeed: repo.keys.gearSeed,
    chunker: repo.config.chunker,
    compressionLevel: repo.config.compression.level,
    packSize: repo.config.packSize,
  };
}
