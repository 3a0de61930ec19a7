/**
 * One exec session, independent of the transport: picks the container, builds its file system
 * view, runs the command through the busybox and reports the result as the kubelet does (a
 * metav1.Status: Success, or Failure with reason NonZeroExitCode and an ExitCode cause).
 */
import { posix } from 'node:path';
import { PassThrough, type Readable, Writable } from 'node:stream';

import type { ExecRequest, KubeObject, SimContext } from '../store-api.js';
import { T } from '../controllers/util.js';
import { run, type Proc } from './busybox.js';
import { ExecSetupError, containerView, type ContainerSpec, type ContainerView } from './mounts.js';
import { PodFs } from './vfs.js';

export interface ExecTarget {
  pod: KubeObject;
  container: ContainerSpec;
  /** The container's file system view, prepared before the connection is upgraded. */
  view?: ContainerView;
}

/** Builds the container's view; throws ExecSetupError (e.g. a subPath that leaves its volume). */
export async function prepareTarget(ctx: SimContext, target: ExecTarget): Promise<ExecTarget> {
  return { ...target, view: await containerView(ctx, target.pod, target.container) };
}

/** Checks that the pod and container can be exec'ed into; throws ExecSetupError otherwise. */
export function findTarget(ctx: SimContext, exec: ExecRequest): ExecTarget {
  const pod = ctx.store.get(T.pods, exec.namespace, exec.pod);
  if (!pod) throw new ExecSetupError(404, 'NotFound', `pods "${exec.pod}" not found`);
  const containers = ((pod.spec as { containers?: ContainerSpec[] } | undefined)?.containers ?? []) as ContainerSpec[];
  const wanted = exec.container || pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] || containers[0]?.name;
  const container = containers.find((c) => c.name === wanted);
  if (!container) {
    throw new ExecSetupError(
      400,
      'BadRequest',
      `container ${wanted} is not valid for pod ${exec.pod}`,
    );
  }
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    throw new ExecSetupError(400, 'BadRequest', `cannot exec into a container in a completed pod; current phase is ${phase}`);
  }
  if (phase !== 'Running') {
    throw new ExecSetupError(400, 'BadRequest', `unable to upgrade connection: container not found ("${container.name}")`);
  }
  return { pod, container };
}

export interface ExecIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  signal: AbortSignal;
  /** A terminal: stdin/stdout go through a line discipline, stderr is stdout. */
  tty?: boolean;
}

/** Runs the command; resolves with its exit code. */
export async function runInContainer(ctx: SimContext, target: ExecTarget, command: string[], io: ExecIo): Promise<number> {
  const view = target.view ?? (await containerView(ctx, target.pod, target.container));
  const term = io.tty ? terminal(io.stdin, io.stdout) : undefined;
  const proc: Proc = {
    fs: new PodFs(view.mounts),
    cwd: view.cwd,
    env: io.tty ? { TERM: 'xterm', ...view.env } : view.env,
    stdin: term?.stdin ?? io.stdin,
    stdout: term?.stdout ?? io.stdout,
    stderr: term?.stdout ?? io.stderr,
    status: 0,
    signal: io.signal,
    tty: io.tty,
  };
  try {
    if (command.length === 0) return await attach(ctx, target, proc, io);
    return await run(command, proc);
  } finally {
    if (term) await new Promise<void>((resolve) => term.stdout.end(() => resolve()));
  }
}

/**
 * `pods/attach` (no command) joins the container's main process. A shell (`sh`, `ash`, `bash`)
 * runs with the session's stdin/terminal; when it exits, so does the container (a pod with
 * restartPolicy Never/OnFailure then completes with that exit code). Any other main process
 * keeps the session open, discarding input, until the client leaves.
 */
async function attach(ctx: SimContext, target: ExecTarget, proc: Proc, io: ExecIo): Promise<number> {
  const main = [...(target.container.command ?? []), ...(target.container.args ?? [])];
  const shell = main[0] ? posix.basename(main[0]) : undefined;
  if (shell === 'sh' || shell === 'ash' || shell === 'bash') {
    const code = await run(['sh', ...main.slice(1)], proc);
    if (!io.signal.aborted) containerExited(ctx, target, code);
    // an attach session ends with Success: the exit code is in the pod's status
    return 0;
  }
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    io.signal.addEventListener('abort', () => resolve());
    proc.stdin.resume();
  });
  return 0;
}

