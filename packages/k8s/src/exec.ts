/**
 * Running a command in a pod container over `pods/exec`: the helper that volume movers and
 * hooks share.
 *
 * client-node's `Exec` builds the request and dispatches the channels; the WebSocket under it
 * is ours (`ws`, the kubeconfig's TLS and credentials through `applyToHTTPSOptions`) so that
 *  - stdout has backpressure: a slow reader pauses the socket instead of buffering a whole
 *    volume in memory,
 *  - stdin is pumped with backpressure, and its end is signalled with the v5 close frame
 *    (`v5.channel.k8s.io`, [255, 0]) while the session stays open for the exit status;
 *    on `v4.channel.k8s.io` a session can only end stdin by closing, so the exit status of a
 *    command fed through stdin is unknown there (an ExecError, reason `NoStatus`),
 *  - a refused upgrade (pod not running, container unknown, Forbidden…) becomes an error
 *    with the API server's own message,
 *  - timeouts and AbortSignals close the session (the server stops the command).
 *
 * The exit code comes from the status channel (channel 3, a metav1.Status): Success → 0, a
 * Failure with an ExitCode cause (`NonZeroExitCode`) → that code; any other Failure is an
 * ExecError (reason `CommandFailed`, with the status).
 */
import { PassThrough, Readable, Writable } from 'node:stream';

import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import WebSocket from 'ws';

type WebSocketInterface = NonNullable<ConstructorParameters<typeof Exec>[1]>;

/** Channel protocols we speak, best first. */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

const STDIN = 0;
const CLOSE = 255;
/** Bytes of stdout buffered before the socket is paused. */
const STDOUT_HIGH_WATER = 1024 * 1024;
/** Bytes of stdin queued in the socket before we wait for it to flush. */
const STDIN_HIGH_WATER = 4 * 1024 * 1024;
const DEFAULT_MAX_BUFFER = 1024 * 1024;
/** stdin goes out in WebSocket frames of at most this size. */
const STDIN_FRAME = 256 * 1024;

export type ExecErrorReason =
  | 'Timeout'
  | 'Aborted'
  | 'UpgradeFailed'
  | 'ConnectionFailed'
  | 'NoStatus'
  | 'CommandFailed'
  | 'NoCluster';

export class ExecError extends Error {
  override readonly name = 'ExecError';
  constructor(
    readonly reason: ExecErrorReason,
    message: string,
    /** The HTTP status of a refused upgrade, when there was one. */
    readonly httpStatus?: number,
    readonly status?: V1Status,
  ) {
    super(message);
  }
}

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
}

export interface ExecStreamOptions {
  /** Fed to the command's stdin; its end closes stdin (v5). */
  stdin?: AsyncIterable<Uint8Array | string> | NodeJS.ReadableStream | Uint8Array | string;
  /** Collected stderr is capped at this many bytes (default 1 MiB); the rest is dropped. */
  maxBuffer?: number;
  /** The whole session, from connect to exit status (default: none). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ExecOptions extends ExecStreamOptions {
  /** Collected stdout is capped too (default 1 MiB). */
  maxBuffer?: number;
}

export interface ExecResult {
  /** 0 on success, the command's exit code otherwise. */
  exitCode: number;
  status: V1Status;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /** Bytes received on stdout (also those beyond maxBuffer, and those streamed). */
  stdoutBytes: number;
  stdinBytes: number;
  durationMs: number;
}

export interface ExecSession {
  /** The command's stdout, with backpressure. Ends when the command's status arrives. */
  stdout: Readable;
  /** Resolves when the exit status arrived (any exit code); rejects with ExecError/abort reasons. */
  result: Promise<ExecResult>;
  /** Ends the session now (the server stops the command). */
  close(reason?: Error): void;
}

/** A Writable that keeps the first `max` bytes. */
class Collector extends Writable {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.total += chunk.length;
    const room = this.max - this.kept;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks.push(Buffer.from(part));
      this.kept += part.length;
    }
    cb();
  }
  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get truncated(): boolean {
    return this.total > this.kept;
  }
}

