/**
 * Password keys. The repository's random master secret is stored once per password, wrapped
 * (AES-256-GCM) by a key derived from that password with scrypt. Key files are plain JSON at
 * `keys/<id>`: only their `data` field is secret, and it is sealed.
 */
import { hostname, userInfo } from 'node:os';
import {
  defaultScryptParams,
  deriveKeyFromPassword,
  open,
  randomId,
  seal,
  type ScryptParams,
} from './crypto.js';
import { EngineError, IntegrityError, UsageError, WrongPasswordError } from './errors.js';
import type { Storage } from './storage/types.js';

export interface KeyFile {
  created: string;
  host: string;
  user: string;
  kdf: 'scrypt';
  scrypt: ScryptParams;
  /** base64 of seal(passwordKey, masterSecret). */
  data: string;
}

export interface KeyInfo {
  id: string;
  created: string;
  host: string;
  user: string;
  /** True for the key this session opened the repository with. */
  current: boolean;
}

export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export async function writeKey(
  storage: Storage,
  master: Buffer,
  password: string,
  options: { scrypt?: Partial<ScryptParams>; host?: string; user?: string } = {},
): Promise<string> {
  if (!password) throw new UsageError('an empty password is not allowed');
  const params = { ...defaultScryptParams(), ...options.scrypt };
  const wrapping = await deriveKeyFromPassword(password, params);
  const file: KeyFile = {
    created: new Date().toISOString(),
    host: options.host ?? hostname(),
    user: options.user ?? currentUser(),
    kdf: 'scrypt',
    scrypt: params,
    data: seal(wrapping, master).toString('base64'),
  };
  const id = randomId();
  await storage.put(`keys/${id}`, Buffer.from(JSON.stringify(file, null, 2)));
  return id;
}

export async function readKeyFiles(storage: Storage): Promise<Array<{ id: string; file: KeyFile }>> {
  const out: Array<{ id: string; file: KeyFile }> = [];
  for await (const o of storage.list('keys/')) {
    const raw = await storage.get(o.key);
    try {
      out.push({ id: o.key.slice('keys/'.length), file: JSON.parse(raw.toString('utf8')) as KeyFile });
    } catch (cause) {
      throw new IntegrityError(`key file ${o.key} is not valid JSON`, { cause });
    }
  }
  return out;
}

/** Tries the password against every key; returns the master secret and the key that opened it. */
export async function unlockMaster(
  storage: Storage,
  password: string,
): Promise<{ master: Buffer; keyId: string }> {
  const keys = await readKeyFiles(storage);
  if (!keys.length) throw new EngineError('ENOKEYS', `no keys in repository at ${storage.location}`);
  for (const { id, file } of keys) {
    const wrapping = await deriveKeyFromPassword(password, file.scrypt);
    try {
      return { master: open(wrapping, Buffer.from(file.data, 'base64'), `key ${id}`), keyId: id };
    } catch {
      // Not this key; try the next one.
    }
  }
  throw new WrongPasswordError();
}
