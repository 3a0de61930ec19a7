/**
 * Cryptographic primitives of the repository format (see docs/format.md):
 * AES-256-GCM sealing of every stored object, keyed HMAC-SHA256 content ids, scrypt password
 * keys, HKDF sub-keys. Only this file touches node:crypto ciphers directly.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  randomFillSync,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';
import { IntegrityError } from './errors.js';

export const SEAL_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Bytes a sealed object adds to its plaintext: version byte, nonce, tag. */
export const SEAL_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

/** The keys derived from a repository's master secret. */
export interface RepoKeys {
  /** AES-256-GCM key for every stored object. */
  encryption: Buffer;
  /** HMAC-SHA256 key for content ids, so ids reveal nothing about plaintext. */
  id: Buffer;
  /** HMAC-SHA256 key for the audit log chain. */
  mac: Buffer;
  /** Seed of the chunker's gear table, so cut points are repository-specific. */
  gearSeed: Buffer;
}

export function deriveKeys(master: Buffer): RepoKeys {
  const sub = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
  return {
    encryption: sub('kubectl-backup encryption v1'),
    id: sub('kubectl-backup content-id v1'),
    mac: sub('kubectl-backup audit-mac v1'),
    gearSeed: sub('kubectl-backup gear v1'),
  };
}

export function newMasterSecret(): Buffer {
  return randomBytes(32);
}

/** Encrypts `plain` as `version ‖ nonce ‖ ciphertext ‖ tag`. */
export function seal(key: Buffer, plain: Uint8Array, aad?: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  if (aad) cipher.setAAD(aad);
  const head = Buffer.allocUnsafe(1 + NONCE_BYTES);
  head[0] = SEAL_VERSION;
  nonce.copy(head, 1);
  const body = cipher.update(plain);
  const tail = cipher.final();
  return Buffer.concat([head, body, tail, cipher.getAuthTag()]);
}

/** Random nonces for blobs, drawn from a pool refilled by the CSPRNG (one call per 340 nonces). */
const noncePool = Buffer.allocUnsafeSlow(NONCE_BYTES * 340);
let noncePos = noncePool.length;

function blobNonce(): Buffer {
  if (noncePos + NONCE_BYTES > noncePool.length) {
    randomFillSync(noncePool);
    noncePos = 0;
  }
  noncePos += NONCE_BYTES;
  return noncePool.subarray(noncePos - NONCE_BYTES, noncePos);
}

/** Bytes `sealPayloadInto` writes for a body of `bodyLength` bytes. */
export function sealedPayloadLength(bodyLength: number): number {
  return SEAL_OVERHEAD + 1 + bodyLength;
}

/**
 * Seals `prefix ‖ body` (a codec byte and a payload) into `out` at `pos`, without concatenating
 * the plaintext first. `out` needs `sealedPayloadLength(body.length)` bytes from `pos`.
 */
export function sealPayloadInto(
  key: Buffer,
  prefix: number,
  body: Uint8Array,
  out: Buffer,
  pos: number,
): number {
  const nonce = blobNonce();
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  out[pos] = SEAL_VERSION;
  nonce.copy(out, pos + 1);
  let at = pos + 1 + NONCE_BYTES;
  at += cipher.update(Uint8Array.of(prefix)).copy(out, at);
  at += cipher.update(body).copy(out, at);
  at += cipher.final().copy(out, at);
  at += cipher.getAuthTag().copy(out, at);
  return at - pos;
}

/** Seals `prefix ‖ body` into a standalone buffer that owns its memory (it can be transferred). */
export function sealPayload(key: Buffer, prefix: number, body: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafeSlow(sealedPayloadLength(body.length));
  sealPayloadInto(key, prefix, body, out, 0);
  return out;
}

/** Decrypts and authenticates a sealed object; throws IntegrityError on any mismatch. */
export function open(key: Buffer, sealed: Uint8Array, what: string, aad?: Buffer): Buffer {
  if (sealed.length < SEAL_OVERHEAD || sealed[0] !== SEAL_VERSION) {
    throw new IntegrityError(`${what}: not a sealed object`);
  }
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const nonce = buf.subarray(1, 1 + NONCE_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    const body = decipher.update(buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES));
    const tail = decipher.final();
    return tail.length ? Buffer.concat([body, tail]) : body;
  } catch (cause) {
    throw new IntegrityError(`${what}: authentication failed (corrupted or tampered)`, { cause });
  }
}

/** Keyed content id: hex HMAC-SHA256 of the plaintext. */
export function contentId(idKey: Buffer, data: Uint8Array): string {
  return createHmac('sha256', idKey).update(data).digest('hex');
}

/** Plain SHA-256 hex, used for storage-level names of packs and metadata files. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmac(key: Buffer, data: Uint8Array | string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  salt: string; // base64
}

/** Interactive default: about 100 ms and 32 MiB per attempt on our machines. */
export function defaultScryptParams(): ScryptParams {
  return { N: 1 << 15, r: 8, p: 1, salt: randomBytes(32).toString('base64') };
}

export function deriveKeyFromPassword(password: string, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      Buffer.from(params.salt, 'base64'),
      32,
      { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + (1 << 20) },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

export function randomId(): string {
  return randomBytes(32).toString('hex');
}
