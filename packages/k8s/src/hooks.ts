/**
 * Pre/post backup hooks from pod annotations, run over exec (e.g. flush a database before its
 * volume is read, resume it after):
 *
 *   backup.kubectl.io/pre-hook:  '["/bin/sh", "-c", "pg_ctl … checkpoint"]'   (JSON array: argv)
 *   backup.kubectl.io/post-hook: 'echo resumed > /tmp/state'                   (string: sh -c)
 *   backup.kubectl.io/hook-container: db            (default: the default-container annotation, else the first container)
 *   backup.kubectl.io/hook-on-error: Continue|Fail  (default Continue)
 *   backup.kubectl.io/hook-timeout: 30s             (default: opts.timeoutMs, else 30 s)
 *
 * Hooks run one after another, in the order of `pods`. A hook that fails (non-zero exit, exec
 * error, timeout) is recorded with `ok: false`; with `hook-on-error: Fail` it is also `fatal`,
 * and the hooks after it in this phase are not run (recorded as skipped): the caller should then fail the backup
 * (`hookFailure(records)` finds it). Pods that are not running are recorded as skipped.
 * Nothing is thrown, except for aborts.
 */
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';

import { ExecError, execInPod } from './exec.js';
import { abortError, errorMessage, parseDuration } from './volumes/util.js';

export const HOOK_ANNOTATIONS = {
  pre: 'backup.kubectl.io/pre-hook',
  post: 'backup.kubectl.io/post-hook',
  container: 'backup.kubectl.io/hook-container',
  onError: 'backup.kubectl.io/hook-on-error',
  timeout: 'backup.kubectl.io/hook-timeout',
} as const;

export type HookPhase = 'pre' | 'post';
export type HookOnError = 'Continue' | 'Fail';

export const DEFAULT_HOOK_TIMEOUT_MS = 30_000;
/** Bytes of stdout/stderr kept in a record. */
export const HOOK_OUTPUT_LIMIT = 4096;

export interface HookRecord {
  pod: string;
  container: string;
  phase: HookPhase;
  command: string[];
  /** Undefined when the command did not run to an exit status (exec error, timeout, skipped). */
  exitCode?: number;
  /** Truncated to HOOK_OUTPUT_LIMIT bytes (a marker says so). */
  stdout: string;
  stderr: string;
  durationMs: number;
  ok: boolean;
  onError: HookOnError;
  /** A failed hook with onError Fail: the backup should fail. */
  fatal?: boolean;
  /** Why the hook did not run to an exit status, or was skipped. */
  error?: string;
  /** Set when the hook was not run (pod not running, an earlier hook was fatal). */
  skipped?: string;
}

export interface RunHooksOptions {
  /** Per hook, unless the pod's hook-timeout annotation says otherwise (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told of every hook that failed or could not run (the records say it too). */
  onWarning?(msg: string): void;
}

export class HookConfigError extends Error {
  override readonly name = 'HookConfigError';
}

/** The argv of a hook annotation: a JSON array of strings, or a shell string run with `sh -c`. */
export function parseHookCommand(value: string): string[] {
  const text = value.trim();
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new HookConfigError(`not a JSON array: ${errorMessage(err)}`);
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((p) => typeof p === 'string')) {
      throw new HookConfigError('a hook command must be a non-empty JSON array of strings');
    }
    return parsed as string[];
  }
  if (!text) throw new HookConfigError('empty hook command');
  return ['sh', '-c', text];
}

function truncate(buf: Buffer, truncated: boolean): string {
  const text = buf.subarray(0, HOOK_OUTPUT_LIMIT).toString('utf8');
  return truncated || buf.length > HOOK_OUTPUT_LIMIT ? `${text}\n…[truncated]` : text;
}

function hookContainer(pod: V1Pod): string {
  const a = pod.metadata?.annotations ?? {};
  return a[HOOK_ANNOTATIONS.container] || a['kubectl.kubernetes.io/default-container'] || pod.spec?.containers?.[0]?.name || '';
}

