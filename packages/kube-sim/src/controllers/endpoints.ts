/**
 * The endpoints and endpointslice controllers: every Service with a selector gets an Endpoints
 * object of the same name and an EndpointSlice (`<service>-<suffix>`, owned by the Service) that
 * list the matching pods' IPs — ready ones as ready, the rest as not ready — with the Service's
 * ports resolved against the containers' named ports. Backups must skip both, as on a real
 * cluster.
 */
import type { ChangeEvent, KubeObject } from '../store-api.js';
import { LabelIndex, SelectorIndex } from './indexes.js';
import { QueueController, T, clone, controllerRef, ignoreNotFound, isPodReady, isType, keyOf, sameJson, splitKey, stableJson } from './util.js';

const SERVICES = { group: '', version: 'v1', resource: 'services' };
const ENDPOINTS = { group: '', version: 'v1', resource: 'endpoints' };
const SLICES = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };
const SERVICE_NAME = 'kubernetes.io/service-name';
const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
  appProtocol?: string;
}

interface ServiceSpec {
  type?: string;
  selector?: Record<string, string>;
  ports?: ServicePort[];
  publishNotReadyAddresses?: boolean;
}

interface ContainerPorts {
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
}

function resolvePort(sp: ServicePort, pod: KubeObject): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const containers = ((pod.spec as { containers?: ContainerPorts[] } | undefined)?.containers ?? []) as ContainerPorts[];
  for (const c of containers) {
    const p = c.ports?.find((x) => x.name === target && (x.protocol ?? 'TCP') === (sp.protocol ?? 'TCP'));
    if (p) return p.containerPort;
  }
  return undefined;
}

const selectorOf = (svc: KubeObject) => (svc.spec as ServiceSpec | undefined)?.selector;

export class EndpointsController extends QueueController {
  readonly name = 'endpoints';
  /** Pods by namespace and label, Services by selector, slices by service name (see indexes.ts). */
  private readonly pods = new LabelIndex();
  private readonly services = new SelectorIndex();
  private readonly slices = new LabelIndex();

  protected resync(): void {
    for (const pod of this.ctx.store.peekList(T.pods)) this.pods.upsert(pod);
    try {
      for (const slice of this.ctx.store.peekList(SLICES)) this.slices.upsert(slice);
    } catch {
      // discovery.k8s.io not served
    }
    for (const svc of this.ctx.store.peekList(SERVICES)) {
      this.services.set(svc, selectorOf(svc));
      this.enqueue(keyOf(svc));
    }
  }

  protected onEvent(event: ChangeEvent): void {
    if (isType(event.resource, SERVICES)) {
      const obj = event.object;
      if (event.type === 'DELETED') {
        this.services.remove(obj);
        // Endpoints carry no owner reference: the controller removes them (slices are GC'd)
        if (selectorOf(obj)) this.enqueue(`delete:${keyOf(obj)}`);
        return;
      }
      this.services.set(obj, selectorOf(obj));
      this.enqueue(keyOf(obj));
    } else if (isType(event.resource, T.pods)) {
      // the Services that selected the pod before count too: a relabeled pod leaves them
      const before = this.pods.get(keyOf(event.object));
      this.pods.onEvent(event);
      for (const key of this.services.selecting(event.object)) this.enqueue(key);
      if (before) for (const key of this.services.selecting(before)) this.enqueue(key);
    } else if (isType(event.resource, SLICES)) {
      this.slices.onEvent(event);
    }
  }

