/**
 * KubeConfigs for the configured clusters. Whatever the source (url + token, a kubeconfig file,
 * the Kubernetes plugin's config), the cluster is named as configured, so that backups the
 * portal makes are tagged with the name entities use in `kubectl-backup.io/cluster`.
 */
import { InputError } from '@backstage/errors';
import { KubeConfig, type User } from '@kubernetes/client-node';
import { loadKubeConfig } from '@kubectl-backup/k8s';
import type { BackupTarget } from '@kubectl-backup/plugin-backup-common';
import type { ClusterConfig } from '../../config/index.js';

const SERVICE_USER = 'kubectl-backup-portal';

export class ClusterPool {
  private readonly byName: Map<string, ClusterConfig>;

  constructor(private readonly configs: ClusterConfig[]) {
    this.byName = new Map(configs.map((c) => [c.name, c]));
  }

  /** The cluster a target's operations run against: its own, else the only one configured. */
  clusterFor(target: BackupTarget): ClusterConfig {
    if (target.cluster) {
      const c = this.byName.get(target.cluster);
      if (!c)
        throw new InputError(
          `cluster "${target.cluster}" (annotation kubectl-backup.io/cluster) is not configured in backup.clusters`,
        );
      return c;
    }
    if (this.configs.length === 1) return this.configs[0]!;
    throw new InputError(
      this.configs.length === 0
        ? 'no cluster is configured (backup.clusters)'
        : `the entity has no kubectl-backup.io/cluster annotation and ${this.configs.length} clusters are configured: add the annotation`,
    );
  }

  kubeConfig(cluster: ClusterConfig): KubeConfig {
    const kc = new KubeConfig();
    if (cluster.kubeconfig) {
      const source = loadKubeConfig({
        kubeconfig: cluster.kubeconfig,
        ...(cluster.context ? { context: cluster.context } : {}),
      });
      const c = source.getCurrentCluster();
      const user = source.getCurrentUser();
      if (!c || !user)
        throw new InputError(
          `cluster "${cluster.name}": the kubeconfig ${cluster.kubeconfig} has no current cluster or user`,
        );
      const namespace = source.getContextObject(source.getCurrentContext())?.namespace;
      kc.loadFromOptions({
        clusters: [{ ...c, name: cluster.name }],
        users: [user],
        contexts: [
          {
            name: cluster.name,
            cluster: cluster.name,
            user: user.name,
            ...(namespace ? { namespace } : {}),
          },
        ],
        currentContext: cluster.name,
      });
      return kc;
    }
    const user: User = { name: SERVICE_USER, ...(cluster.token ? { token: cluster.token } : {}) };
    kc.loadFromOptions({
      clusters: [
        {
          name: cluster.name,
          server: cluster.url!,
          skipTLSVerify: cluster.skipTLSVerify ?? false,
          ...(cluster.caData ? { caData: cluster.caData } : {}),
        },
      ],
      users: [user],
      contexts: [{ name: cluster.name, cluster: cluster.name, user: SERVICE_USER }],
      currentContext: cluster.name,
    });
    return kc;
  }
}
