/**
 * Messages between the backup pipeline (main thread) and its chunk workers. A job is one byte
 * stream (a file region, a document, a tar stream). Workers cut and hash chunks and keep them
 * until the main thread — which owns the index — says which ones are new (`store`) and which are
 * known (`drop`); new ones are compressed, sealed and packed by the worker, which hands over
 * whole packs. Messages travel in batches (arrays), one `postMessage` per batch.
 */
import type { PackHeaderRow } from '../pack.js';
import type { ThreadWrites } from '../storage/types.js';
import type { ChunkerParams } from '../types.js';

export interface WorkerInit {
  idKey: Uint8Array;
  encryptionKey: Uint8Array;
  gearSeed: Uint8Array;
  chunker: ChunkerParams;
  compressionLevel: number;
  /** Target pack size: a worker hands a pack over once it holds this many bytes. */
  packSize: number;
  /**
   * Where the worker stores its packs itself (a directory repository, Storage.threadWrites);
   * without it, packs are handed over to the main thread (`pack`).
   */
  packStore?: ThreadWrites;
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
  /** The backup stops: seal nothing more, answer `drained` once the packs being stored are. */
  | { t: 'drain' }
  /** The target files of a restore; spans refer to them by index. */
  | { t: 'files'; files: RestoreFile[]; maxOpenFiles: number; direct: boolean }
  | SpanRequest;

/** A file a restore writes (see span-writer.ts). */
export interface RestoreFile {
  path: string;
  mode: number;
  mtime: number;
  /**
   * All its blobs are in one span: the worker given that span sets the file's mode and times
   * after its last write; otherwise the main thread does. The main thread creates every file
   * before a worker writes to it (restore-targets.ts).
   */
  finish: boolean;
}

/**
 * Restore the blobs of one span of a pack into the target files: read the span from the pack
 * file `pack` (a local path), or take `data` (the span's bytes, transferred).
 */
export interface SpanRequest {
  t: 'span';
  req: number;
  packId: string;
  pack?: string;
  offset: number;
  length: number;
  data?: Uint8Array;
  /** Offsets relative to the span; `places` is a flat list of (file index, file offset). */
  blobs: Array<{ id: string; offset: number; length: number; plain: number; places: number[] }>;
}

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
  /** A finished data pack the worker stored itself (`packStore`), `bytes` long. */
  | { t: 'stored'; id: string; rows: PackHeaderRow[]; bytes: number }
  /** Answers `flush` once the last pack is handed over or stored. */
  | { t: 'flushed' }
  | { t: 'drained' }
  /** A span restored: its plaintext bytes, or what went wrong. */
  | {
      t: 'span';
      req: number;
      bytes: number;
      error?: { message: string; integrity: boolean; code?: string };
    }
  /**
   * The worker failed: `code` is the engine error code of a failed pack write (its message is the
   * storage's own); `exited` when the thread itself is gone.
   */
  | { t: 'error'; message: string; code?: string; exited?: boolean };

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
