/** Label and field selectors, as the API server parses them. */
import type { KubeObject } from '../store-api.js';
import { badRequest } from './errors.js';

type Op = '=' | '!=' | 'in' | 'notin' | 'exists' | '!exists';
interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

export type Matcher = (labels: Record<string, string> | undefined) => boolean;

/** Splits at commas that are not inside parentheses. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x.length > 0);
}

export function parseLabelSelector(selector: string | undefined): Requirement[] {
  if (!selector || !selector.trim()) return [];
  const reqs: Requirement[] = [];
  for (const part of splitTopLevel(selector)) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^([^\s!=,()]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      reqs.push({ key: m[1], op: m[2] as Op, values: m[3].split(',').map((v) => v.trim()).filter((v) => v !== '') });
    } else if ((m = part.match(/^([^\s!=,()]+)\s*(==|=|!=)\s*([^\s!=,()]*)$/))) {
      reqs.push({ key: m[1], op: m[2] === '!=' ? '!=' : '=', values: [m[3]] });
    } else if ((m = part.match(/^!\s*([^\s!=,()]+)$/))) {
      reqs.push({ key: m[1], op: '!exists', values: [] });
    } else if ((m = part.match(/^([^\s!=,()]+)$/))) {
      reqs.push({ key: m[1], op: 'exists', values: [] });
    } else {
      throw badRequest(`unable to parse requirement: found '${part}', expected: key, !key, key=value, key!=value, key in (...) or key notin (...)`);
    }
  }
  return reqs;
}

function matches(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  for (const r of reqs) {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = has ? labels![r.key] : undefined;
    switch (r.op) {
      case '=':
        if (v !== r.values[0]) return false;
        break;
      case '!=':
        if (v === r.values[0]) return false;
        break;
      case 'in':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case '!exists':
        if (has) return false;
        break;
    }
  }
  return true;
}

export function labelMatcher(selector: string | undefined): Matcher {
  const reqs = parseLabelSelector(selector);
  if (reqs.length === 0) return () => true;
  return (labels) => matches(reqs, labels);
}

/** A metav1.LabelSelector (matchLabels + matchExpressions) as a matcher. */
export function labelSelectorObjectMatcher(sel: {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
} | undefined): Matcher {
  if (!sel) return () => false;
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, op: '=', values: [v] });
  for (const e of sel.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' } as Record<string, Op>)[e.operator];
    if (op) reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return (labels) => matches(reqs, labels);
}

/** Renders a metav1.LabelSelector as the string form (`a=b,c in (d)`). */
export function labelSelectorToString(sel: {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
} | undefined): string {
  if (!sel) return '';
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export type FieldMatcher = (obj: KubeObject) => boolean;

function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return '';
  return String(cur);
}

export function fieldMatcher(selector: string | undefined): FieldMatcher {
  if (!selector || !selector.trim()) return () => true;
  const reqs: Array<{ path: string; neg: boolean; value: string }> = [];
  for (const part of splitTopLevel(selector)) {
    const m = part.match(/^([A-Za-z0-9_.\-/]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    reqs.push({ path: m[1], neg: m[2] === '!=', value: m[3].trim() });
  }
  return (obj) => reqs.every((r) => (fieldValue(obj, r.path) === r.value) !== r.neg);
}
