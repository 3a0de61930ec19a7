/**
 * The contract between kube-sim's API server core (HTTP, auth, discovery, the object store) and
 * its controllers (workloads, volumes, snapshots) and exec handlers. Controllers see the cluster
 * only through `SimContext`, exactly as a real controller sees it through the API: they read,
 * create, update and delete objects and react to change events.
 */

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }>;
  finalizers?: string[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** Identifies a resource type: group '' is the core group. */
export interface ResourceType {
  group: string;
  version: string;
  /** Plural lower-case name, e.g. 'deployments'. */
  resource: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  type: WatchEventType;
  resource: ResourceType;
  /** The object as stored, shared with the store and every other listener: read-only. */
  object: KubeObject;
}

/**
 * Object store operations with the real API server's semantics (uid, resourceVersion,
 * generation, creationTimestamp, finalizers, deletionTimestamp, Status errors thrown as
 * `ApiError` from the core). Namespaced calls pass `namespace`; cluster-scoped pass undefined.
 *
 * Stored objects are immutable: a write stores a new object. `get`/`list` and the writes return
 * copies the caller may change; `peek`/`peekList` and change events hand out the stored objects
 * themselves, without the cost of a copy, and these must never be mutated (copy first, or build
 * a new object around the parts that change). The store never mutates the objects passed in.
 */
export interface ObjectStore {
  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined;
  list(type: ResourceType, namespace?: string): KubeObject[];
  /** The stored object itself (read-only), or undefined. */
  peek(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined;
  /** The stored objects themselves (read-only), in namespace/name order. */
  peekList(type: ResourceType, namespace?: string): KubeObject[];
  create(type: ResourceType, namespace: string | undefined, object: KubeObject): KubeObject;
  /** Replaces spec/metadata; status is kept unless the type has no status subresource. */
  update(type: ResourceType, namespace: string | undefined, object: KubeObject): KubeObject;
  /** Replaces only `.status` (the status subresource). */
  updateStatus(type: ResourceType, namespace: string | undefined, object: KubeObject): KubeObject;
  /** Deletes, honouring finalizers (sets deletionTimestamp) and propagation policy. */
  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    options?: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' },
  ): KubeObject | undefined;
  /** Subscribes to every change; returns the unsubscribe function. */
  onChange(listener: (event: ChangeEvent) => void): () => void;
}

/** What the core hands to controllers and exec handlers. */
export interface SimContext {
  readonly store: ObjectStore;
  /** Root of kube-sim's state on disk (`--data DIR`). */
  readonly dataDir: string;
  /** The single node's name (pods are scheduled here). */
  readonly nodeName: string;
  /** True while controllers are paused by failure injection. */
  controllersPaused(): boolean;
}

/** A controller: reconciles on change events and on start (state may exist from a restart). */
export interface Controller {
  readonly name: string;
  start(ctx: SimContext): void;
  stop(): void;
}

/** Result of running a command in a pod (exec). */
export interface ExecRequest {
  namespace: string;
  pod: string;
  container?: string;
  command: string[];
  stdin: boolean;
  tty: boolean;
}
