/** Public data types of the repository format (see docs/format.md). */

export const FORMAT_VERSION = 1;

export interface ChunkerParams {
  algorithm: 'fastcdc-gear32-v1';
  minSize: number;
  avgSize: number;
  maxSize: number;
}

/** The repository's self-description, stored sealed as `config`. */
export interface RepoConfig {
  version: typeof FORMAT_VERSION;
  id: string;
  created: string;
  chunker: ChunkerParams;
  contentId: 'hmac-sha256';
  compression: { algorithm: 'zstd'; level: number };
  encryption: 'aes-256-gcm';
  /** Target size of a pack file in bytes. */
  packSize: number;
  /**
   * Secrets that decide chunk boundaries and content ids (base64). Random per repository; a
   * repository initialised with another's identity gets the same ids for the same data, so
   * `copy` between them moves only missing blobs without reading the rest.
   */
  identity: { idKey: string; gearSeed: string };
}

export type BlobType = 'data' | 'tree';

export interface IndexEntry {
  id: string;
  type: BlobType;
  pack: string;
  offset: number;
  /** Sealed length inside the pack. */
  length: number;
  /** Plaintext length. */
  plainLength: number;
}

export type NodeType = 'file' | 'dir' | 'symlink';

/** One entry of a directory tree blob. Trees hold no extended attributes. */
export interface TreeNode {
  name: string;
  type: NodeType;
  mode: number;
  /** Modification time, ms since the epoch (fractional allowed). */
  mtime: number;
  size: number;
  /** Data blob ids in order (files). */
  content?: string[];
  /** Tree blob id (directories). */
  subtree?: string;
  /** Link target (symlinks). */
  target?: string;
  /** Inode and device, only used to detect unchanged files in the next backup. */
  inode?: number;
  ctime?: number;
}

export interface Tree {
  nodes: TreeNode[];
}

/** A named byte sequence in a snapshot: an in-memory document or a stream (e.g. a tar). */
export interface NamedItem {
  name: string;
  kind: 'document' | 'stream';
  size: number;
  content: string[];
  /** Optional media type, e.g. application/json or application/x-tar. */
  mediaType?: string;
}

export interface SnapshotStats {
  filesTotal: number;
  dirsTotal: number;
  itemsTotal: number;
  /** Plaintext bytes the snapshot references. */
  bytesTotal: number;
  /**
   * Plaintext bytes of data blobs (file and item content) this backup added to the repository,
   * comparable with bytesTotal; the metadata it added (trees) counts in storedBytesAdded only.
   */
  bytesAdded: number;
  /** Bytes this backup wrote to storage (compressed, encrypted, packed). */
  storedBytesAdded: number;
  blobsTotal: number;
  blobsAdded: number;
  durationMs: number;
}

export interface Snapshot {
  /** Storage name of the snapshot; filled in when loaded. */
  id: string;
  time: string;
  host: string;
  user: string;
  tags: string[];
  /** Source paths (directory backups) for display and grouping. */
  paths: string[];
  /** Root tree of a directory backup. */
  tree?: string;
  /** Tree-typed blob holding `{ items: NamedItem[] }`. */
  items?: string;
  parent?: string;
  /** Id in the repository this snapshot was copied from. */
  original?: string;
  stats: SnapshotStats;
  /** Things skipped or unreadable during the backup (the snapshot is still consistent). */
  warnings?: string[];
  program: string;
}

export type ProgressPhase = 'scan' | 'backup' | 'restore' | 'check' | 'prune' | 'copy';

/** One progress event: totals may grow while scanning. Rendered by the CLI/TUI, never printed here. */
export interface ProgressEvent {
  phase: ProgressPhase;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Plaintext bytes that were new to the repository (backup). */
  bytesAdded?: number;
  currentItem?: string;
  /** True on the last event of an operation. */
  done?: boolean;
}

export type ProgressListener = (event: ProgressEvent) => void;
