/**
 * The terminal UI end to end: the built `kubectl-backup` in a real pseudo-terminal (tmux)
 * against a kube-sim. A person's session — open, find the namespace, back it up, restore it
 * into a new namespace, quit — then the cluster's and the repository's state are checked;
 * resizing, a namespace-limited user, and SIGTERM (the terminal is given back sane).
 *
 * Set UPDATE_SCREENSHOTS=1 to rewrite docs/tui-*.svg from the captured screens.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSim } from '@kubectl-backup/kube-sim';
import { textToSvg } from '../docs/text-to-svg.mjs';
import { BIN, json, type Sandbox } from './test-util/cli.js';
import {
  clusterSandbox,
  inventory as inventoryOf,
  ok,
  seedShop,
  type ClusterSandbox,
} from './test-util/cluster.js';

const run = promisify(execFile);
const DOCS = path.resolve(import.meta.dirname, '../docs');
const SOCKET = `kb-tui-${process.pid}-${randomBytes(3).toString('hex')}`;

let c: ClusterSandbox;
let sim: TestSim;
let sb: Sandbox;

const kubectl = (args: string[]) => c.kubectl(args);

const tmux = async (...args: string[]) =>
  (await run('tmux', ['-L', SOCKET, ...args], { env: { PATH: process.env.PATH ?? '' } })).stdout;

/**
 * A tmux session running `kubectl-backup ARGS` in a clean environment (no CI variables: Ink
 * would draw only the last frame), then printing its exit code and the terminal's modes.
 */
class Terminal {
  constructor(readonly name: string) {}

