/**
 * Repository URLs → storages.
 *
 * | form | storage |
 * |---|---|
 * | `/path/to/repo`, `./repo`, `repo` | LocalStorage (relative to the working directory) |
 * | `file:///path/to/repo` | LocalStorage |
 * | `s3://bucket/prefix?endpoint=URL&region=R&forcePathStyle=true` | S3Storage (wrapped in withRetry) |
 * | `memory://name` | MemoryStorage, one per name and process (for tests) |
 *
 * S3 query parameters are all optional. `region` defaults to `us-east-1` when an endpoint is
 * given, else to `AWS_REGION` / `AWS_DEFAULT_REGION`, else to the SDK's lookup (shared config).
 * `forcePathStyle` defaults to true with an endpoint (MinIO, s3rver…), false without.
 * Credentials never go in the URL: they come from the SDK's default chain (AWS_ACCESS_KEY_ID…,
 * AWS_PROFILE, SSO, instance roles) or from `opts.credentials`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../errors.js';
import { LocalStorage } from './local.js';
import { MemoryStorage } from './memory.js';
import { readOnly } from './readonly.js';
import { withRetry } from './retry.js';
import type { RetryOptions } from './retry.js';
import { S3Storage, safeEndpoint } from './s3.js';
import type { S3Credentials, S3StorageOptions } from './s3.js';
import type { Storage } from './types.js';

export type StorageUrl =
  | { kind: 'local'; path: string }
  | {
      kind: 's3';
      bucket: string;
      prefix: string;
      endpoint?: string;
      region?: string;
      forcePathStyle: boolean;
    }
  | { kind: 'memory'; name: string };

export interface OpenStorageOptions {
  /** S3 credentials; the SDK's default provider chain when omitted. */
  credentials?: S3Credentials;
  /** Retry settings for S3, or `false` for none. Local and memory storages are not wrapped. */
  retry?: RetryOptions | false;
  /** Refuse writes (see ./readonly.ts). */
  readOnly?: boolean;
  /** S3 tuning (sockets, multipart sizes, SDK attempts). */
  s3?: Pick<S3StorageOptions, 'maxSockets' | 'multipartThreshold' | 'partSize' | 'queueSize' | 'maxAttempts'>;
  /** Environment for the region default (default process.env). */
  env?: Record<string, string | undefined>;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const S3_PARAMS = ['endpoint', 'region', 'forcePathStyle'];
const FORMS = 'a directory path, file:///path, s3://bucket/prefix or memory://name';

function usage(message: string): EngineError {
  return new EngineError('EUSAGE', message);
}

/** Parses a repository URL (see the module comment); throws EUSAGE errors that name the problem. */
export function parseStorageUrl(
  url: string,
  env: Record<string, string | undefined> = process.env,
): StorageUrl {
  if (typeof url !== 'string' || url.trim() === '') {
    throw usage(`no repository location given: expected ${FORMS}`);
  }
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'local', path: path.resolve(url) };

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usage(`cannot parse repository URL ${describeLocation(url)}: expected ${FORMS}`);
  }
  switch (scheme) {
    case 'file': {
      if (parsed.host !== '' && parsed.host !== 'localhost') {
        throw usage(`file URLs must name a local path (file:///path), not host "${parsed.host}"`);
      }
      return { kind: 'local', path: fileURLToPath(parsed) };
    }
    case 'memory':
      return { kind: 'memory', name: decodeURIComponent(parsed.host + parsed.pathname) || 'memory' };
    case 's3':
      return parseS3(parsed, env);
    default:
      throw usage(`unsupported repository URL scheme "${scheme}:" in ${describeLocation(url)}: expected ${FORMS}`);
  }
}

