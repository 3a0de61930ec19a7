/**
 * `pods/exec` for kube-sim. The core parses the request (namespace, pod, container, command,
 * stdin/tty), authenticates and authorizes it, and hands the upgrade to `handleExecUpgrade`.
 *
 * WebSocket channel protocols (`v5.channel.k8s.io`, `v4.channel.k8s.io`, and the older
 * `v3`/`v2`/`channel.k8s.io`): every binary message starts with a channel byte — 0 stdin,
 * 1 stdout, 2 stderr, 3 error (a JSON metav1.Status from v4 on), 4 terminal resize — and v5
 * adds channel 255, "close": `[255, 0]` from the client ends stdin.
 *
 * SPDY/3.1 (kubectl before 1.30) is served by ./spdy.ts.
 */
import type http from 'node:http';
import type stream from 'node:stream';
import { Readable, Writable } from 'node:stream';

import { WebSocketServer, type WebSocket } from 'ws';

import type { ExecRequest, SimContext } from '../store-api.js';
import { errorStatus, exitStatus, findTarget, prepareTarget, runInContainer, type ExecTarget } from './session.js';
import { SPDY_PROTOCOLS, serveSpdyExec } from './spdy.js';

export { PodFs } from './vfs.js';
export { run as runBusybox } from './busybox.js';

const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: 64 * 1024 * 1024,
  handleProtocols: (offered: Set<string>) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
});

function reject(socket: stream.Duplex, code: number, status: Record<string, unknown>): void {
  const body = JSON.stringify(status);
  const text = code === 404 ? 'Not Found' : code === 400 ? 'Bad Request' : code === 403 ? 'Forbidden' : 'Internal Server Error';
  socket.end(
    `HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function handleExecUpgrade(
  ctx: SimContext,
  req: http.IncomingMessage,
  socket: stream.Duplex,
  head: Buffer,
  exec: ExecRequest,
): void {
  void (async () => {
    let target: ExecTarget;
    try {
      target = await prepareTarget(ctx, findTarget(ctx, exec));
    } catch (err) {
      const { code, status } = errorStatus(err);
      reject(socket, code, status);
      return;
    }
    upgradeTo(ctx, req, socket, head, exec, target);
  })();
}

function upgradeTo(ctx: SimContext, req: http.IncomingMessage, socket: stream.Duplex, head: Buffer, exec: ExecRequest, target: ExecTarget): void {
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  if (upgrade === 'spdy/3.1') {
    const raw = req.headers['x-stream-protocol-version'];
    const requested = (Array.isArray(raw) ? raw : [raw ?? ''])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
    if (!serveSpdyExec(ctx, requested, socket, head, exec, target)) {
      reject(socket, 403, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `protocol negotiation failed: requested protocols [${requested.join(' ')}], supported [${SPDY_PROTOCOLS.join(' ')}]`,
        reason: 'Forbidden',
        code: 403,
      });
    }
    return;
  }
  if (upgrade !== 'websocket') {
    reject(socket, 400, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `unsupported upgrade protocol ${req.headers.upgrade ?? ''}: kube-sim serves exec over WebSocket (v4/v5.channel.k8s.io) and SPDY/3.1`,
      reason: 'BadRequest',
      code: 400,
    });
    return;
  }
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (offered.length > 0 && !PROTOCOLS.some((p) => offered.includes(p))) {
    reject(socket, 400, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${PROTOCOLS.join(' ')}]`,
      reason: 'BadRequest',
      code: 400,
    });
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    void serve(ctx, ws, exec, target);
  });
}

async function serve(ctx: SimContext, ws: WebSocket, exec: ExecRequest, target: ExecTarget): Promise<void> {
  const version = ws.protocol.startsWith('v') ? Number(ws.protocol[1]) : 1;
  const abort = new AbortController();
  let closed = false;
  ws.on('close', () => {
    closed = true;
    abort.abort();
    if (!stdin.readableEnded) stdin.push(null);
  });
  ws.on('error', () => {});

  const stdin = new Readable({
    highWaterMark: 1024 * 1024,
    read() {
      if (!closed) ws.resume();
    },
  });
  stdin.on('error', () => {});
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!isBinary && buf.length === 0) return;
    if (buf.length === 0) return;
    const channel = buf[0];
    if (channel === STDIN) {
      if (!exec.stdin || stdin.readableEnded) return;
      if (buf.length > 1 && !stdin.push(buf.subarray(1))) ws.pause();
    } else if (channel === CLOSE && version >= 5) {
      if (buf[1] === STDIN && !stdin.readableEnded) stdin.push(null);
    } else if (channel === RESIZE) {
      // terminal size: nothing to do for the busybox
    }
  });
  if (!exec.stdin) stdin.push(null);

  const channelWriter = (channel: number) => {
    const w = new Writable({
      highWaterMark: 256 * 1024,
      write(chunk: Buffer, _enc, cb) {
        if (closed || ws.readyState !== ws.OPEN) {
          cb(Object.assign(new Error('broken pipe'), { code: 'EPIPE' }));
          return;
        }
        const frame = Buffer.allocUnsafe(chunk.length + 1);
        frame[0] = channel;
        chunk.copy(frame, 1);
        // keep a few MiB in flight: waiting for every frame to reach the socket halves throughput
        if (ws.bufferedAmount < 4 * 1024 * 1024) {
          ws.send(frame, { binary: true });
          cb();
        } else ws.send(frame, { binary: true }, (err) => cb(err ? Object.assign(err, { code: 'EPIPE' }) : undefined));
      },
    });
    w.on('error', () => {});
    return w;
  };
  const stdout = channelWriter(STDOUT);
  const stderr = exec.tty ? stdout : channelWriter(STDERR);
  // tell the client the streams are ready (the kubelet writes an empty stdout frame)
  ws.send(Buffer.from([STDOUT]), { binary: true });

  let code: number;
  let failure: Record<string, unknown> | undefined;
  try {
    code = await runInContainer(ctx, target, exec.command, { stdin, stdout, stderr, signal: abort.signal, tty: exec.tty });
  } catch (err) {
    code = 1;
    failure = errorStatus(err).status;
  }
  await Promise.all(
    [...new Set([stdout, stderr])].map(
      (w) => new Promise<void>((resolve) => (w.writableFinished || w.destroyed ? resolve() : w.end(() => resolve()))),
    ),
  ).catch(() => {});
  if (closed || ws.readyState !== ws.OPEN) return;
  // a full stdin buffer paused the socket, and stdin that ended is never read again: without
  // this the client's close frame would wait for ws's 30 s close timeout
  ws.resume();
  const status = failure ?? exitStatus(exec.command, code);
  if (version >= 4) {
    ws.send(Buffer.concat([Buffer.from([ERROR]), Buffer.from(JSON.stringify(status))]), { binary: true });
  } else if (status.status !== 'Success') {
    ws.send(Buffer.concat([Buffer.from([ERROR]), Buffer.from(String(status.message ?? 'error'))]), { binary: true });
  }
  ws.close(1000);
}