  static async open(name: string, args: string[], size = { x: 100, y: 30 }): Promise<Terminal> {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: sb.dir,
      TERM: 'xterm-256color',
      KUBECONFIG: sim.kubeconfigPath,
      ...sb.env,
    };
    const assignments = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
    const command = [
      `env -i ${assignments.join(' ')} ${shellQuote(process.execPath)} ${shellQuote(BIN)} ${args.map(shellQuote).join(' ')}`,
      'echo "EXIT=$?"',
      // the terminal's modes after the program: icanon, echo, isig unless left in raw mode
      'echo "MODES: $(stty -a | tr -s " ;\\n" "\\n\\n\\n" | grep -E "^-?(icanon|echo|isig)$" | sort | tr "\\n" " ")."',
      'sleep 600',
    ].join('; ');
    await tmux(
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      String(size.x),
      '-y',
      String(size.y),
      command,
    );
    return new Terminal(name);
  }

  screen(colors = false): Promise<string> {
    return tmux('capture-pane', '-p', ...(colors ? ['-e'] : []), '-t', this.name);
  }

  /** Waits until every text is on the screen; returns the screen. */
  async see(...texts: string[]): Promise<string> {
    const end = Date.now() + 60_000;
    let screen = '';
    while (Date.now() < end) {
      screen = await this.screen();
      if (texts.every((t) => screen.includes(t))) return screen;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${JSON.stringify(texts)} on the screen:\n${screen}`);
  }

  /** Keys by tmux name (Enter, Escape, BSpace, Down…) or single characters. */
  async keys(...keys: string[]): Promise<void> {
    for (const key of keys) {
      await tmux('send-keys', '-t', this.name, key);
      await new Promise((r) => setTimeout(r, 60));
    }
  }

  /** Text typed as is. */
  async type(text: string): Promise<void> {
    await tmux('send-keys', '-t', this.name, '-l', text);
    await new Promise((r) => setTimeout(r, 60));
  }

  async resize(x: number, y: number): Promise<void> {
    await tmux('resize-window', '-t', this.name, '-x', String(x), '-y', String(y));
  }

  /** The process running in the pane's shell (the kubectl-backup process). */
  async programPid(): Promise<number> {
    const shell = (await tmux('display-message', '-p', '-t', this.name, '#{pane_pid}')).trim();
    const { stdout } = await run('pgrep', ['-P', shell]);
    return Number(stdout.trim().split('\n')[0]);
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** After the program: its exit code, and the terminal back in cooked mode with echo and signals. */
async function expectExit(term: Terminal, code: number): Promise<string> {
  const screen = await term.see(`EXIT=${code}`, 'MODES: ');
  expect(/MODES: (.*)\./.exec(screen)?.[1]?.trim()).toBe('echo icanon isig');
  return screen;
}

async function screenshot(name: string, title: string, term: Terminal): Promise<void> {
  if (!process.env.UPDATE_SCREENSHOTS) return;
  await writeFile(
    path.join(DOCS, name),
    textToSvg(await term.screen(true), { columns: 100, title }),
  );
}

const inventory = (ns: string) => inventoryOf(c, ns, 'deployments,services,configmaps');

beforeAll(async () => {
  c = await clusterSandbox();
  ({ sim, sb } = c);
  await seedShop(c);
}, 120_000);

afterAll(async () => {
  await tmux('kill-server').catch(() => undefined);
  await c?.dispose();
});

describe('kubectl backup tui in a terminal', () => {
  it('backs up a namespace and restores it into a new one, then quits cleanly', async () => {
    const term = await Terminal.open('main', ['tui']);
    let screen = await term.see('Namespaces (', 'shop', 'kube-system', 'q quit');
    expect(screen).toContain('context admin');
    expect(screen).toContain('user admin'); // as the API server sees it
    expect(screen).toMatch(/shop\s+never\s+-/);

    // find the namespace by typing, open it
    await term.keys('/');
    await term.type('sho');
    await term.see('filter: sho', 'Namespaces (1 of');
    await term.keys('Enter');
    await term.see('1 backups (0)', 'no backups yet');

    // back it up now
    await term.keys('b');
    screen = await term.see('✓ backup shop-', 'saved as snapshot');
    const backup = /✓ backup (shop-\S+) saved as snapshot ([0-9a-f]{8})/.exec(screen)!;
    expect(screen).toMatch(/\d+ objects of \d+ kinds/);
    await term.keys('Enter');
    screen = await term.see('1 backups (1)', `${backup[1]}  snapshot ${backup[2]}`, 'Images (3):');
    expect(screen).toMatch(/Resources \(\d+\): ConfigMap 1, Deployment 3, Service 3/);
    await screenshot('tui-namespace.svg', 'kubectl backup — namespace shop', term);

    // restore it into a new namespace through the wizard
    await term.keys('r');
    await term.see('Restore into which namespace?', '› shop');
    await term.keys('BSpace', 'BSpace', 'BSpace', 'BSpace');
    await term.type('shop-restored');
    await term.see('› shop-restored');
    await term.keys('Enter');
    await term.see('Which resources?');
    await term.keys('Enter');
    await term.see('Objects that exist already in shop-restored');
    await term.keys('Enter');
    await term.see('Restore PVC data?');
    await term.keys('Enter');
    screen = await term.see('dry run: would create', 'type shop-restored and Enter to restore');
    expect(screen).toMatch(/create\s+Namespace\s+shop-restored/);
    expect(screen).toMatch(/create\s+Deployment\s+frontend/);
    expect((await kubectl(['get', 'namespace', 'shop-restored'])).code).not.toBe(0); // dry run
    await screenshot('tui-restore-plan.svg', 'kubectl backup — restore wizard', term);
    await term.type('shop-restored');
    await term.keys('Enter');
    screen = await term.see('restore success into shop-restored', 'record ');
    expect(screen).toMatch(/\d+ created, 0 updated, 0 unchanged, \d+ skipped, 0 failed/);
    expect(screen).toMatch(/created\s+Deployment\s+redis-master/);
    await term.keys('Enter');
    await term.keys('2');
    screen = await term.see('2 restores (1)', 'FROM BACKUP', 'success');
    expect(screen).toContain(`${backup[1]}-restore-`);

    // back to the list (Esc clears the filter): shop is backed up now, shop-restored is there
    await term.keys('Escape', 'Escape');
    screen = await term.see('shop-restored', 'kube-system');
    expect(screen).toMatch(/shop\s+ok\s+\d+s ago\s+\S+ KiB\s+1 -/);
    expect(screen).toMatch(/shop-restored\s+never/);
    await screenshot('tui-namespaces.svg', 'kubectl backup', term);

    // a larger terminal is used as soon as it is resized: the rule is as wide, the footer last
    await term.resize(130, 40);
    screen = await term.see('─'.repeat(130));
    expect(screen.split('\n')[38]).toMatch(/^↑↓ move\s+Enter open/);

    await term.keys('q');
    await expectExit(term, 0);

    // the cluster and the repository afterwards
    expect(await inventory('shop-restored')).toEqual(await inventory('shop'));
    const backups = json<Array<{ name: string; snapshot: string }>>(
      await ok(sb.run(['list', '-n', 'shop', '-o', 'json'], { KUBECONFIG: sim.kubeconfigPath })),
    );
    expect(backups.map((b) => [b.name, b.snapshot.slice(0, 8)])).toEqual([[backup[1], backup[2]]]);
    const audit = json<Array<{ action: string; outcome: string; target: string }>>(
      await ok(sb.run(['audit', '-o', 'json'], { KUBECONFIG: sim.kubeconfigPath })),
    );
    expect(audit.map((e) => `${e.action} ${e.outcome} ${e.target}`)).toEqual(
      expect.arrayContaining([
        `backup.create success ${backup[1]}`,
        `restore.create success ${backup[1]}`,
      ]),
    );
    await ok(sb.run(['audit', '--verify']));
  });

  it('cancels a running backup with Esc: nothing is kept, the repository checks clean', async () => {
    const before = await ok(
      sb.run(['list', '-n', 'shop', '-o', 'name'], { KUBECONFIG: sim.kubeconfigPath }),
    );
    const term = await Terminal.open('cancel', ['tui', '-n', 'shop']);
    await term.see('1 backups (1)');
    // listing config maps takes a while: the backup is still capturing when Esc arrives
    const slow = sim.failures.add({
      verb: 'list',
      resource: 'configmaps',
      namespace: 'shop',
      delayMs: 20_000,
    });
    try {
      await term.keys('b');
      await term.see('Backing up namespace shop', 'listing resources');
      await term.keys('Escape');
      await term.see('backup canceled: nothing was kept');
    } finally {
      sim.failures.remove(slow);
    }
    await term.keys('Enter', 'q');
    await expectExit(term, 0);
    const after = await ok(
      sb.run(['list', '-n', 'shop', '-o', 'name'], { KUBECONFIG: sim.kubeconfigPath }),
    );
    expect(after.stdout).toBe(before.stdout);
    const audit = json<Array<{ action: string; outcome: string; namespace?: string }>>(
      await ok(sb.run(['audit', '-o', 'json'])),
    );
    expect(audit.at(-1)).toMatchObject({
      action: 'backup.create',
      outcome: 'canceled',
      namespace: 'shop',
    });
    await ok(sb.run(['repo', 'check']));
  });

  it('shows a namespace-limited user what it may not see, marked forbidden', async () => {
    const term = await Terminal.open('dev', ['tui', '--context', 'dev']);
    const screen = await term.see('you may not list namespaces', 'team-a', 'shop');
    expect(screen).toContain('user dev');
    expect(screen).toMatch(/shop\s+forbidden\s+ok/); // it has a backup, made by admin
    expect(screen).toMatch(/team-a\s+never/);
    await term.keys('q');
    await expectExit(term, 0);
  });

  it('gives the terminal back when stopped by SIGTERM', async () => {
    const term = await Terminal.open('term', ['tui', '-n', 'shop']);
    await term.see('1 backups (1)');
    process.kill(await term.programPid(), 'SIGTERM');
    const screen = await expectExit(term, 130);
    expect(screen).toContain('error: interrupted');
  });
});
