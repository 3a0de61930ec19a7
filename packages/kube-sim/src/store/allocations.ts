/**
 * The cluster IPs and node ports that Services hold, counted, so that allocating one for a new
 * Service does not scan every Service of the cluster. Built from the store on first use, then
 * kept up to date from the store's change events.
 */
import type { KubeObject } from '../store-api.js';
import type { Store, StoredEvent } from './store.js';

const SERVICES = { group: '', version: 'v1', resource: 'services' };
const BUCKET = '/services';

type Obj = Record<string, unknown>;

function clusterIPOf(svc: KubeObject | undefined): string | undefined {
  const ip = (svc?.spec as Obj | undefined)?.clusterIP;
  return typeof ip === 'string' ? ip : undefined;
}

function nodePortsOf(svc: KubeObject | undefined): number[] {
  const ports = ((svc?.spec as Obj | undefined)?.ports as Obj[] | undefined) ?? [];
  return ports.map((p) => p.nodePort).filter((p): p is number => typeof p === 'number');
}

function bump<K>(counts: Map<K, number>, k: K, by: number): void {
  const n = (counts.get(k) ?? 0) + by;
  if (n > 0) counts.set(k, n);
  else counts.delete(k);
}

export class ServiceAllocations {
  private readonly ips = new Map<string, number>();
  private readonly nodePorts = new Map<number, number>();

  private constructor(store: Store) {
    for (const e of store.entries(SERVICES)) this.count(e.obj, 1);
    store.onRawChange((ev) => this.onEvent(ev));
  }

  private static readonly byStore = new WeakMap<Store, ServiceAllocations>();

  /** The allocations of a store's Services (followed from then on). */
  static of(store: Store): ServiceAllocations {
    let a = ServiceAllocations.byStore.get(store);
    if (!a) ServiceAllocations.byStore.set(store, (a = new ServiceAllocations(store)));
    return a;
  }

  private onEvent(ev: StoredEvent): void {
    if (ev.bucket !== BUCKET) return;
    if (ev.type !== 'ADDED') this.count(ev.old ?? ev.obj, -1);
    if (ev.type !== 'DELETED') this.count(ev.obj, 1);
  }

  private count(svc: KubeObject, by: number): void {
    const ip = clusterIPOf(svc);
    if (ip !== undefined) bump(this.ips, ip, by);
    for (const p of nodePortsOf(svc)) bump(this.nodePorts, p, by);
  }

  /** Whether a Service other than `self` (the stored version of the one being written) holds the IP. */
  ipTaken(ip: string, self: KubeObject | undefined): boolean {
    return (this.ips.get(ip) ?? 0) - (clusterIPOf(self) === ip ? 1 : 0) > 0;
  }

  /** Whether a Service other than `self` holds the node port. */
  nodePortTaken(port: number, self: KubeObject | undefined): boolean {
    const own = self ? nodePortsOf(self).filter((p) => p === port).length : 0;
    return (this.nodePorts.get(port) ?? 0) - own > 0;
  }
}
