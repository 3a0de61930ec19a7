import { describe, expect, it } from 'vitest';
import { isPristineDefaultServiceAccount, matchesLabelSelector, ResourceFilter, skipReason } from './discovery.js';
import { errorFromStatus, translateError } from './errors.js';
import { parseRequestTimeout } from './context.js';
import { defaultBackupName, parseResourceDocName, resourceDocName } from './layout.js';

const deployments = { group: 'apps', resource: 'deployments', kind: 'Deployment', singular: 'deployment', shortNames: ['deploy'] };
const configmaps = { group: '', resource: 'configmaps', kind: 'ConfigMap', singular: 'configmap', shortNames: ['cm'] };

describe('resource filters', () => {
  it('matches plural, singular, kind, short names, with or without the group', () => {
    for (const n of ['deployments', 'deployments.apps', 'deployment', 'Deployment', 'deploy']) expect(new ResourceFilter([n]).allows(deployments)).toBe(true);
    expect(new ResourceFilter(['deployments.batch']).allows(deployments)).toBe(false);
    expect(new ResourceFilter(['configmaps.core']).allows(configmaps)).toBe(true);
    expect(new ResourceFilter([], ['cm']).allows(configmaps)).toBe(false);
    expect(new ResourceFilter(['deployments,configmaps']).allows(configmaps)).toBe(true);
    expect(new ResourceFilter(['*'], ['deploy']).allows(deployments)).toBe(false);
  });

  it('evaluates label selectors', () => {
    const l = { app: 'web', tier: 'front' };
    expect(matchesLabelSelector(l, 'app=web')).toBe(true);
    expect(matchesLabelSelector(l, 'app==web,tier!=back')).toBe(true);
    expect(matchesLabelSelector(l, 'app in (web, api),!missing')).toBe(true);
    expect(matchesLabelSelector(l, 'tier notin (front)')).toBe(false);
    expect(matchesLabelSelector(l, 'missing')).toBe(false);
    expect(matchesLabelSelector(undefined, '')).toBe(true);
  });
});

describe('skip list', () => {
  it('skips controller-owned pods, the root CA ConfigMap and token Secrets, keeps the rest', () => {
    const owned = { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true }] };
    expect(skipReason({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...owned } })).toMatch(/owned by ReplicaSet rs/);
    expect(skipReason({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare' } })).toBeUndefined();
    expect(skipReason({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' } })).toBeDefined();
    expect(skipReason({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 't' }, type: 'kubernetes.io/service-account-token' })).toBeDefined();
    expect(skipReason({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 't', ...owned } })).toBeUndefined();
    expect(isPristineDefaultServiceAccount({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } })).toBe(true);
    expect(isPristineDefaultServiceAccount({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' }, imagePullSecrets: [{ name: 'r' }] })).toBe(false);
  });
});

describe('errors and names', () => {
  it('names verb and resource in Forbidden errors and suggests kubectl auth can-i', () => {
    const e = errorFromStatus(403, { kind: 'Status', reason: 'Forbidden', message: 'nope' }, { verb: 'list', group: 'apps', resource: 'deployments', namespace: 'ns' });
    expect(e.code).toBe('EFORBIDDEN');
    expect(e.message).toContain('cannot list deployments.apps in namespace "ns"');
    expect(e.message).toContain('kubectl auth can-i list deployments.apps -n ns');
    expect(translateError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), { verb: 'get' }, 'https://h:1').code).toBe('EUNREACHABLE');
    expect(translateError({ code: 404, body: '{"reason":"NotFound","message":"gone"}' }, { verb: 'get', resource: 'pods', name: 'p' }).code).toBe('ENOTFOUND');
  });

  it('parses request timeouts like kubectl', () => {
    expect(parseRequestTimeout('30s')).toBe(30_000);
    expect(parseRequestTimeout('2m')).toBe(120_000);
    expect(parseRequestTimeout('0')).toBe(0);
    expect(parseRequestTimeout(5)).toBe(5000);
    expect(() => parseRequestTimeout('soon')).toThrow(/invalid request timeout/);
  });

  it('lays out documents and default names', () => {
    const ref = { group: '', version: 'v1', resource: 'configmaps', namespace: 'ns', name: 'a.b' };
    expect(resourceDocName(ref)).toBe('resources/core/v1/configmaps/ns/a.b.json');
    expect(parseResourceDocName(resourceDocName(ref))).toEqual(ref);
    expect(parseResourceDocName('resources/apps/v1/x/_cluster/n.json')).toEqual({ group: 'apps', version: 'v1', resource: 'x', namespace: undefined, name: 'n' });
    expect(defaultBackupName('shop', new Date('2026-11-21T14:00:01.5Z'))).toBe('shop-20261121t140001z');
  });
});
