/**
 * S3 backend (AWS S3 and S3-compatible stores: MinIO, Ceph, s3rver…). Same contract as every
 * backend (./types.ts). Keys live under `prefix/` in `bucket`.
 *
 * - Credentials come from the SDK's default provider chain (env vars, shared config and
 *   credentials files, SSO, web identity, container/instance metadata) unless given.
 * - Objects larger than `multipartThreshold` (16 MiB) go up as multipart uploads in parts of
 *   `partSize` (8 MiB), `queueSize` (4) parts at a time; a failed upload is aborted, so no
 *   object and no orphaned parts are left behind. Smaller objects are one PutObject.
 * - With a custom `endpoint`, the SDK's newer default request checksums (CRC32 trailers) are
 *   turned off because many S3-compatible stores reject or mis-store them; single PUTs then
 *   carry a Content-MD5 instead so the store still verifies the bytes.
 * - Errors are mapped to the engine's: missing object → NotFoundError, bad range → ERANGE,
 *   access problems → EACCESS, missing bucket → ENOBUCKET, missing credentials →
 *   ECREDENTIALS, bad region or endpoint → ECONFIG, other 4xx → ESTORAGE (all permanent);
 *   network errors, timeouts, throttling and 5xx → EIO (worth retrying, see ./retry.ts).
 *   Messages name the operation, key and `s3://bucket/prefix`, never credentials.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type * as ClientS3 from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type * as LibStorage from '@aws-sdk/lib-storage';
import { EngineError, NotFoundError } from '../errors.js';
import { assertValidKey } from './keys.js';
import {
  assertValidPrefix,
  assertValidRequest,
  isValidKey,
  rangeError,
  existsByStat,
} from './internal.js';
import type { ByteRange, ObjectInfo, Storage } from './types.js';

const MiB = 1024 * 1024;

/**
 * The AWS SDK is loaded when the first S3 storage is made, not when the engine is imported:
 * most runs use a directory repository, and loading the SDK costs about 0.2 s and 25 MiB.
 */
const requireSdk = createRequire(import.meta.url);
let clientS3: typeof ClientS3 | undefined;
let libStorage: typeof LibStorage | undefined;
const sdk = (): typeof ClientS3 =>
  (clientS3 ??= requireSdk('@aws-sdk/client-s3') as typeof ClientS3);
