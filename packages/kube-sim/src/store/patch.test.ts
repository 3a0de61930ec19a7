import { describe, expect, it } from 'vitest';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { labelMatcher, fieldMatcher } from './selectors.js';

describe('patches', () => {
  it('merge patch removes nulls and replaces lists', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null }, l: [3] })).toEqual({ a: 1, b: { d: 3 }, l: [3] });
  });
  it('json patch supports add/remove/replace/move/copy/test and escapes', () => {
    const doc = { a: { 'x/y': 1 }, l: [1, 2] };
    expect(
      jsonPatch(doc, [
        { op: 'add', path: '/l/-', value: 3 },
        { op: 'replace', path: '/a/x~1y', value: 2 },
        { op: 'copy', from: '/a', path: '/b' },
        { op: 'move', from: '/l/0', path: '/first' },
        { op: 'remove', path: '/a' },
        { op: 'test', path: '/first', value: 1 },
      ]),
    ).toEqual({ b: { 'x/y': 2 }, l: [2, 3], first: 1 });
    expect(() => jsonPatch(doc, [{ op: 'test', path: '/l/0', value: 9 }])).toThrow(/test failed/);
  });
  it('strategic merge patch merges keyed lists and honours directives', () => {
    const orig = { spec: { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80 }] }, { name: 'b', image: 'y' }], finalizers: ['f1'] } };
    const out = strategicMergePatch(orig, {
      spec: {
        containers: [{ name: 'a', image: 'x2', ports: [{ containerPort: 443 }] }, { name: 'b', $patch: 'delete' }, { name: 'c', image: 'z' }],
        finalizers: ['f2'],
      },
    });
    expect(out).toEqual({
      spec: {
        containers: [
          { name: 'a', image: 'x2', ports: [{ containerPort: 80 }, { containerPort: 443 }] },
          { name: 'c', image: 'z' },
        ],
        finalizers: ['f1', 'f2'],
      },
    });
    expect(strategicMergePatch({ m: { a: 1, b: 2 } }, { m: { $patch: 'replace', c: 3 } })).toEqual({ m: { c: 3 } });
    expect(strategicMergePatch({ l: ['a', 'b'] }, { $deleteFromPrimitiveList: undefined, l: ['c'] })).toEqual({ l: ['c'] });
  });
});

describe('selectors', () => {
  it('matches label selector operators', () => {
    const m = labelMatcher('app=web,tier!=db,env in (prod, staging),!legacy,team,zone notin (a)');
    expect(m({ app: 'web', env: 'prod', team: 'x' })).toBe(true);
    expect(m({ app: 'web', env: 'dev', team: 'x' })).toBe(false);
    expect(m({ app: 'web', env: 'prod', team: 'x', legacy: '1' })).toBe(false);
    expect(m({ app: 'web', env: 'prod', team: 'x', zone: 'a' })).toBe(false);
    expect(labelMatcher('a==b')({ a: 'b' })).toBe(true);
    expect(() => labelMatcher('a in b')).toThrow(/unable to parse/);
  });
  it('matches field selectors', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n' }, status: { phase: 'Running' } };
    expect(fieldMatcher('status.phase=Running,metadata.namespace=n')(pod)).toBe(true);
    expect(fieldMatcher('status.phase!=Running')(pod)).toBe(false);
  });
});
