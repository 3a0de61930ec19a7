/** The kube-sim command: flags, ready line, SIGTERM, state across restarts, seeding. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from './cli.js';
import { KUBECTL_DIR } from './testing.js';

const BIN = fileURLToPath(new URL('../bin/kube-sim.js', import.meta.url));
const APPS = fileURLToPath(new URL('../../../test/fixtures/apps/', import.meta.url));

describe('parseArgs', () => {
  it('parses serve flags', () => {
    expect(parseArgs(['serve', '--port', '0', '--data', '/d', '--kubeconfig-out=/k', '--seed', '/s'])).toEqual({
      command: 'serve',
      args: { port: 0, host: '127.0.0.1', data: '/d', kubeconfigOut: '/k', seed: '/s', controllers: true },
    });
    expect(parseArgs(['--help'])).toEqual({ command: 'help' });
  });
  it('rejects bad flags with clear errors', () => {
    expect(() => parseArgs(['serve', '--port', 'x', '--data', 'd'])).toThrow(/--port must be a number/);
    expect(() => parseArgs(['serve', '--bogus'])).toThrow(UsageError);
    expect(() => parseArgs(['serve'])).toThrow(/--data DIR is required/);
    expect(() => parseArgs(['run'])).toThrow(/unknown command "run"/);
  });
});

function run(args: string[]): { ready: Promise<string>; exit: Promise<number | null>; kill: (sig: NodeJS.Signals) => void; output: () => string } {
  // the bin wrapper imports dist/: run the TypeScript entry through the built output
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c) => {
      out += c;
      const m = out.match(/kube-sim ready on (\S+)/);
      if (m) resolve(m[1]);
    });
    child.stderr.on('data', (c) => (out += c));
    child.on('exit', () => reject(new Error(`kube-sim exited before it was ready:\n${out}`)));
  });
  ready.catch(() => undefined);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { ready, exit, kill: (sig) => child.kill(sig), output: () => out };
}

function kubectl(kubeconfig: string, home: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(join(KUBECTL_DIR, 'kubectl'), args, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: home } });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
  });
}

describe('kube-sim serve (built command)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-sim-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves until SIGTERM, keeps state across restarts, seeds', async () => {
    const kc = join(dir, 'out', 'kubeconfig');
    const data = join(dir, 'data');
    const first = run(['serve', '--port', '0', '--data', data, '--kubeconfig-out', kc, '--seed', join(APPS, 'guestbook')]);
    const url = await first.ready;
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(first.output()).toContain(`(kubeconfig: ${kc})`);
    expect(await kubectl(kc, dir, ['get', 'deployments', '-n', 'default', '-o', 'name'])).toContain('deployment.apps/frontend');
    await kubectl(kc, dir, ['create', 'configmap', 'survivor', '-n', 'default']);
    first.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    const second = run(['serve', '--port', '0', '--data', data, '--kubeconfig-out', kc]);
    await second.ready;
    expect(await kubectl(kc, dir, ['get', 'configmap', 'survivor', '-n', 'default', '-o', 'name'])).toContain('configmap/survivor');
    second.kill('SIGINT');
    expect(await second.exit).toBe(0);
  });

  it('fails clearly on bad flags', async () => {
    const bad = run(['serve', '--port', 'nope', '--data', dir]);
    expect(await bad.exit).toBe(2);
    expect(bad.output()).toContain('--port must be a number');
  });
});
