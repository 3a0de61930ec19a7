/**
 * Indexes that spare the controllers a scan of a whole namespace on every change: objects by
 * namespace and label (which pods does this selector select?), selectors by namespace and label
 * (which Services select this pod?) and objects by what they refer to (which pods mount this
 * claim?). They hold the stored objects that change events carry (read-only) and follow those
 * events, so they always match the store.
 */
import type { ChangeEvent, KubeObject } from '../store-api.js';
import { keyOf } from './util.js';

export type Selector = Record<string, string>;

/** True when every `key: value` of a non-empty selector is among the labels. */
export function selects(
  selector: Selector | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector) return false;
  let any = false;
  for (const k in selector) {
    if (labels?.[k] !== selector[k]) return false;
    any = true;
  }
  return any;
}

function labelKey(namespace: string | undefined, k: string, v: string): string {
  return `${namespace ?? ''}\0${k}=${v}`;
}

function addTo(map: Map<string, Set<string>>, k: string, key: string): void {
  let set = map.get(k);
  if (!set) map.set(k, (set = new Set()));
  set.add(key);
}

function removeFrom(map: Map<string, Set<string>>, k: string, key: string): void {
  const set = map.get(k);
  set?.delete(key);
  if (set?.size === 0) map.delete(k);
}

/** Objects of one type by namespace and label. */
export class LabelIndex {
  private readonly objects = new Map<string, KubeObject>();
  private readonly byLabel = new Map<string, Set<string>>();

  upsert(obj: KubeObject): void {
    const key = keyOf(obj);
    const prev = this.objects.get(key);
    if (prev) this.unlabel(key, prev);
    this.objects.set(key, obj);
    const labels = obj.metadata.labels ?? {};
    for (const k in labels)
      addTo(this.byLabel, labelKey(obj.metadata.namespace, k, labels[k]), key);
  }

  remove(obj: KubeObject): void {
    const key = keyOf(obj);
    const prev = this.objects.get(key);
    if (!prev) return;
    this.unlabel(key, prev);
    this.objects.delete(key);
  }

  onEvent(event: ChangeEvent): void {
    if (event.type === 'DELETED') this.remove(event.object);
    else this.upsert(event.object);
  }

  /** The indexed version of the object with this key (`namespace/name`). */
  get(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  /** The objects in `namespace` that a non-empty selector selects, in key (name) order. */
  select(namespace: string | undefined, selector: Selector): KubeObject[] {
    let smallest: Set<string> | undefined;
    for (const k in selector) {
      const set = this.byLabel.get(labelKey(namespace, k, selector[k]));
      if (!set) return [];
      if (!smallest || set.size < smallest.size) smallest = set;
    }
    if (!smallest) return [];
    const out: KubeObject[] = [];
    for (const key of [...smallest].sort()) {
      const obj = this.objects.get(key)!;
      if (selects(selector, obj.metadata.labels)) out.push(obj);
    }
    return out;
  }

  private unlabel(key: string, obj: KubeObject): void {
    const labels = obj.metadata.labels ?? {};
    for (const k in labels)
      removeFrom(this.byLabel, labelKey(obj.metadata.namespace, k, labels[k]), key);
  }
}

/** Selectors (e.g. of Services) by namespace: which of them select a given object. */
export class SelectorIndex {
  private readonly selectors = new Map<
    string,
    { namespace: string | undefined; selector: Selector; anchor: string }
  >();
  /** Each selector is filed under one of its labels: an object it selects carries that label. */
  private readonly byAnchor = new Map<string, Set<string>>();

  set(owner: KubeObject, selector: Selector | undefined): void {
    this.remove(owner);
    const first = Object.keys(selector ?? {}).sort()[0];
    if (!selector || first === undefined) return;
    const key = keyOf(owner);
    const anchor = labelKey(owner.metadata.namespace, first, selector[first]);
    this.selectors.set(key, { namespace: owner.metadata.namespace, selector, anchor });
    addTo(this.byAnchor, anchor, key);
  }

  remove(owner: KubeObject): void {
    const key = keyOf(owner);
    const prev = this.selectors.get(key);
    if (!prev) return;
    removeFrom(this.byAnchor, prev.anchor, key);
    this.selectors.delete(key);
  }

  /** Keys of the owners in the object's namespace whose selector selects it, in key order. */
  selecting(obj: KubeObject): string[] {
    const labels = obj.metadata.labels ?? {};
    const out: string[] = [];
    for (const k in labels) {
      for (const key of this.byAnchor.get(labelKey(obj.metadata.namespace, k, labels[k])) ?? []) {
        if (selects(this.selectors.get(key)!.selector, labels)) out.push(key);
      }
    }
    return out.sort();
  }
}

/** Objects by the names of other objects of their namespace that they refer to. */
export class RefIndex {
  private readonly objects = new Map<string, KubeObject>();
  private readonly byRef = new Map<string, Set<string>>();

  constructor(private readonly refsOf: (obj: KubeObject) => string[]) {}

  upsert(obj: KubeObject): void {
    this.remove(obj);
    const key = keyOf(obj);
    this.objects.set(key, obj);
    for (const ref of this.refsOf(obj))
      addTo(this.byRef, `${obj.metadata.namespace ?? ''}/${ref}`, key);
  }

  remove(obj: KubeObject): void {
    const key = keyOf(obj);
    const prev = this.objects.get(key);
    if (!prev) return;
    for (const ref of this.refsOf(prev))
      removeFrom(this.byRef, `${prev.metadata.namespace ?? ''}/${ref}`, key);
    this.objects.delete(key);
  }

  onEvent(event: ChangeEvent): void {
    if (event.type === 'DELETED') this.remove(event.object);
    else this.upsert(event.object);
  }

  /** The objects in `namespace` that refer to `name`, in key (name) order. */
  referring(namespace: string | undefined, name: string): KubeObject[] {
    const keys = this.byRef.get(`${namespace ?? ''}/${name}`);
    return keys ? [...keys].sort().map((k) => this.objects.get(k)!) : [];
  }
}
