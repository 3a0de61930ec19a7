/**
 * Bearer-token users. Tokens are generated once per dataDir (users.json) and written into the
 * kubeconfig: `admin` (cluster-admin through system:masters), `dev` (the `edit` ClusterRole in
 * namespace team-a only) and `viewer` (the `view` ClusterRole cluster-wide).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UserInfo } from './rbac.js';

export interface SimUser {
  name: string;
  token: string;
  groups: string[];
  /** Default namespace of the user's kubeconfig context. */
  namespace: string;
}

export const DEV_NAMESPACE = 'team-a';

export function loadOrCreateUsers(dataDir: string): SimUser[] {
  const file = join(dataDir, 'users.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as SimUser[];
  const token = (name: string) => `kubesim-${name}-${randomBytes(16).toString('hex')}`;
  const users: SimUser[] = [
    { name: 'admin', token: token('admin'), groups: ['system:masters'], namespace: 'default' },
    { name: 'dev', token: token('dev'), groups: [], namespace: DEV_NAMESPACE },
    { name: 'viewer', token: token('viewer'), groups: [], namespace: 'default' },
  ];
  writeFileSync(file, JSON.stringify(users, null, 2), { mode: 0o600 });
  return users;
}

/** The key that signs ServiceAccount tokens (kept in dataDir so tokens survive restarts). */
export function loadOrCreateTokenKey(dataDir: string): Buffer {
  const file = join(dataDir, 'sa-token.key');
  if (existsSync(file)) return readFileSync(file);
  const key = randomBytes(32);
  writeFileSync(file, key, { mode: 0o600 });
  return key;
}

export class Authenticator {
  private readonly byToken = new Map<string, UserInfo>();

  /**
   * @param serviceAccountExists tells whether a ServiceAccount still exists (its tokens stop
   * working when it is deleted)
   */
  constructor(
    users: SimUser[],
    private readonly tokenKey: Buffer = randomBytes(32),
    private readonly serviceAccountExists: (namespace: string, name: string) => boolean = () => true,
  ) {
    for (const u of users) {
      this.byToken.set(u.token, { username: u.name, uid: `kube-sim-user-${u.name}`, groups: [...u.groups, 'system:authenticated'] });
    }
  }

  private sign(namespace: string, name: string): string {
    return createHmac('sha256', this.tokenKey).update(`${namespace}/${name}`).digest('base64url');
  }

  /** A bearer token that authenticates as the ServiceAccount (TokenRequest, legacy token Secrets). */
  serviceAccountToken(namespace: string, name: string): string {
    const enc = (s: string) => Buffer.from(s).toString('base64url');
    return `kubesim-sa.${enc(namespace)}.${enc(name)}.${this.sign(namespace, name)}`;
  }

  private serviceAccountUser(token: string): UserInfo | undefined {
    const parts = token.split('.');
    if (parts.length !== 4 || parts[0] !== 'kubesim-sa') return undefined;
    const namespace = Buffer.from(parts[1], 'base64url').toString();
    const name = Buffer.from(parts[2], 'base64url').toString();
    const want = Buffer.from(this.sign(namespace, name));
    const got = Buffer.from(parts[3]);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    if (!this.serviceAccountExists(namespace, name)) return undefined;
    return {
      username: `system:serviceaccount:${namespace}:${name}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    };
  }

  /** The user of an Authorization header, or undefined (401). */
  authenticate(authorization: string | undefined): UserInfo | undefined {
    if (!authorization) return undefined;
    const m = authorization.match(/^Bearer\s+(.+)$/i);
    if (!m) return undefined;
    const token = m[1].trim();
    return this.byToken.get(token) ?? this.serviceAccountUser(token);
  }
}

/** A kubeconfig with one context per user (admin is current). */
export function kubeconfigYaml(url: string, caCert: string, users: SimUser[]): string {
  const ca = Buffer.from(caCert).toString('base64');
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: kube-sim',
    '  cluster:',
    `    server: ${url}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    ...users.flatMap((u) => [`- name: ${u.name}`, '  user:', `    token: ${u.token}`]),
    'contexts:',
    ...users.flatMap((u) => [`- name: ${u.name}`, '  context:', '    cluster: kube-sim', `    user: ${u.name}`, `    namespace: ${u.namespace}`]),
    `current-context: ${users[0].name}`,
    'preferences: {}',
    '',
  ];
  return lines.join('\n');
}