/** Records that the attached main process exited (the kubelet's view of the container). */
function containerExited(ctx: SimContext, target: ExecTarget, code: number): void {
  const pod = ctx.store.get(T.pods, target.pod.metadata.namespace, target.pod.metadata.name ?? '');
  if (!pod) return;
  const policy = (pod.spec as { restartPolicy?: string } | undefined)?.restartPolicy ?? 'Always';
  const status = structuredClone((pod.status ?? {}) as Record<string, unknown>);
  const statuses = (status.containerStatuses ?? []) as Array<Record<string, unknown>>;
  const cs = statuses.find((c) => c.name === target.container.name);
  if (!cs) return;
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const startedAt = (cs.state as { running?: { startedAt?: string } } | undefined)?.running?.startedAt ?? now;
  const terminated = { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt, finishedAt: now, containerID: cs.containerID };
  if (policy === 'Never' || (policy === 'OnFailure' && code === 0)) {
    Object.assign(cs, { ready: false, started: false, state: { terminated } });
    status.phase = code === 0 ? 'Succeeded' : 'Failed';
    for (const c of (status.conditions ?? []) as Array<Record<string, unknown>>) {
      if (c.type === 'Ready' || c.type === 'ContainersReady') Object.assign(c, { status: 'False', reason: 'PodCompleted', lastTransitionTime: now });
    }
  } else {
    // restarted by the kubelet
    Object.assign(cs, { restartCount: Number(cs.restartCount ?? 0) + 1, lastState: { terminated }, state: { running: { startedAt: now } } });
  }
  try {
    ctx.store.updateStatus(T.pods, pod.metadata.namespace, { ...pod, status });
  } catch {
    // the pod changed meanwhile: nothing to record
  }
}

/** The Status the kubelet writes on the error channel (v4 and later). */
export function exitStatus(command: string[], code: number): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

export function errorStatus(err: unknown): { code: number; status: Record<string, unknown> } {
  const e = err instanceof ExecSetupError ? err : new ExecSetupError(500, 'InternalError', `error executing command in container: ${err instanceof Error ? err.message : String(err)}`);
  return {
    code: e.code,
    status: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, code: e.code },
  };
}

/**
 * A minimal terminal line discipline for `tty: true`: echo, line editing (backspace, ^U, ^C),
 * ^D for end of input, CR → LF on input and LF → CRLF on output.
 */
export function terminal(input: Readable, output: Writable): { stdin: Readable; stdout: Writable } {
  let line: string[] = [];
  // echo goes through the same stream as the output, so that the two keep their order
  const echo = (s: string) => {
    if (!stdout.destroyed && !stdout.writableEnded) stdout.write(s);
  };
  const stdin = new PassThrough();
  void (async () => {
    try {
      for await (const chunk of input) {
        for (const ch of (Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))).toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            echo('\r\n');
            stdin.write(`${line.join('')}\n`);
            line = [];
          } else if (ch === '\x7f' || ch === '\b') {
            if (line.length) {
              line.pop();
              echo('\b \b');
            }
          } else if (ch === '\x15') {
            echo('\b \b'.repeat(line.length));
            line = [];
          } else if (ch === '\x03') {
            echo('^C\r\n');
            line = [];
            stdin.write('\n');
          } else if (ch === '\x04') {
            if (line.length === 0) {
              stdin.end();
              return;
            }
          } else if (ch >= ' ' || ch === '\t') {
            line.push(ch);
            echo(ch);
          }
        }
      }
    } catch {
      // session gone
    }
    stdin.end();
  })();
  const stdout = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (output.destroyed || output.writableEnded) {
        cb(Object.assign(new Error('broken pipe'), { code: 'EPIPE' }));
        return;
      }
      output.write(Buffer.from(chunk.toString('utf8').replace(/\r?\n/g, '\r\n')), cb);
    },
  });
  stdout.on('error', () => {});
  return { stdin, stdout };
}
