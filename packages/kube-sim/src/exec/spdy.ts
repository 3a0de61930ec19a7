/**
 * `pods/exec` over SPDY/3.1 — what kubectl before 1.30 speaks (and later ones as a fallback).
 * The client upgrades with `Upgrade: SPDY/3.1` and `X-Stream-Protocol-Version` (v4, v3, v2,
 * channel.k8s.io), then opens one SPDY stream per channel, named by the `streamtype` header:
 * error, stdin, stdout, stderr, resize. The server answers each SYN_STREAM with a SYN_REPLY,
 * reads stdin until its FIN, writes stdout/stderr as DATA frames, and finally the Status (v4:
 * JSON) on the error stream.
 *
 * Only the subset kubectl's SPDY client (moby/spdystream, SPDY/3 framing without flow control)
 * needs is implemented. Header blocks from the client are zlib-compressed with the SPDY/3
 * dictionary; ours are written as stored (uncompressed) deflate blocks, which zlib readers accept.
 */
import { createRequire } from 'node:module';
import { Readable, Writable } from 'node:stream';
import type stream from 'node:stream';
import { constants as zc, inflateSync } from 'node:zlib';

import type { ExecRequest, SimContext } from '../store-api.js';
import { errorStatus, exitStatus, runInContainer, type ExecTarget } from './session.js';

const require = createRequire(import.meta.url);
const DICTIONARY = (require('spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js') as Record<number, Buffer>)[3] as Buffer;

export const SPDY_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

const SYN_STREAM = 1;
const SYN_REPLY = 2;
const RST_STREAM = 3;
const PING = 6;
const GOAWAY = 7;
const FLAG_FIN = 1;

/** Decodes a SPDY/3 header block: count, then length-prefixed names and values. */
function decodeHeaders(block: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let off = 0;
  const n = block.readUInt32BE(off);
  off += 4;
  for (let i = 0; i < n; i++) {
    const nl = block.readUInt32BE(off);
    off += 4;
    const name = block.subarray(off, off + nl).toString('utf8').toLowerCase();
    off += nl;
    const vl = block.readUInt32BE(off);
    off += 4;
    headers[name] = block.subarray(off, off + vl).toString('utf8');
    off += vl;
  }
  return headers;
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | 3, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(payload.length, 4);
  head[4] = flags;
  return Buffer.concat([head, payload]);
}

function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(data.length, 4);
  head[4] = flags;
  return Buffer.concat([head, data]);
}

/** A SPDY/3 server session for one exec. */
class SpdyExec {
  private buffer: Buffer = Buffer.alloc(0);
  private compressedIn: Buffer = Buffer.alloc(0);
  private inflatedLength = 0;
  private headerOut: Buffer = Buffer.from([0x78, 0x01]); // zlib header, no dictionary
  private readonly streams = new Map<string, number>();
  private started = false;
  private closed = false;
  private startTimer: NodeJS.Timeout | undefined;
  private readonly stdin: Readable;
  private readonly abort = new AbortController();