function parseS3(parsed: URL, env: Record<string, string | undefined>): StorageUrl {
  if (parsed.username || parsed.password) {
    throw usage(
      'credentials in the repository URL are not supported (they would end up in shell history and logs): ' +
        'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE',
    );
  }
  const bucket = parsed.hostname;
  if (!bucket || parsed.port) {
    throw usage(`S3 repository URL needs a bucket: s3://bucket/prefix (got ${describeLocation(parsed.href)})`);
  }
  for (const name of new Set(parsed.searchParams.keys())) {
    if (!S3_PARAMS.includes(name)) {
      throw usage(`unknown S3 URL parameter "${name}": expected ${S3_PARAMS.join(', ')}`);
    }
  }
  const endpoint = parsed.searchParams.get('endpoint') || undefined;
  if (endpoint !== undefined) {
    let ep: URL | undefined;
    try {
      ep = new URL(endpoint);
    } catch {
      ep = undefined;
    }
    if (!ep || (ep.protocol !== 'http:' && ep.protocol !== 'https:')) {
      throw usage(`invalid S3 endpoint ${JSON.stringify(safeEndpoint(endpoint))}: expected http(s)://host[:port]`);
    }
    if (ep.username || ep.password) {
      throw usage('credentials in the S3 endpoint URL are not supported: use the AWS environment variables');
    }
  }
  const region =
    parsed.searchParams.get('region') ||
    (endpoint ? 'us-east-1' : env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
  const style = parsed.searchParams.get('forcePathStyle');
  let forcePathStyle = endpoint !== undefined;
  if (style !== null) {
    if (!['true', 'false', '1', '0'].includes(style)) {
      throw usage(`forcePathStyle must be true or false, not ${JSON.stringify(style)}`);
    }
    forcePathStyle = style === 'true' || style === '1';
  }
  const prefix = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '');
  return { kind: 's3', bucket, prefix, endpoint, region, forcePathStyle };
}

const memoryStorages = new Map<string, MemoryStorage>();

/** Forgets every `memory://` storage of this process (for tests). */
export function resetMemoryStorages(): void {
  memoryStorages.clear();
}

/**
 * Opens the storage a repository URL names (see the module comment). S3 storages are wrapped
 * in withRetry unless `opts.retry === false`; `opts.readOnly` adds the read-only wrapper.
 * `memory://name` returns the same in-process storage for the same name.
 */
export function openStorage(url: string, opts: OpenStorageOptions = {}): Storage {
  const spec = parseStorageUrl(url, opts.env);
  let storage: Storage;
  switch (spec.kind) {
    case 'local':
      storage = new LocalStorage(spec.path);
      break;
    case 'memory': {
      let mem = memoryStorages.get(spec.name);
      if (!mem) {
        mem = new MemoryStorage(spec.name);
        memoryStorages.set(spec.name, mem);
      }
      storage = mem;
      break;
    }
    case 's3': {
      const { kind: _kind, ...s3 } = spec;
      storage = new S3Storage({ ...opts.s3, ...s3, credentials: opts.credentials });
      if (opts.retry !== false) storage = withRetry(storage, opts.retry || {});
      break;
    }
  }
  return opts.readOnly ? readOnly(storage) : storage;
}

/**
 * A repository URL for display: user info, secrets and unknown query parameters removed
 * (S3 keeps only its endpoint's origin, region and forcePathStyle). Never throws.
 */
export function describeLocation(url: string): string {
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Unparsable: drop anything that could be user info or a query.
    return url.replace(/\/\/[^/?#]*@/, '//').replace(/[?#].*$/, '');
  }
  if (scheme === 'file') {
    try {
      return fileURLToPath(parsed);
    } catch {
      return `file://${parsed.host}${parsed.pathname}`;
    }
  }
  const base = `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
  if (scheme !== 's3') return base;
  const params: string[] = [];
  const endpoint = parsed.searchParams.get('endpoint');
  if (endpoint) params.push(`endpoint=${safeEndpoint(endpoint)}`);
  for (const name of ['region', 'forcePathStyle']) {
    const value = parsed.searchParams.get(name);
    if (value && /^[A-Za-z0-9._-]+$/.test(value)) params.push(`${name}=${value}`);
  }
  return params.length ? `${base}?${params.join('&')}` : base;
}