/** The exit code of a finished command from its status; throws for other failures. */
export function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  // NonZeroExitCode carries an ExitCode cause; some runtimes attach one to other failures too
  // (an executable not found: 126/127)
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = cause?.message !== undefined && cause.message !== '' ? Number(cause.message) : NaN;
  if (Number.isInteger(code)) return code;
  throw new ExecError('CommandFailed', status.message || `command failed (${status.reason ?? 'unknown reason'})`, undefined, status);
}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const err = new Error(typeof r === 'string' ? r : 'the operation was aborted');
  err.name = 'AbortError';
  return err;
}

function statusMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return body.trim() || undefined;
  }
}

interface SocketHooks {
  opened(ws: WebSocket): void;
  afterMessage(): void;
  closed(code: number, reason: string): void;
  failed(err: Error): void;
}

/** client-node's WebSocketInterface on top of `ws`, with hooks for flow control. */
function socketFactory(kc: KubeConfig, hooks: SocketHooks, signal: AbortSignal): WebSocketInterface {
  return {
    async connect(path, textHandler, binaryHandler) {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new ExecError('NoCluster', 'the kubeconfig has no current cluster');
      const server = cluster.server.replace(/\/+$/, '');
      const uri = `${server.replace(/^http/, 'ws')}${path}`;
      const opts: WebSocket.ClientOptions = {};
      await kc.applyToHTTPSOptions(opts);
      opts.perMessageDeflate = false;
      if (signal.aborted) throw abortReason(signal);
      return new Promise<WebSocket>((resolve, reject) => {
        let opened = false;
        const ws = new WebSocket(uri, EXEC_PROTOCOLS, opts);
        const onAbort = () => {
          if (!opened) {
            ws.terminate();
            reject(abortReason(signal));
          }
        };
        signal.addEventListener('abort', onAbort, { once: true });
        ws.on('unexpected-response', (req, res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', () => {});
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            const msg = statusMessage(body) ?? res.statusMessage ?? 'upgrade refused';
            reject(new ExecError('UpgradeFailed', `exec refused (HTTP ${res.statusCode ?? '?'}): ${msg}`, res.statusCode));
            req.destroy();
          });
        });
        ws.on('open', () => {
          opened = true;
          signal.removeEventListener('abort', onAbort);
          hooks.opened(ws);
          resolve(ws);
        });
        ws.on('error', (err: Error) => {
          if (!opened) reject(new ExecError('ConnectionFailed', `exec connection failed: ${err.message}`));
          else hooks.failed(err);
        });
        ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
          const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
          if (!isBinary) {
            if (textHandler && !textHandler(buf.toString('utf8'))) ws.close();
            return;
          }
          if (buf.length === 0) return;
          const channel = buf[0] as number;
          // a close frame from the server (v5) says a stream ended: ours end on the status
          if (channel === CLOSE) return;
          try {
            if (binaryHandler && !binaryHandler(channel, buf.subarray(1))) ws.close(1000);
          } catch (err) {
            hooks.failed(err instanceof Error ? err : new Error(String(err)));
            ws.terminate();
            return;
          }
          hooks.afterMessage();
        });
        ws.on('close', (code: number, reason: Buffer) => hooks.closed(code, reason.toString('utf8')));
      });
    },
  };
}

function toStdinIterable(input: NonNullable<ExecStreamOptions['stdin']>): AsyncIterable<Uint8Array | string> {
  if (typeof input === 'string' || input instanceof Uint8Array) {
    return (async function* () {
      yield input;
    })();
  }
  if (Symbol.asyncIterator in input) return input as AsyncIterable<Uint8Array | string>;
  return Readable.from(input as NodeJS.ReadableStream);
}

/** Sends and waits until the frame is handed to the socket; false when the session is gone. */
function sendAsync(ws: WebSocket, frame: Buffer): Promise<boolean> {
  return new Promise((resolve) => ws.send(frame, { binary: true }, (err) => resolve(!err)));
}

/**
 * Starts a command in a pod container. stdout is a stream (with backpressure); stderr is
 * collected (capped). The session ends when the command's exit status arrives.
 */
