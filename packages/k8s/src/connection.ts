/** What operations accept as "the cluster": a KubeConfig (current context) or a ready KubeClient. */
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, type KubeClientOptions } from './client.js';

export type ClusterTarget = KubeConfig | KubeClient;

export function toClient(target: ClusterTarget, options?: KubeClientOptions): KubeClient {
  if (target instanceof KubeClient) return options ? target.withOptions(options) : target;
  return new KubeClient(target, options);
}