  protected reconcile(key: string): void {
    const store = this.ctx.store;
    if (key.startsWith('delete:')) {
      const { namespace, name } = splitKey(key.slice(7));
      if (!store.peek(SERVICES, namespace, name)) ignoreNotFound(() => store.delete(ENDPOINTS, namespace, name));
      return;
    }
    const { namespace, name } = splitKey(key);
    const svc = store.peek(SERVICES, namespace, name);
    if (!svc || svc.metadata.deletionTimestamp) return;
    const spec = (svc.spec ?? {}) as ServiceSpec;
    if (!spec.selector || Object.keys(spec.selector).length === 0 || spec.type === 'ExternalName') return;
    const pods = this.pods
      .select(namespace, spec.selector)
      .filter((p) => !p.metadata.deletionTimestamp)
      .filter((p) => (p.status as { podIP?: string } | undefined)?.podIP)
      .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    const ports = spec.ports ?? [];
    const address = (p: KubeObject) => ({
      ip: (p.status as { podIP: string }).podIP,
      nodeName: (p.spec as { nodeName?: string } | undefined)?.nodeName ?? this.ctx.nodeName,
      targetRef: { kind: 'Pod', name: p.metadata.name, namespace, uid: p.metadata.uid },
    });

    // Endpoints: one subset per distinct port mapping
    const subsets = new Map<string, { addresses: unknown[]; notReadyAddresses: unknown[]; ports: unknown[] }>();
    for (const p of pods) {
      const mapped = ports.map((sp) => ({ name: sp.name, port: resolvePort(sp, p), protocol: sp.protocol ?? 'TCP', appProtocol: sp.appProtocol }));
      if (mapped.some((m) => m.port === undefined)) continue;
      const k = stableJson(mapped);
      let subset = subsets.get(k);
      if (!subset) subsets.set(k, (subset = { addresses: [], notReadyAddresses: [], ports: mapped.map((m) => JSON.parse(stableJson(m))) }));
      if (isPodReady(p) || spec.publishNotReadyAddresses) subset.addresses.push(address(p));
      else subset.notReadyAddresses.push(address(p));
    }
    const subsetList = [...subsets.values()].map((s) => {
      const out: Record<string, unknown> = { ports: s.ports };
      if (s.addresses.length) out.addresses = s.addresses;
      if (s.notReadyAddresses.length) out.notReadyAddresses = s.notReadyAddresses;
      return out;
    });
    const labels = { ...(svc.metadata.labels ?? {}) };
    const existing = store.peek(ENDPOINTS, namespace, name);
    const wanted: KubeObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace, labels },
    };
    if (subsetList.length) wanted.subsets = subsetList;
    if (!existing) store.create(ENDPOINTS, namespace, wanted);
    else if (!sameJson(existing.subsets ?? [], wanted.subsets ?? []) || !sameJson(existing.metadata.labels ?? {}, labels)) {
      const updated = clone(existing);
      updated.metadata.labels = labels;
      if (wanted.subsets) updated.subsets = wanted.subsets;
      else delete updated.subsets;
      store.update(ENDPOINTS, namespace, updated);
    }

    // EndpointSlice
    const slicePorts = ports.map((sp) => {
      const resolved = pods.length ? resolvePort(sp, pods[0] as KubeObject) : typeof sp.targetPort === 'number' ? sp.targetPort : undefined;
      const out: Record<string, unknown> = { name: sp.name ?? '', protocol: sp.protocol ?? 'TCP' };
      if (resolved !== undefined) out.port = resolved;
      if (sp.appProtocol) out.appProtocol = sp.appProtocol;
      return out;
    });
    const endpoints = pods.map((p) => {
      const ready = isPodReady(p);
      return {
        addresses: [(p.status as { podIP: string }).podIP],
        conditions: { ready, serving: ready, terminating: false },
        nodeName: (p.spec as { nodeName?: string } | undefined)?.nodeName ?? this.ctx.nodeName,
        targetRef: { kind: 'Pod', name: p.metadata.name, namespace, uid: p.metadata.uid },
      };
    });
    try {
      store.peek(SLICES, namespace, name);
    } catch {
      return; // discovery.k8s.io not served
    }
    const slice: KubeObject | undefined = this.slices.select(namespace, { [SERVICE_NAME]: name, [MANAGED_BY]: 'endpointslice-controller.k8s.io' })[0];
    const sliceLabels = { ...labels, [SERVICE_NAME]: name, [MANAGED_BY]: 'endpointslice-controller.k8s.io' };
    if (!slice) {
      store.create(SLICES, namespace, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { generateName: `${name}-`, namespace, labels: sliceLabels, ownerReferences: [controllerRef(svc)] },
        addressType: 'IPv4',
        endpoints,
        ports: slicePorts,
      });
    } else if (!sameJson({ e: slice.endpoints ?? [], p: slice.ports ?? [], l: slice.metadata.labels }, { e: endpoints, p: slicePorts, l: sliceLabels })) {
      const updated = clone(slice);
      updated.endpoints = endpoints;
      updated.ports = slicePorts;
      updated.metadata.labels = sliceLabels;
      store.update(SLICES, namespace, updated);
    }
  }
}