/** Pods whose annotations define a hook for the phase. */
export function podsWithHooks(pods: V1Pod[], phase: HookPhase): V1Pod[] {
  return pods.filter((p) => !!p.metadata?.annotations?.[HOOK_ANNOTATIONS[phase]]);
}

/** The first fatal failure among hook records, if any. */
export function hookFailure(records: HookRecord[]): HookRecord | undefined {
  return records.find((r) => r.fatal);
}

export async function runHooks(kc: KubeConfig, namespace: string, pods: V1Pod[], phase: HookPhase, opts: RunHooksOptions = {}): Promise<HookRecord[]> {
  const records: HookRecord[] = [];
  let stopped: HookRecord | undefined;
  for (const pod of podsWithHooks(pods, phase)) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const annotations = pod.metadata?.annotations ?? {};
    const podName = pod.metadata?.name ?? '';
    const ns = pod.metadata?.namespace ?? namespace;
    const container = hookContainer(pod);
    const onError: HookOnError = /^fail$/i.test(annotations[HOOK_ANNOTATIONS.onError] ?? '') ? 'Fail' : 'Continue';
    const base = { pod: podName, container, phase, stdout: '', stderr: '', onError };
    let command: string[];
    try {
      command = parseHookCommand(annotations[HOOK_ANNOTATIONS[phase]] ?? '');
    } catch (err) {
      const rec: HookRecord = { ...base, command: [], durationMs: 0, ok: false, error: `invalid ${HOOK_ANNOTATIONS[phase]} annotation: ${errorMessage(err)}` };
      if (onError === 'Fail' && !stopped) {
        rec.fatal = true;
        stopped = rec;
      }
      opts.onWarning?.(`${phase}-hook of pod ${ns}/${podName}: ${rec.error}`);
      records.push(rec);
      continue;
    }
    if (stopped) {
      records.push({ ...base, command, durationMs: 0, ok: false, skipped: `not run: the hook of pod ${stopped.pod} failed (hook-on-error Fail)` });
      continue;
    }
    const podPhase = pod.status?.phase;
    if (podPhase && podPhase !== 'Running') {
      records.push({ ...base, command, durationMs: 0, ok: true, skipped: `pod is ${podPhase}` });
      continue;
    }
    const timeoutMs = parseDuration(annotations[HOOK_ANNOTATIONS.timeout]) ?? opts.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
    const started = Date.now();
    let rec: HookRecord;
    try {
      const res = await execInPod(kc, { namespace: ns, pod: podName, container }, command, {
        timeoutMs,
        signal: opts.signal,
        maxBuffer: HOOK_OUTPUT_LIMIT,
      });
      rec = {
        ...base,
        command,
        exitCode: res.exitCode,
        stdout: truncate(res.stdout, res.stdoutTruncated),
        stderr: truncate(res.stderr, res.stderrTruncated),
        durationMs: res.durationMs,
        ok: res.exitCode === 0,
      };
      if (!rec.ok) rec.error = `exit code ${res.exitCode}`;
    } catch (err) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      const msg = err instanceof ExecError && err.reason === 'Timeout' ? `timed out after ${timeoutMs / 1000}s` : errorMessage(err);
      rec = { ...base, command, durationMs: Date.now() - started, ok: false, error: msg };
    }
    if (!rec.ok && onError === 'Fail') {
      rec.fatal = true;
      stopped = rec;
    }
    if (!rec.ok) {
      const detail = rec.stderr.trim() ? `: ${rec.stderr.trim().split('\n').slice(-3).join('; ')}` : '';
      opts.onWarning?.(`${phase}-hook of pod ${ns}/${podName} (container ${container}) failed: ${rec.error ?? 'failed'}${detail}${rec.fatal ? ' (hook-on-error Fail)' : ''}`);
    }
    records.push(rec);
  }
  return records;
}
