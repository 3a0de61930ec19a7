/**
 * A repository: storage + keys + config + index. `Repository.init` creates one, `open` unlocks
 * one with a password. Operations (backup, restore, check, prune…) are functions in their own
 * modules that take a Repository.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_CHUNKER, validateChunkerParams } from './chunker.js';
import { createZstdCodec, type Codec } from './compression.js';
import type { RepoContext } from './context.js';
import { getSealedJson, putSealedJson } from './context.js';
import { contentId, deriveKeys, newMasterSecret, open, randomId, type RepoKeys, type ScryptParams } from './crypto.js';
import { EngineError, IntegrityError, NoRepositoryError, NotFoundError, UsageError } from './errors.js';
import { currentUser, readKeyFiles, unlockMaster, writeKey, type KeyInfo } from './keys.js';
import { packKey } from './pack.js';
import { buildIndex, fetchIndexFiles, loadIndex, MasterIndex } from './repo-index.js';
import { BlobSaver, type SaverOptions } from './pipeline/blob-saver.js';
import { defaultWorkers } from './pipeline/endpoints.js';
import { SpareThreads } from './pipeline/spare-threads.js';
import type { Storage } from './storage/types.js';
import { FORMAT_VERSION, type BlobType, type ChunkerParams, type RepoConfig, type Tree } from './types.js';

export interface InitOptions {
  chunker?: Partial<ChunkerParams>;
  compressionLevel?: number;
  packSize?: number;
  /** scrypt cost; tests lower it to stay fast. */
  scrypt?: Partial<ScryptParams>;
  host?: string;
  user?: string;
  /** Share chunker parameters and content ids with this repository (for efficient `copy`). */
  identityFrom?: Repository;
}

export interface OpenOptions {
  host?: string;
  user?: string;
  /** Do not load the index (for commands that never touch blobs, e.g. key listing). */
  skipIndex?: boolean;
  /**
   * For a session that goes on to back up or restore data: start the chunk worker threads
   * (`true`: the default count) while the password is checked. The next backup or restore
   * takes them instead of starting its own; `close()` ends the ones left idle.
   */
  prestartWorkers?: boolean | number;
}

const DEFAULT_PACK_SIZE = 8 << 20;

export class Repository implements RepoContext {
  index: MasterIndex;
  readonly codec: Codec;
  readonly host: string;
  readonly user: string;

  readonly keys: RepoKeys;
  private currentKeyId: string;

  private constructor(
    readonly storage: Storage,
    private readonly master: Buffer,
    readonly config: RepoConfig,
    keyId: string,
    options: OpenOptions,
    /** Worker threads started by `open` for the next backup or restore to take. */
    readonly spareThreads = new SpareThreads(),
  ) {
    this.keys = {
      ...deriveKeys(master),
      id: Buffer.from(config.identity.idKey, 'base64'),
      gearSeed: Buffer.from(config.identity.gearSeed, 'base64'),
    };
    this.currentKeyId = keyId;
    this.codec = createZstdCodec(config.compression.level);
    this.index = new MasterIndex();
    this.host = options.host ?? hostname();
    this.user = options.user ?? currentUser();
  }

  /** The key file this session opened the repository with. */
  get keyId(): string {
    return this.currentKeyId;
  }

  get id(): string {
    return this.config.id;
  }

  static async init(storage: Storage, password: string, options: InitOptions = {}): Promise<Repository> {
    if (await storage.exists('config')) {
      throw new EngineError('EEXIST', `a repository already exists at ${storage.location}`);
    }
    const source = options.identityFrom?.config;
    const chunker = source ? source.chunker : { ...DEFAULT_CHUNKER, ...options.chunker };
    validateChunkerParams(chunker);
    const config: RepoConfig = {
      version: FORMAT_VERSION,
      id: randomId(),
      created: new Date().toISOString(),
      chunker,
      contentId: 'hmac-sha256',
      compression: { algorithm: 'zstd', level: options.compressionLevel ?? 3 },
      encryption: 'aes-256-gcm',
      packSize: options.packSize ?? DEFAULT_PACK_SIZE,
      identity: source?.identity ?? {
        idKey: randomBytes(32).toString('base64'),
        gearSeed: randomBytes(32).toString('base64'),
      },
    };
    const master = newMasterSecret();
    const keyId = await writeKey(storage, master, password, options);
    const repo = new Repository(storage, master, config, keyId, options);
    // The config is written last: a location with keys but no config is not yet a repository.
    await putSealedJson(repo, 'config', config);
    return repo;
  }

