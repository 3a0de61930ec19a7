/** Pre/post hooks from pod annotations, run over exec in kube-sim with the real client-node. */
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HOOK_ANNOTATIONS, hookFailure, parseHookCommand, runHooks } from './hooks.js';
import { createNamespace, createPvc, sh, startPod, startVolumeSim, type VolumeSim } from './test-support/volumes.js';

describe('hooks', () => {
  let t: VolumeSim;
  const ns = 'hooks';
  let pods: V1Pod[] = [];
  beforeAll(async () => {
    t = await startVolumeSim();
    await createNamespace(t.core, ns);
    await createPvc(t.core, ns, 'shared');
    pods = [
      await startPod(t.core, ns, 'db', {
        claims: ['shared'],
        annotations: {
          [HOOK_ANNOTATIONS.pre]: '["sh", "-c", "echo pre-db >> /data/log; echo flushed"]',
          [HOOK_ANNOTATIONS.post]: 'echo post-db >> /data/log',
        },
      }),
      await startPod(t.core, ns, 'plain', { claims: ['shared'] }),
      await startPod(t.core, ns, 'web', {
        claims: ['shared'],
        containers: ['app', 'sidecar'],
        annotations: {
          [HOOK_ANNOTATIONS.pre]: 'echo pre-web-$HOSTNAME >> /data/log',
          [HOOK_ANNOTATIONS.container]: 'sidecar',
        },
      }),
      await startPod(t.core, ns, 'flaky', {
        claims: ['shared'],
        annotations: { [HOOK_ANNOTATIONS.pre]: 'echo pre-flaky >> /data/log; echo oops >&2; exit 4' },
      }),
      await startPod(t.core, ns, 'last', {
        claims: ['shared'],
        annotations: { [HOOK_ANNOTATIONS.pre]: '["sh", "-c", "echo pre-last >> /data/log"]' },
      }),
    ];
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('parses commands: JSON arrays as argv, strings through sh -c', () => {
    expect(parseHookCommand('["pg_ctl", "checkpoint"]')).toEqual(['pg_ctl', 'checkpoint']);
    expect(parseHookCommand('sync && echo ok')).toEqual(['sh', '-c', 'sync && echo ok']);
    expect(() => parseHookCommand('[1, 2]')).toThrow(/array of strings/);
    expect(() => parseHookCommand('[oops')).toThrow(/JSON/);
  });

  it('runs pre hooks in pod order, with exit codes and output, and reports a failing hook', async () => {
    const warnings: string[] = [];
    const records = await runHooks(t.kc, ns, pods, 'pre', { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringMatching(/^pre-hook of pod hooks\/flaky \(container app\) failed: exit code 4: oops$/)]);
    expect(records.map((r) => [r.pod, r.container, r.exitCode, r.ok])).toEqual([
      ['db', 'app', 0, true],
      ['web', 'sidecar', 0, true],
      ['flaky', 'app', 4, false],
      ['last', 'app', 0, true],
    ]);
    expect(records[0]?.command).toEqual(['sh', '-c', 'echo pre-db >> /data/log; echo flushed']);
    expect(records[0]?.stdout).toBe('flushed\n');
    expect(records[2]?.stderr).toBe('oops\n');
    expect(records[2]?.onError).toBe('Continue');
    expect(records[2]?.fatal).toBeUndefined();
    expect(hookFailure(records)).toBeUndefined();
    expect(records.every((r) => r.phase === 'pre' && r.durationMs >= 0)).toBe(true);
    const log = await sh(t.kc, ns, 'plain', 'cat /data/log');
    expect(log.stdout.toString()).toBe('pre-db\npre-web-web\npre-flaky\npre-last\n');
  });

  it('runs post hooks only where annotated', async () => {
    const records = await runHooks(t.kc, ns, pods, 'post', {});
    expect(records.map((r) => [r.pod, r.phase, r.ok])).toEqual([['db', 'post', true]]);
    const log = await sh(t.kc, ns, 'plain', 'tail -n 1 /data/log');
    expect(log.stdout.toString()).toBe('post-db\n');
  });

  it('with hook-on-error Fail, a failing hook is fatal and the next hooks are not run', async () => {
    const failing = await startPod(t.core, ns, 'strict', {
      annotations: { [HOOK_ANNOTATIONS.pre]: 'exit 2', [HOOK_ANNOTATIONS.onError]: 'Fail' },
    });
    const after = await startPod(t.core, ns, 'after', { annotations: { [HOOK_ANNOTATIONS.pre]: 'echo should-not-run' } });
    const records = await runHooks(t.kc, ns, [failing, after], 'pre', {});
    expect(records[0]).toMatchObject({ pod: 'strict', exitCode: 2, ok: false, fatal: true, onError: 'Fail' });
    expect(records[1]).toMatchObject({ pod: 'after', ok: false });
    expect(records[1]?.skipped).toMatch(/strict/);
    expect(records[1]?.exitCode).toBeUndefined();
    expect(hookFailure(records)?.pod).toBe('strict');
  });

  it('times out a slow hook, truncates long output, records exec errors and skips pods that do not run', async () => {
    const slow = await startPod(t.core, ns, 'slow', {
      annotations: { [HOOK_ANNOTATIONS.pre]: 'sleep 20', [HOOK_ANNOTATIONS.timeout]: '300ms' },
    });
    expect((await sh(t.kc, ns, 'plain', 'cat > /data/chatty.txt', 'x'.repeat(20_000))).exitCode).toBe(0);
    const chatty = await startPod(t.core, ns, 'chatty', {
      claims: ['shared'],
      annotations: { [HOOK_ANNOTATIONS.pre]: 'cat /data/chatty.txt; cat /data/chatty.txt >&2' },
    });
    const wrongContainer = await startPod(t.core, ns, 'wrong', {
      annotations: { [HOOK_ANNOTATIONS.pre]: 'true', [HOOK_ANNOTATIONS.container]: 'nope' },
    });
    const pending: V1Pod = { metadata: { name: 'pending', namespace: ns, annotations: { [HOOK_ANNOTATIONS.pre]: 'true' } }, spec: { containers: [{ name: 'app' }] }, status: { phase: 'Pending' } };
    const invalid = await startPod(t.core, ns, 'invalid', { annotations: { [HOOK_ANNOTATIONS.pre]: '["unterminated' } });
    const started = Date.now();
    const records = await runHooks(t.kc, ns, [slow, chatty, wrongContainer, pending, invalid], 'pre', {});
    expect(Date.now() - started).toBeLessThan(10_000);
    const [r1, r2, r3, r4, r5] = records;
    expect(r1).toMatchObject({ pod: 'slow', ok: false });
    expect(r1?.error).toMatch(/timed out after 0.3s/);
    expect(r1?.exitCode).toBeUndefined();
    expect(r2).toMatchObject({ pod: 'chatty', exitCode: 0, ok: true });
    expect(r2?.stdout.length).toBeLessThan(5000);
    expect(r2?.stdout).toMatch(/^x{4096}\n…\[truncated\]$/);
    expect(r2?.stderr).toMatch(/truncated/);
    expect(r3).toMatchObject({ pod: 'wrong', container: 'nope', ok: false });
    expect(r3?.error).toMatch(/container nope is not valid/);
    expect(r4).toMatchObject({ pod: 'pending', ok: true, skipped: 'pod is Pending' });
    expect(r5).toMatchObject({ pod: 'invalid', ok: false });
    expect(r5?.error).toMatch(/invalid backup.kubectl.io\/pre-hook annotation/);
  });

  it('stops on abort', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(runHooks(t.kc, ns, pods, 'pre', { signal: ac.signal })).rejects.toThrow(/abort/i);
  });
});