export function openExec(kc: KubeConfig, target: ExecTarget, command: string[], options: ExecStreamOptions = {}): ExecSession {
  const started = Date.now();
  const controller = new AbortController();
  const stdout = new PassThrough({ highWaterMark: STDOUT_HIGH_WATER });
  // errors reach readers through iteration/'error' listeners of their own; never crash the process
  stdout.on('error', () => {});
  const stderr = new Collector(options.maxBuffer ?? DEFAULT_MAX_BUFFER);
  // a stdin stream for client-node that never flows: we pump stdin ourselves (flow control)
  const stdinMarker = options.stdin !== undefined ? new PassThrough() : null;
  let ws: WebSocket | undefined;
  let status: V1Status | undefined;
  let stdoutBytes = 0;
  let stdinBytes = 0;
  let paused = false;
  let settled = false;
  let timer: NodeJS.Timeout | undefined;

  let resolveResult!: (r: ExecResult) => void;
  let rejectResult!: (err: Error) => void;
  const result = new Promise<ExecResult>((res, rej) => {
    resolveResult = res;
    rejectResult = rej;
  });
  // the caller may only read stdout and learn of failures from it; avoid unhandled rejections
  result.catch(() => {});

  const countingStdout = new Writable({
    highWaterMark: STDOUT_HIGH_WATER,
    write(chunk: Buffer, _enc, cb) {
      stdoutBytes += chunk.length;
      if (stdout.destroyed || stdout.writableEnded) return cb();
      if (!stdout.write(chunk)) pauseSocket();
      cb();
    },
    final(cb) {
      stdout.end();
      cb();
    },
  });
  countingStdout.on('error', () => {});

  const pauseSocket = () => {
    if (paused) return;
    paused = true;
    ws?.pause();
  };
  stdout.on('drain', () => {
    if (!paused) return;
    paused = false;
    ws?.resume();
  });

  const finish = (err?: Error) => {
    if (settled) return;
    settled = true;
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onUserAbort);
    stdinMarker?.destroy();
    if (err) {
      if (!stdout.destroyed) stdout.destroy(err);
      if (ws && ws.readyState !== WebSocket.CLOSED) ws.terminate();
      rejectResult(err);
      return;
    }
    let exitCode: number;
    try {
      exitCode = exitCodeOf(status as V1Status);
    } catch (e) {
      if (!stdout.destroyed) stdout.destroy(e as Error);
      rejectResult(e as Error);
      return;
    }
    if (!stdout.writableEnded) stdout.end();
    resolveResult({
      exitCode,
      status: status as V1Status,
      stdout: Buffer.alloc(0),
      stderr: stderr.data,
      stdoutTruncated: false,
      stderrTruncated: stderr.truncated,
      stdoutBytes,
      stdinBytes,
      durationMs: Date.now() - started,
    });
  };

  const close = (reason?: Error) => {
    controller.abort(reason ?? new ExecError('Aborted', 'exec session closed'));
    finish(reason ?? new ExecError('Aborted', 'exec session closed'));
  };
  const onUserAbort = () => close(abortReason(options.signal as AbortSignal));
  if (options.signal?.aborted) {
    close(abortReason(options.signal));
    return { stdout, result, close };
  }
  options.signal?.addEventListener('abort', onUserAbort, { once: true });
  if (options.timeoutMs && options.timeoutMs > 0) {
    const ms = options.timeoutMs;
    timer = setTimeout(
      () => close(new ExecError('Timeout', `command [${command.join(' ')}] in pod ${target.namespace}/${target.pod} timed out after ${ms / 1000}s`)),
      ms,
    );
    timer.unref?.();
  }

  const hooks: SocketHooks = {
    opened(socket) {
      ws = socket;
      if (paused) socket.pause();
    },
    afterMessage() {
      // client-node writes to countingStdout synchronously, which forwards to stdout
    },
    closed(code, reason) {
      // the status arrives before the server closes; give the stream writes a tick to land
      setImmediate(() => {
        if (status) finish();
        else {
          const v4 = ws?.protocol !== 'v5.channel.k8s.io' && stdinMarker ? ' (the server speaks v4.channel.k8s.io, which ends stdin by closing the session)' : '';
          finish(new ExecError('NoStatus', `exec session closed (code ${code}${reason ? `: ${reason}` : ''}) before the command's exit status arrived${v4}`));
        }
      });
    },
    failed(err) {
      finish(new ExecError('ConnectionFailed', `exec connection failed: ${err.message}`));
    },
  };

  const exec = new Exec(kc, socketFactory(kc, hooks, controller.signal));
  void exec
    .exec(target.namespace, target.pod, target.container, command, countingStdout, stderr, stdinMarker, false, (s) => {
      status = s;
    })
    .then(
      (socket) => {
        if (settled) {
          socket.terminate();
          return;
        }
        if (options.stdin !== undefined) void pumpStdin(socket, options.stdin);
      },
      (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
    );

  const pumpStdin = async (socket: WebSocket, input: NonNullable<ExecStreamOptions['stdin']>) => {
    const source = toStdinIterable(input);
    // frames of at most STDIN_FRAME bytes: small chunks are gathered (fewer messages), large
    // ones split (bounded frames keep both sides' buffers small)
    let delivered = false;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    // false once the session is gone: the command's status (or the close) tells what happened
    const flush = async (): Promise<boolean> => {
      if (pendingBytes === 0) return true;
      const frame = Buffer.allocUnsafe(pendingBytes + 1);
      frame[0] = STDIN;
      let at = 1;
      for (const b of pending) {
        frame.set(b, at);
        at += b.length;
      }
      stdinBytes += pendingBytes;
      pending = [];
      pendingBytes = 0;
      if (socket.readyState !== WebSocket.OPEN) return false;
      if (socket.bufferedAmount < STDIN_HIGH_WATER) {
        socket.send(frame, { binary: true });
        return true;
      }
      return sendAsync(socket, frame);
    };
    try {
      for await (const chunk of source) {
        if (settled || socket.readyState !== WebSocket.OPEN) break;
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        if (buf.length === 0) continue;
        for (let at = 0; at < buf.length; ) {
          const part = buf.subarray(at, at + STDIN_FRAME - pendingBytes);
          at += part.length;
          pending.push(part);
          pendingBytes += part.length;
          if (pendingBytes >= STDIN_FRAME && !(await flush())) return;
        }
      }
      if (settled || socket.readyState !== WebSocket.OPEN) return;
      if (!(await flush())) return;
      if (settled || socket.readyState !== WebSocket.OPEN) return;
      if (socket.protocol === 'v5.channel.k8s.io') socket.send(Buffer.from([CLOSE, STDIN]), { binary: true });
      else socket.close(1000);
      delivered = true;
    } catch (err) {
      // only the input can throw here: stop the command rather than let it take a truncated
      // stream for a complete one
      const e = err instanceof Error ? err : new Error(String(err));
      close(e.name === 'AbortError' ? e : new ExecError('ConnectionFailed', `stdin for [${command.join(' ')}] failed: ${e.message}`));
    } finally {
      // input we stopped reading is released
      if (!delivered && typeof (input as { destroy?: unknown }).destroy === 'function') {
        (input as unknown as { destroy(): void }).destroy();
      }
    }
  };

  return { stdout, result, close };
}

/** Runs a command to completion and collects its output (capped at maxBuffer each). */
export async function execInPod(kc: KubeConfig, target: ExecTarget, command: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const session = openExec(kc, target, command, options);
  const out = new Collector(options.maxBuffer ?? DEFAULT_MAX_BUFFER);
  const piped = new Promise<void>((resolve) => {
    session.stdout.on('data', (c: Buffer) => out.write(c));
    session.stdout.on('end', () => resolve());
    session.stdout.on('error', () => resolve());
    session.stdout.on('close', () => resolve());
  });
  const res = await session.result;
  await piped;
  return { ...res, stdout: out.data, stdoutTruncated: out.truncated };
}