  static async open(storage: Storage, password: string, options: OpenOptions = {}): Promise<Repository> {
    if (!(await storage.exists('config'))) throw new NoRepositoryError(storage.location);
    const spares = new SpareThreads();
    const { prestartWorkers } = options;
    try {
      if (prestartWorkers) spares.start(prestartWorkers === true ? defaultWorkers() : prestartWorkers);
      // The index files are read while scrypt checks the password.
      const indexFiles = options.skipIndex ? undefined : fetchIndexFiles(storage);
      indexFiles?.catch(() => undefined);
      const { master, keyId } = await unlockMaster(storage, password);
      const keys = deriveKeys(master);
      const ctx = { storage, keys, codec: createZstdCodec() };
      const config = await getSealedJson<RepoConfig>(ctx, 'config');
      if (config.version !== FORMAT_VERSION) {
        throw new EngineError('EVERSION', `repository format ${config.version} is not supported (this program reads ${FORMAT_VERSION})`);
      }
      const repo = new Repository(storage, master, config, keyId, options, spares);
      if (indexFiles) repo.index = buildIndex(repo, await indexFiles);
      return repo;
    } catch (err) {
      await spares.close();
      throw err;
    }
  }

  async reloadIndex(): Promise<void> {
    this.index = await loadIndex(this);
  }

  newSaver(options?: SaverOptions): BlobSaver {
    return new BlobSaver(this, options);
  }

  /** Reads, authenticates, decompresses and id-checks one blob. */
  async loadBlob(id: string, type?: BlobType): Promise<Buffer> {
    const entry = this.index.get(id);
    if (!entry) throw new NotFoundError(`blob ${id}`);
    if (type && entry.type !== type) throw new IntegrityError(`blob ${id} is ${entry.type}, expected ${type}`);
    const sealed = await this.storage.get(packKey(entry.pack), { offset: entry.offset, length: entry.length });
    return this.decodeBlob(id, sealed);
  }

  /** Decrypts a sealed blob and verifies that its plaintext has the expected id. */
  decodeBlob(id: string, sealed: Uint8Array): Buffer {
    const what = `blob ${id}`;
    const plain = this.codec.unpack(open(this.keys.encryption, sealed, what), what);
    if (contentId(this.keys.id, plain) !== id) throw new IntegrityError(`${what}: content does not match its id`);
    return plain;
  }

  async loadTree(id: string): Promise<Tree> {
    return this.parseTree(await this.loadBlob(id, 'tree'));
  }

  /** A tree from its decoded blob. */
  parseTree(plain: Buffer): Tree {
    return JSON.parse(plain.toString('utf8')) as Tree;
  }

  async loadJsonBlob<T>(id: string): Promise<T> {
    return JSON.parse((await this.loadBlob(id, 'tree')).toString('utf8')) as T;
  }

  // ---- keys ----

  async listKeys(): Promise<KeyInfo[]> {
    const files = await readKeyFiles(this.storage);
    return files
      .map(({ id, file }) => ({ id, created: file.created, host: file.host, user: file.user, current: id === this.keyId }))
      .sort((a, b) => a.created.localeCompare(b.created));
  }

  /** Adds a password; the master secret is re-wrapped, no data changes. */
  async addKey(password: string, options: { scrypt?: Partial<ScryptParams> } = {}): Promise<string> {
    return writeKey(this.storage, this.master, password, {
      ...options,
      host: this.host,
      user: this.user,
    });
  }

  async removeKey(id: string): Promise<void> {
    const keys = await this.listKeys();
    const match = keys.filter((k) => k.id.startsWith(id));
    if (match.length !== 1) {
      throw new UsageError(match.length ? `key id ${id} is ambiguous` : `no key ${id} in this repository`);
    }
    const key = match[0]!;
    if (key.current) throw new UsageError('refusing to remove the key this session is using; open with another password first');
    await this.storage.delete(`keys/${key.id}`);
  }

  /** Replaces this session's password: writes the new key, then removes the old one. */
  async changePassword(newPassword: string, options: { scrypt?: Partial<ScryptParams> } = {}): Promise<string> {
    const newId = await this.addKey(newPassword, options);
    await this.storage.delete(`keys/${this.keyId}`);
    this.currentKeyId = newId;
    return newId;
  }

  async close(): Promise<void> {
    await this.spareThreads.close();
    await this.storage.close();
  }
}
