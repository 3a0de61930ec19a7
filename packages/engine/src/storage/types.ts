/**
 * The storage contract every backend implements (directory, S3, memory) and every wrapper
 * (retry, read-only, fault injection) preserves. The repository above it relies on exactly this:
 *
 * - Keys are relative, `/`-separated paths made of `[A-Za-z0-9._-]` segments (e.g.
 *   `data/3f/3fa2…`, `config`). A backend maps them to its own namespace (a directory, a bucket
 *   prefix) and never lets a key escape it.
 * - `put` is atomic: a reader sees either no object or the whole object, never a prefix; a put
 *   that fails leaves no object behind (or the previous one, if the key existed). After `put`
 *   resolves, `get`, `stat` and `list` see the object (read-after-write).
 * - `put` overwrites. The repository only overwrites content-addressed keys (same bytes) and
 *   lock files it owns; it never depends on conditional writes (s3rver and some S3-compatible
 *   stores ignore `If-None-Match`).
 * - `get` with a range returns exactly `length` bytes starting at `offset`, or throws if the
 *   object is shorter. A missing key throws `NotFoundError` (from ../errors.js) — never any
 *   other error type for "does not exist".
 * - `list(prefix)` yields every object whose key starts with `prefix` (a directory prefix ends
 *   with `/`), in no particular order, with sizes. Listing a missing prefix yields nothing.
 * - `delete` of a missing key succeeds (idempotent).
 * - All methods may be called concurrently.
 */
export interface ObjectInfo {
  key: string;
  size: number;
}

export interface ByteRange {
  offset: number;
  length: number;
}

/** What a thread needs to write into a directory backend on its own (`Storage.threadWrites`). */
export interface ThreadWrites {
  /** The backend's root directory (absolute). */
  root: string;
  /** Whether large objects are written with direct I/O. */
  directWrites: boolean;
}

export interface Storage {
  /** Human-readable location for messages, without credentials (e.g. `s3://bucket/prefix`). */
  readonly location: string;
  get(key: string, range?: ByteRange): Promise<Buffer>;
  /** Streams an object; used for large restores and copies. */
  getStream(key: string): Promise<NodeJS.ReadableStream>;
  put(key: string, data: Buffer | Uint8Array): Promise<void>;
  stat(key: string): Promise<ObjectInfo>;
  /** True if the key exists. */
  exists(key: string): Promise<boolean>;
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(key: string): Promise<void>;
  /**
   * Optional: the path of the plain file holding `key`, for backends that keep each object in a
   * file of its own (the directory backend), so worker threads can read objects directly. The
   * file may not exist. Wrappers that must see every read (fault injection) do not offer it.
   */
  localPath?(key: string): string;
  /**
   * Optional: how another thread can write objects into this storage itself, for backends that
   * keep each object in a file of its own (the directory backend): a backup's worker threads then
   * store the packs they make without handing them over. Wrappers that must see every write
   * (read-only, fault injection) do not offer it.
   */
  threadWrites?(): ThreadWrites | undefined;
  /** Releases connections and handles. */
  close(): Promise<void>;
}
