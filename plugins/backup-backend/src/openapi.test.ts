/** openapi.yaml documents exactly the routes the router serves. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createRouter, type RouterOptions } from './router.js';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
}

describe('openapi.yaml', () => {
  it('lists every route and method of the router, and no others', async () => {
    const router = await createRouter({} as RouterOptions);
    const served = (router.stack as Layer[])
      .filter((l) => l.route)
      .flatMap((l) =>
        Object.keys(l.route!.methods).map(
          (m) => `${m.toUpperCase()} ${l.route!.path.replace(/:(\w+)/g, '{$1}')}`,
        ),
      )
      .sort();
    const spec = parse(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(spec.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(served.length).toBeGreaterThan(8);
    expect(documented).toEqual(served);
  });
});