const sdkUpload = (): typeof LibStorage =>
  (libStorage ??= requireSdk('@aws-sdk/lib-storage') as typeof LibStorage);

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3StorageOptions {
  bucket: string;
  /** Key prefix inside the bucket (`backups/prod`); leading and trailing `/` are ignored. */
  prefix?: string;
  /** Custom endpoint URL for S3-compatible stores (`http://127.0.0.1:9000`). */
  endpoint?: string;
  /** Region; defaults to `us-east-1` with a custom endpoint, else the SDK's own lookup. */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`); defaults to true with a custom endpoint. */
  forcePathStyle?: boolean;
  /** Static credentials; the SDK's default provider chain when omitted. */
  credentials?: S3Credentials;
  /** Sockets per protocol kept for reuse (default 50). */
  maxSockets?: number;
  /** Objects above this size are uploaded in parts (default 16 MiB). */
  multipartThreshold?: number;
  /** Part size for multipart uploads (default 8 MiB, at least 5 MiB). */
  partSize?: number;
  /** Parts uploaded concurrently per object (default 4). */
  queueSize?: number;
  /** Attempts the SDK makes itself before an error reaches the caller (default 3). */
  maxAttempts?: number;
}

/** The parts of an SDK error we look at. */
interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

export class S3Storage implements Storage {
  readonly location: string;
  readonly bucket: string;
  /** Object-key prefix including its trailing `/`, or empty. */
  readonly prefix: string;
  /** The SDK client, e.g. to add middleware for metrics or tests. */
  readonly client: S3Client;
  private readonly endpointForMessages: string | undefined;
  private readonly customEndpoint: boolean;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(options: S3StorageOptions) {
    if (!options.bucket || /[/\s]/.test(options.bucket)) {
      throw new EngineError('EUSAGE', `invalid S3 bucket name: ${JSON.stringify(options.bucket)}`);
    }
    this.bucket = options.bucket;
    const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.prefix = prefix === '' ? '' : `${prefix}/`;
    this.location = prefix === '' ? `s3://${this.bucket}` : `s3://${this.bucket}/${prefix}`;
    this.customEndpoint = options.endpoint !== undefined && options.endpoint !== '';
    if (this.customEndpoint && !/^https?:$/.test(tryUrl(options.endpoint!)?.protocol ?? '')) {
      throw new EngineError(
        'EUSAGE',
        `invalid S3 endpoint ${JSON.stringify(safeEndpoint(options.endpoint!))}: expected an http:// or https:// URL`,
      );
    }
    this.endpointForMessages = this.customEndpoint ? safeEndpoint(options.endpoint!) : undefined;
    this.multipartThreshold = options.multipartThreshold ?? 16 * MiB;
    this.partSize = Math.max(options.partSize ?? 8 * MiB, 5 * MiB);
    this.queueSize = options.queueSize ?? 4;

    const maxSockets = options.maxSockets ?? 50;
    const config: S3ClientConfig = {
      forcePathStyle: options.forcePathStyle ?? this.customEndpoint,
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: {
        httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
        httpsAgent: new https.Agent({ keepAlive: true, maxSockets }),
        connectionTimeout: 10_000,
        // Idle-socket timeout: a stalled transfer fails (and can be retried) instead of hanging.
        requestTimeout: 120_000,
      },
    };
    const region = options.region ?? (this.customEndpoint ? 'us-east-1' : undefined);
    if (region) config.region = region;
    if (this.customEndpoint) {
      config.endpoint = options.endpoint;
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    if (options.credentials) config.credentials = { ...options.credentials };
    this.client = new (sdk().S3Client)(config);
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    assertValidRequest(key, range);
    if (range && range.length === 0) {
      // An empty range cannot be expressed as an HTTP Range; check the bounds with a HEAD.
      const { size } = await this.stat(key);
      if (range.offset > size) throw rangeError(key, range, size);
      return Buffer.alloc(0);
    }
    try {
      const res = await this.client.send(
        new (sdk().GetObjectCommand)({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          Range: range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined,
        }),
      );
      if (!res.Body)
        throw new EngineError('EIO', `S3 returned no body for ${key} in ${this.location}`);
      const size = objectSize(res.ContentRange);
      if (range && size !== undefined && range.offset + range.length > size) {
        // Some stores answer a range past the end with what they have; the contract throws.
        discard(res.Body);
        throw rangeError(key, range, size);
      }
      const bytes = await res.Body.transformToByteArray();
      const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (range && data.length !== range.length) throw rangeError(key, range, size);
      if (!range && res.ContentLength !== undefined && data.length !== res.ContentLength) {
        throw new EngineError(
          'EIO',
          `S3 get ${key} in ${this.location} returned ${data.length} of ${res.ContentLength} bytes`,
        );
      }
      return data;
    } catch (err) {
      throw this.mapError(err, 'get', key, range);
    }
  }

  async getStream(key: string): Promise<NodeJS.ReadableStream> {
    assertValidKey(key);
    try {
      const res = await this.client.send(
        new (sdk().GetObjectCommand)({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      if (!res.Body)
        throw new EngineError('EIO', `S3 returned no body for ${key} in ${this.location}`);
      return res.Body as Readable;
    } catch (err) {
      throw this.mapError(err, 'get', key);
    }
  }

  async put(key: string, data: Buffer | Uint8Array): Promise<void> {
    assertValidKey(key);
    const body = Buffer.isBuffer(data)
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const Key = this.objectKey(key);
    try {
      if (body.length > this.multipartThreshold) {
        const upload = new (sdkUpload().Upload)({
          client: this.client,
          params: { Bucket: this.bucket, Key, Body: body },
          partSize: this.partSize,
          queueSize: this.queueSize,
          leavePartsOnError: false,
        });
        await upload.done();
      } else {
        await this.client.send(
          new (sdk().PutObjectCommand)({
            Bucket: this.bucket,
            Key,
            Body: body,
            ContentLength: body.length,
            ContentMD5: this.customEndpoint
              ? createHash('md5').update(body).digest('base64')
              : undefined,
          }),
        );
      }
    } catch (err) {
      throw this.mapError(err, 'put', key);
    }
  }

  async stat(key: string): Promise<ObjectInfo> {
    assertValidKey(key);
    try {
      const res = await this.client.send(
        new (sdk().HeadObjectCommand)({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      return { key, size: res.ContentLength ?? 0 };
    } catch (err) {
      throw this.mapError(err, 'stat', key);
    }
  }

  exists(key: string): Promise<boolean> {
    return existsByStat(() => this.stat(key));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidPrefix(prefix);
    let token: string | undefined;
    do {
      let res;
      try {
        res = await this.client.send(
          new (sdk().ListObjectsV2Command)({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ContinuationToken: token,
          }),
        );
      } catch (err) {
        throw this.mapError(err, 'list', prefix === '' ? '(all keys)' : prefix);
      }
      for (const obj of res.Contents ?? []) {
        if (!obj.Key?.startsWith(this.prefix)) continue;
        const key = obj.Key.slice(this.prefix.length);
        // Skip foreign objects such as console "folder/" markers.
        if (isValidKey(key)) yield { key, size: obj.Size ?? 0 };
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    try {
      await this.client.send(
        new (sdk().DeleteObjectCommand)({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
    } catch (err) {
      const mapped = this.mapError(err, 'delete', key);
      if (mapped instanceof NotFoundError) return;
      throw mapped;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    return this.prefix + key;
  }

  /** Turns an SDK error into the engine's error types; messages never carry credentials. */
  private mapError(err: unknown, op: string, key: string, range?: ByteRange): Error {
    if (err instanceof EngineError) return err;
    const e = (err ?? {}) as SdkError;
    const name = e.name ?? 'Error';
    const status = e.$metadata?.httpStatusCode;
    const where = `${key} in ${this.location}`;
    const detail = `${name}${status ? ` (HTTP ${status})` : ''}${e.message && e.message !== name ? `: ${e.message}` : ''}`;
    const options = { cause: summarize(err) };

    if (name === 'NoSuchBucket') {
      const at = this.endpointForMessages ? ` at ${this.endpointForMessages}` : '';
      return new EngineError(
        'ENOBUCKET',
        `S3 bucket "${this.bucket}" does not exist${at}`,
        options,
      );
    }
    if (name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && op !== 'list')) {
      return new NotFoundError(key, options);
    }
    if (name === 'InvalidRange' || status === 416) {
      return range
        ? rangeError(key, range, undefined)
        : new EngineError('ERANGE', `S3 ${op} ${where}: ${detail}`, options);
    }
    if (
      name === 'CredentialsProviderError' ||
      /could not load credentials/i.test(e.message ?? '')
    ) {
      return new EngineError(
        'ECREDENTIALS',
        `no S3 credentials for ${this.location}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE`,
        options,
      );
    }
    if (/region is missing/i.test(e.message ?? '')) {
      return new EngineError(
        'ECONFIG',
        `no AWS region for ${this.location}: add ?region=… to the repository URL or set AWS_REGION`,
        options,
      );
    }
    if (
      status === 403 ||
      [
        'AccessDenied',
        'InvalidAccessKeyId',
        'SignatureDoesNotMatch',
        'ExpiredToken',
        'InvalidToken',
      ].includes(name)
    ) {
      return new EngineError(
        'EACCESS',
        `S3 ${op} ${where} was refused: ${detail} (check the credentials and the bucket policy)`,
        options,
      );
    }
    if (
      status === 301 ||
      [
        'PermanentRedirect',
        'AuthorizationHeaderMalformed',
        'IllegalLocationConstraintException',
      ].includes(name)
    ) {
      return new EngineError(
        'ECONFIG',
        `S3 ${op} ${where} failed: ${detail} (is the region right? add ?region=… to the repository URL)`,
        options,
      );
    }
    const transient =
      status === undefined ||
      status === 408 ||
      status === 429 ||
      status >= 500 ||
      [
        'RequestTimeout',
        'SlowDown',
        'Throttling',
        'ThrottlingException',
        'TimeoutError',
        'RequestTimeTooSkewed',
      ].includes(name);
    if (transient && status !== 501) {
      return new EngineError('EIO', `S3 ${op} ${where} failed: ${detail}`, options);
    }
    return new EngineError('ESTORAGE', `S3 ${op} ${where} failed: ${detail}`, options);
  }
}

/**
 * A copy of an SDK error without its raw HTTP response (which holds the request's
 * Authorization header and sockets): name, message, code, status and request id only.
 */
function summarize(err: unknown): Error {
  const e = (err ?? {}) as SdkError & { $metadata?: { requestId?: string } };
  const copy = new Error(e.message ?? String(err));
  copy.name = e.name ?? 'Error';
  const extra: Record<string, unknown> = {};
  if (e.code) extra.code = e.code;
  if (e.$metadata?.httpStatusCode) extra.httpStatusCode = e.$metadata.httpStatusCode;
  if (e.$metadata?.requestId) extra.requestId = e.$metadata.requestId;
  return Object.assign(copy, extra);
}

/** Drops a response body we will not read, so its socket can be reused or closed. */
function discard(body: unknown): void {
  const stream = body as { destroy?: () => void; resume?: () => void };
  if (typeof stream.destroy === 'function') stream.destroy();
}

/** `bytes a-b/size` → size, when S3 says it. */
function objectSize(contentRange: string | undefined): number | undefined {
  const m = /\/(\d+)$/.exec(contentRange ?? '');
  return m ? Number(m[1]) : undefined;
}

function tryUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** An endpoint URL without user info, path or query, for messages. */
export function safeEndpoint(endpoint: string): string {
  const u = tryUrl(endpoint);
  return u ? `${u.protocol}//${u.host}` : '(unparsable URL)';
}