  constructor(
    private readonly ctx: SimContext,
    private readonly socket: stream.Duplex,
    private readonly exec: ExecRequest,
    private readonly target: ExecTarget,
    private readonly version: number,
  ) {
    this.stdin = new Readable({
      highWaterMark: 1024 * 1024,
      read: () => {
        if (!this.closed) socket.resume();
      },
    });
    this.stdin.on('error', () => {});
    if (!exec.stdin) this.stdin.push(null);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.onClose());
    socket.on('end', () => this.onClose());
    socket.on('error', () => this.onClose());
  }

  feed(head: Buffer): void {
    if (head.length) this.onData(head);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    if (!this.stdin.readableEnded) this.stdin.push(null);
  }

  private write(frame: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(Object.assign(new Error('broken pipe'), { code: 'EPIPE' }));
    return new Promise((resolve, reject) => {
      const flushed = this.socket.write(frame, (err) => {
        if (err) reject(Object.assign(err, { code: 'EPIPE' }));
      });
      if (flushed) resolve();
      else this.socket.once('drain', () => resolve());
    });
  }

  private headerBlock(headers: Record<string, string>): Buffer {
    const parts: Buffer[] = [];
    const count = Buffer.alloc(4);
    count.writeUInt32BE(Object.keys(headers).length);
    parts.push(count);
    for (const [k, v] of Object.entries(headers)) {
      for (const s of [k, v]) {
        const b = Buffer.from(s);
        const len = Buffer.alloc(4);
        len.writeUInt32BE(b.length);
        parts.push(len, b);
      }
    }
    const raw = Buffer.concat(parts);
    // a stored deflate block: BFINAL=0 BTYPE=00, LEN, NLEN, data
    const stored = Buffer.alloc(5);
    stored[0] = 0;
    stored.writeUInt16LE(raw.length, 1);
    stored.writeUInt16LE(~raw.length & 0xffff, 3);
    // …followed by an empty stored block, the sync-flush marker that makes a zlib reader hand
    // the block's bytes over without reading past the frame
    const out = Buffer.concat([this.headerOut, stored, raw, Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff])]);
    this.headerOut = Buffer.alloc(0);
    return out;
  }

  private inflateHeaders(compressed: Buffer): Buffer {
    this.compressedIn = Buffer.concat([this.compressedIn, compressed]);
    const all = inflateSync(this.compressedIn, { dictionary: DICTIONARY, finishFlush: zc.Z_SYNC_FLUSH });
    const block = all.subarray(this.inflatedLength);
    this.inflatedLength = all.length;
    return block;
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    try {
      while (this.buffer.length >= 8) {
        const length = this.buffer.readUInt32BE(4) & 0xffffff;
        if (this.buffer.length < 8 + length) break;
        const frame = this.buffer.subarray(0, 8 + length);
        this.buffer = this.buffer.subarray(8 + length);
        this.onFrame(frame);
      }
    } catch {
      this.socket.destroy();
      this.onClose();
    }
  }

  private onFrame(frame: Buffer): void {
    const flags = frame[4] ?? 0;
    const payload = frame.subarray(8);
    if ((frame[0] ?? 0) & 0x80) {
      const type = frame.readUInt16BE(2);
      if (type === SYN_STREAM) {
        const streamId = payload.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaders(this.inflateHeaders(payload.subarray(10)));
        const kind = headers.streamtype ?? '';
        this.streams.set(kind, streamId);
        void this.write(controlFrame(SYN_REPLY, 0, Buffer.concat([uint32(streamId), this.headerBlock({})]))).catch(() => {});
        if (kind === 'stdin' && flags & FLAG_FIN) this.stdin.push(null);
        this.maybeStart();
      } else if (type === PING) {
        void this.write(controlFrame(PING, 0, payload)).catch(() => {});
      } else if (type === GOAWAY) {
        this.onClose();
      } else if (type === RST_STREAM) {
        const streamId = payload.readUInt32BE(0) & 0x7fffffff;
        if (streamId === this.streams.get('stdin') && !this.stdin.readableEnded) this.stdin.push(null);
      }
      // SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do
      return;
    }
    const streamId = frame.readUInt32BE(0) & 0x7fffffff;
    if (streamId === this.streams.get('stdin') && this.exec.stdin && !this.stdin.readableEnded) {
      if (payload.length && !this.stdin.push(Buffer.from(payload))) this.socket.pause();
      if (flags & FLAG_FIN) this.stdin.push(null);
    }
  }

  private maybeStart(): void {
    if (this.started) return;
    const want = ['error', 'stdout'];
    if (this.exec.stdin) want.push('stdin');
    if (!this.exec.tty) want.push('stderr');
    if (want.every((k) => this.streams.has(k))) {
      void this.start();
      return;
    }
    // a client that asked for fewer streams: start once it stops opening them
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = setTimeout(() => void this.start(), 1000);
  }

  private channel(kind: string): Writable {
    const id = this.streams.get(kind);
    const w = new Writable({
      highWaterMark: 256 * 1024,
      write: (chunk: Buffer, _enc, cb) => {
        if (id === undefined) {
          cb();
          return;
        }
        this.write(dataFrame(id, 0, chunk)).then(() => cb(), cb);
      },
    });
    w.on('error', () => {});
    return w;
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    const stdout = this.channel('stdout');
    const stderr = this.exec.tty ? stdout : this.channel('stderr');
    let code: number;
    let failure: Record<string, unknown> | undefined;
    try {
      code = await runInContainer(this.ctx, this.target, this.exec.command, { stdin: this.stdin, stdout, stderr, signal: this.abort.signal, tty: this.exec.tty });
    } catch (err) {
      code = 1;
      failure = errorStatus(err).status;
    }
    await Promise.all(
      [...new Set([stdout, stderr])].map((w) => new Promise<void>((resolve) => (w.destroyed ? resolve() : w.end(() => resolve())))),
    ).catch(() => {});
    if (this.closed) return;
    try {
      for (const kind of ['stdout', 'stderr']) {
        const id = this.streams.get(kind);
        if (id !== undefined) await this.write(dataFrame(id, FLAG_FIN, Buffer.alloc(0)));
      }
      const errorId = this.streams.get('error');
      if (errorId !== undefined) {
        const status = failure ?? exitStatus(this.exec.command, code);
        let body: Buffer | undefined;
        if (this.version >= 4) body = Buffer.from(JSON.stringify(status));
        else if (status.status !== 'Success') body = Buffer.from(String(status.message ?? 'error'));
        if (body) await this.write(dataFrame(errorId, 0, body));
        await this.write(dataFrame(errorId, FLAG_FIN, Buffer.alloc(0)));
      }
      await this.write(controlFrame(GOAWAY, 0, Buffer.concat([uint32(0), uint32(0)])));
    } catch {
      // client gone
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Accepts a SPDY/3.1 upgrade for exec (after the pod/container checks). */
export function serveSpdyExec(
  ctx: SimContext,
  requested: string[],
  socket: stream.Duplex,
  head: Buffer,
  exec: ExecRequest,
  target: ExecTarget,
): boolean {
  const protocol = SPDY_PROTOCOLS.find((p) => requested.includes(p));
  if (!protocol) return false;
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  const version = protocol.startsWith('v') ? Number(protocol[1]) : 1;
  const session = new SpdyExec(ctx, socket, exec, target, version);
  session.feed(head);
  return true;
}
