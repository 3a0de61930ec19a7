import { describe, expect, it } from 'vitest';

import { sameJson, stableJson, templateHash } from './util.js';

/** A small deterministic generator of JSON-like values (with undefined, NaN and key order). */
function values(seed: number, n: number): unknown[] {
  let x = seed;
  const rnd = (k: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % k;
  };
  const gen = (depth: number): unknown => {
    switch (rnd(depth > 2 ? 7 : 9)) {
      case 0:
        return undefined;
      case 1:
        return null;
      case 2:
        return [0, 1, -0, NaN, 1.5][rnd(5)];
      case 3:
        return ['', 'a', '1', 'null'][rnd(4)];
      case 4:
        return rnd(2) === 0;
      case 5:
      case 6:
        return ['a', 'b'][rnd(2)];
      case 7:
        return Array.from({ length: rnd(3) }, () => gen(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (const k of ['b', 'a', 'c'].slice(0, rnd(4))) o[k] = gen(depth + 1);
        return o;
      }
    }
  };
  return Array.from({ length: n }, () => gen(0));
}

/** stableJson as it was first written: the reference the faster one must match. */
function referenceStableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(referenceStableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${referenceStableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

describe('stableJson', () => {
  it('serializes like the reference: sorted keys, no undefined members, null for undefined items', () => {
    for (const v of values(11, 500)) expect(stableJson(v)).toBe(referenceStableJson(v));
    expect(stableJson({ b: 1, a: [undefined, 'x"'], c: undefined, é: null })).toBe(
      '{"a":[null,"x\\""],"b":1,"é":null}',
    );
  });
});

describe('sameJson', () => {
  it('agrees with comparing stableJson strings', () => {
    const vs = values(7, 300);
    let equal = 0;
    for (const a of vs) {
      for (const b of vs) {
        const expected = stableJson(a) === stableJson(b);
        if (sameJson(a, b) !== expected)
          throw new Error(`sameJson(${stableJson(a)}, ${stableJson(b)}) !== ${expected}`);
        if (expected) equal++;
      }
    }
    expect(equal).toBeGreaterThan(vs.length); // equal pairs beyond a === a were compared too
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameJson({ b: [1, { c: 'x' }], a: null }, { a: null, b: [1, { c: 'x' }] })).toBe(true);
    expect(sameJson({ a: 1 }, { a: '1' })).toBe(false);
    expect(sameJson([1, 2], { 0: 1, 1: 2 })).toBe(false);
  });
});

describe('templateHash', () => {
  it('hashes equal templates alike, whatever the key order, and remembers a stored template', () => {
    const t = Object.freeze({
      metadata: { labels: { app: 'a' } },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    });
    const h = templateHash(t);
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(
      templateHash({
        spec: { containers: [{ image: 'nginx', name: 'c' }] },
        metadata: { labels: { app: 'a' } },
      }),
    ).toBe(h);
    expect(templateHash(t)).toBe(h);
    // Remembered by identity: a (forbidden) change to a hashed object does not change its hash.
    const mutable = { metadata: { labels: { app: 'a' } } };
    const before = templateHash(mutable);
    mutable.metadata.labels.app = 'b';
    expect(templateHash(mutable)).toBe(before);
    expect(templateHash({ metadata: { labels: { app: 'b' } } })).not.toBe(before);
    expect(
      templateHash({ ...t, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }),
    ).not.toBe(h);
  });
});
