/**
 * Failure injection for tests: make a verb on a resource fail with a given status, slow it
 * down, or drop the connection; pause and resume the controllers. Reachable in-process
 * (`sim.failures`) and over HTTP at `/kube-sim/failures` and `/kube-sim/controllers/{pause,resume}`
 * (members of system:masters only).
 */

export interface FailureRule {
  /** API verb: get, list, watch, create, update, patch, delete, deletecollection; omitted = any. */
  verb?: string;
  /** Plural resource, optionally with subresource (`pods/exec`) and group (`deployments.apps`); omitted = any. */
  resource?: string;
  namespace?: string;
  name?: string;
  /** Answer with this HTTP status (a Status body); omitted = do not fail (only delay). */
  status?: number;
  reason?: string;
  message?: string;
  /** Delay the request by this many milliseconds (before failing or serving it). */
  delayMs?: number;
  /** Destroy the connection without an answer. */
  drop?: boolean;
  /** Apply this many times, then remove the rule; omitted = until cleared. */
  times?: number;
}

export interface RequestFacts {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

interface StoredRule extends FailureRule {
  id: string;
  hits: number;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function reasonFor(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

export class FailureInjector {
  private rules: StoredRule[] = [];
  private nextId = 1;
  private paused = false;

  /** Adds a rule; returns its id. */
  add(rule: FailureRule): string {
    if (rule.status !== undefined && (!Number.isInteger(rule.status) || rule.status < 400 || rule.status > 599)) {
      throw new Error(`failure rule: status must be an HTTP error code (400-599), got ${rule.status}`);
    }
    if (rule.status === undefined && !rule.delayMs && !rule.drop) throw new Error('failure rule: give at least one of status, delayMs, drop');
    const id = String(this.nextId++);
    this.rules.push({ ...rule, id, hits: 0 });
    return id;
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
  }

  list(): Array<FailureRule & { id: string; hits: number }> {
    return this.rules.map((r) => ({ ...r }));
  }

  /** The first rule matching the request (counted as a hit), if any. */
  match(f: RequestFacts): FailureRule | undefined {
    if (this.rules.length === 0) return undefined;
    const res = f.subresource ? `${f.resource}/${f.subresource}` : f.resource;
    for (const r of this.rules) {
      if (r.verb && r.verb !== f.verb) continue;
      if (r.resource) {
        const [resPart, ...groupParts] = r.resource.split('.');
        const group = groupParts.join('.');
        if (resPart !== res && resPart !== f.resource) continue;
        if (groupParts.length && group !== f.group) continue;
        if (resPart === f.resource && f.subresource && !r.resource.includes('/')) continue;
      }
      if (r.namespace && r.namespace !== f.namespace) continue;
      if (r.name && r.name !== f.name) continue;
      r.hits++;
      if (r.times !== undefined && r.hits >= r.times) this.remove(r.id);
      return r;
    }
    return undefined;
  }

  pauseControllers(): void {
    this.paused = true;
  }

  resumeControllers(): void {
    this.paused = false;
  }

  controllersPaused(): boolean {
    return this.paused;
  }
}
