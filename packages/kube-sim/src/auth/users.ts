/**
 * Bearer-token users. Tokens are generated once per dataDir (users.json) and written into the
 * kubeconfig: `admin` (cluster-admin through system:masters), `dev` (the `edit` ClusterRole in
 * namespace team-a only) and `viewer` (the `view` ClusterRole cluster-wide).
 */
import { randomBytes } from 'node:crypto';
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

export class Authenticator {
  private readonly byToken = new Map<string, UserInfo>();

  constructor(users: SimUser[]) {
    for (const u of users) {
      this.byToken.set(u.token, { username: u.name, uid: `kube-sim-user-${u.name}`, groups: [...u.groups, 'system:authenticated'] });
    }
  }

  /** The user of an Authorization header, or undefined (401). */
  authenticate(authorization: string | undefined): UserInfo | undefined {
    if (!authorization) return undefined;
    const m = authorization.match(/^Bearer\s+(.+)$/i);
    if (!m) return undefined;
    return this.byToken.get(m[1].trim());
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
