/**
 * The Secrets a schedule's job reads, checked when the schedule is made: a missing one is a
 * warning with the command that creates it (the job would fail at its first run). Only key
 * names are ever read out; values are not printed.
 */
import {
  DEFAULT_PASSWORD_KEY,
  isK8sError,
  type KubeClient,
  type KubeObject,
  type ScheduleSpec,
} from '@kubectl-backup/k8s';

const SECRETS = { group: '', version: 'v1', resource: 'secrets', namespaced: true };

/** Warnings about the password and credentials Secrets of a schedule (none when they are fine). */
export async function checkSecrets(client: KubeClient, spec: ScheduleSpec): Promise<string[]> {
  const ns = spec.namespace;
  const key = spec.passwordSecret.key ?? DEFAULT_PASSWORD_KEY;
  const warnings: string[] = [];
  const password = await read(client, ns, spec.passwordSecret.name);
  if (password === null)
    warnings.push(
      `the password Secret "${spec.passwordSecret.name}" does not exist in namespace ${ns}: the jobs fail until it does; create it with\n` +
        `  kubectl create secret generic ${spec.passwordSecret.name} -n ${ns} --from-literal=${key}='…'\n` +
        `  (or --from-file=${key}=PASSWORD_FILE, which keeps the password out of the shell history)`,
    );
  else if (password && !password.includes(key))
    warnings.push(
      `the Secret "${spec.passwordSecret.name}" in namespace ${ns} has no key "${key}" (it has: ${password.join(', ') || 'none'}); name the key with --password-secret ${spec.passwordSecret.name}:KEY`,
    );
  if (spec.credentialsSecret && (await read(client, ns, spec.credentialsSecret)) === null)
    warnings.push(
      `the credentials Secret "${spec.credentialsSecret}" does not exist in namespace ${ns}; create it with\n` +
        `  kubectl create secret generic ${spec.credentialsSecret} -n ${ns} --from-literal=AWS_ACCESS_KEY_ID=… --from-literal=AWS_SECRET_ACCESS_KEY=…`,
    );
  return warnings;
}

/** The Secret's key names; null when it does not exist, undefined when it may not be read. */
async function read(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<string[] | null | undefined> {
  try {
    const secret = await client.getOptional<KubeObject & { data?: Record<string, string> }>(
      SECRETS,
      namespace,
      name,
    );
    return secret ? Object.keys(secret.data ?? {}) : null;
  } catch (err) {
    if (isK8sError(err, 'EFORBIDDEN')) return undefined;
    throw err;
  }
}
