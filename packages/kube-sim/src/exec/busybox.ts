/**
 * A tiny busybox: the commands a backup mover, a hook or `kubectl cp` run in a pod, executed in
 * process against the pod's file system view (PodFs). `run(argv, proc)` resolves with the exit
 * code; unknown commands exit 127.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  appendFile,
  chmod,
  copyFile,
  lstat,
  mkdir,
  readFile,
  readdir,
  readlink,
  rename,
  rm,
  rmdir,
  stat,
  symlink,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';

import { arithmetic, parse, ShellSyntaxError, type AndOr, type Command as ShellCommand, type Pipeline, type SimpleCommand, type Word } from './shell.js';
import { mkdirs, tar } from './tar.js';
import { FsError, errorMessage, type PodFs } from './vfs.js';

export interface Proc {
  fs: PodFs;
  cwd: string;
  env: Record<string, string>;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Exit status of the last command (`$?`). */
  status: number;
  /** Set when the session ends (client gone): long commands stop. */
  signal?: AbortSignal;
  /** A terminal is attached: `sh` without a script is interactive (prompt, line by line). */
  tty?: boolean;
  /** Positional parameters of the running script: `$0`, `$1`… */
  args?: string[];
}

type Command = (args: string[], proc: Proc) => Promise<number>;

class ExitRequest extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/**
 * Writes, resolving as soon as the stream accepts more (backpressure through 'drain'); a
 * destroyed stream rejects with EPIPE.
 */
export function writeOut(stream: Writable, data: string | Buffer): Promise<void> {
  if (data.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const epipe = () => Object.assign(new Error('broken pipe'), { code: 'EPIPE' });
    if (stream.destroyed || stream.writableEnded) {
      reject(epipe());
      return;
    }
    let settled = false;
    const done = (err?: Error | null) => {
      if (settled) return;
      settled = true;
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      if (err) reject(Object.assign(err, { code: (err as { code?: string }).code ?? 'EPIPE' }));
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(epipe());
    const ok = stream.write(data, (err) => {
      if (err) done(err);
    });
    if (ok) done();
    else {
      stream.once('drain', onDrain);
      stream.once('close', onClose);
    }
  });
}

export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        let cls = pattern.slice(i + 1, end);
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks);
}

/** Parses `-abc` style flags; stops at `--` or the first operand. */
function flags(args: string[], known: string, withValue = ''): { opts: Map<string, string | true>; rest: string[] } {
  const opts = new Map<string, string | true>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-' || (/^-\d/.test(a) && !known.includes(a[1] as string))) break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j] as string;
      if (withValue.includes(c)) {
        const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
        if (v === undefined) throw new UsageError(`option requires an argument -- '${c}'`);
        opts.set(c, v);
        break;
      }
      if (!known.includes(c)) throw new UsageError(`invalid option -- '${c}'`);
      opts.set(c, true);
    }
  }
  return { opts, rest: args.slice(i) };
}

class UsageError extends Error {}

const fmtMode = (st: Stats): string => {
  const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFIFO() ? 'p' : st.isSocket() ? 's' : st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : '-';
  const m = st.mode;
  const bits = 'rwxrwxrwx'
    .split('')
    .map((ch, i) => ((m >> (8 - i)) & 1 ? ch : '-'))
    .join('');
  const arr = bits.split('');
  if (m & 0o4000) arr[2] = arr[2] === 'x' ? 's' : 'S';
  if (m & 0o2000) arr[5] = arr[5] === 'x' ? 's' : 'S';
  if (m & 0o1000) arr[8] = arr[8] === 'x' ? 't' : 'T';
  return type + arr.join('');
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const fmtTime = (d: Date): string => {
  const pad = (n: number) => String(n).padStart(2, '0');
  const recent = Math.abs(Date.now() - d.getTime()) < 182 * 24 * 3600 * 1000;
  const day = String(d.getUTCDate()).padStart(2, ' ');
  return `${MONTHS[d.getUTCMonth()]} ${day} ${recent ? `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}` : ` ${d.getUTCFullYear()}`}`;
};

async function err(proc: Proc, text: string): Promise<void> {
  await writeOut(proc.stderr, text.endsWith('\n') ? text : `${text}\n`).catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// commands

const commands: Record<string, Command> = {
  true: async () => 0,
  false: async () => 1,
  ':': async () => 0,
  sync: async () => 0,
  tar,

  async echo(args, proc) {
    let newline = true;
    let escapes = false;
    while (args[0] && /^-[neE]+$/.test(args[0])) {
      const a = args.shift() as string;
      if (a.includes('n')) newline = false;
      if (a.includes('e')) escapes = true;
      if (a.includes('E')) escapes = false;
    }
    let text = args.join(' ');
    if (escapes) text = text.replace(/\\(n|t|\\|r|0[0-7]{0,3})/g, (_m, e: string) => (e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '\\' ? '\\' : String.fromCharCode(parseInt(e, 8))));
    await writeOut(proc.stdout, newline ? `${text}\n` : text);
    return 0;
  },

  async printf(args, proc) {
    const format = args.shift() ?? '';
    let i = 0;
    const out = format
      .replace(/\\n/g, '\n')
      .replace(/\\t/g, '\t')
      .replace(/%([sd%])/g, (_m, c: string) => (c === '%' ? '%' : c === 'd' ? String(Number(args[i++] ?? 0) || 0) : (args[i++] ?? '')));
    await writeOut(proc.stdout, out);
    return 0;
  },

  async pwd(_args, proc) {
    await writeOut(proc.stdout, `${proc.cwd}\n`);
    return 0;
  },

  async env(args, proc) {
    const env = { ...proc.env };
    while (args[0] && /^[A-Za-z_][A-Za-z0-9_]*=/.test(args[0])) {
      const a = args.shift() as string;
      env[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
    }
    if (args.length > 0) return run(args, { ...proc, env });
    await writeOut(proc.stdout, Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''));
    return 0;
  },

  async printenv(args, proc) {
    if (args.length === 0) return commands.env!([], proc);
    let status = 0;
    for (const a of args) {
      if (proc.env[a] === undefined) status = 1;
      else await writeOut(proc.stdout, `${proc.env[a]}\n`);
    }
    return status;
  },

  async id(_args, proc) {
    await writeOut(proc.stdout, 'uid=0(root) gid=0(root) groups=0(root),10(wheel)\n');
    return 0;
  },
  async whoami(_args, proc) {
    await writeOut(proc.stdout, 'root\n');
    return 0;
  },
  async hostname(_args, proc) {
    await writeOut(proc.stdout, `${proc.env.HOSTNAME ?? 'localhost'}\n`);
    return 0;
  },
  async uname(args, proc) {
    const all = args.includes('-a');
    await writeOut(proc.stdout, all ? `Linux ${proc.env.HOSTNAME ?? 'localhost'} 6.1.0-kube-sim #1 SMP x86_64 GNU/Linux\n` : 'Linux\n');
    return 0;
  },
  async date(args, proc) {
    const now = new Date();
    const format = args.find((a) => a.startsWith('+'));
    const pad = (n: number) => String(n).padStart(2, '0');
    const text = format
      ? format.slice(1).replace(/%([sYmdHMSFTz%])/g, (_m, c: string) =>
          ({
            s: String(Math.floor(now.getTime() / 1000)),
            Y: String(now.getUTCFullYear()),
            m: pad(now.getUTCMonth() + 1),
            d: pad(now.getUTCDate()),
            H: pad(now.getUTCHours()),
            M: pad(now.getUTCMinutes()),
            S: pad(now.getUTCSeconds()),
            F: `${now.getUTCFullYear()}-${pad(now.getUTCMonth() + 1)}-${pad(now.getUTCDate())}`,
            T: `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}`,
            z: '+0000',
            '%': '%',
          })[c] ?? '',
        )
      : now.toUTCString();
    await writeOut(proc.stdout, `${text}\n`);
    return 0;
  },
  async basename(args, proc) {
    if (!args[0]) return usage(proc, 'basename', 'basename FILE [SUFFIX]');
    let b = posix.basename(args[0]);
    if (args[1] && b.endsWith(args[1]) && b !== args[1]) b = b.slice(0, -args[1].length);
    await writeOut(proc.stdout, `${b}\n`);
    return 0;
  },
  async dirname(args, proc) {
    if (!args[0]) return usage(proc, 'dirname', 'dirname FILENAME');
    await writeOut(proc.stdout, `${posix.dirname(args[0])}\n`);
    return 0;
  },

  async sleep(args, proc) {
    const seconds = args.reduce((n, a) => {
      const m = /^([0-9.]+)([smhd]?)$/.exec(a);
      if (!m) return NaN;
      return n + Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as string] ?? 1);
    }, 0);
    if (args.length === 0 || Number.isNaN(seconds)) return usage(proc, 'sleep', 'sleep [N]...');
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, seconds * 1000);
      proc.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
    return 0;
  },

  async cat(args, proc) {
    const files = args.filter((a) => a !== '-u');
    if (files.length === 0) files.push('-');
    let status = 0;
    for (const f of files) {
      try {
        const input = await openRead(proc, f);
        for await (const chunk of input) await writeOut(proc.stdout, chunk as Buffer);
      } catch (e) {
        if (isEpipe(e)) return 1;
        await err(proc, `cat: can't open '${f}': ${errorMessage(e)}`);
        status = 1;
      }
    }
    return status;
  },

  async sha256sum(args, proc) {
    return hashsum('sha256', args, proc);
  },
  async md5sum(args, proc) {
    return hashsum('md5', args, proc);
  },
  async sha1sum(args, proc) {
    return hashsum('sha1', args, proc);
  },

  async ls(args, proc) {
    const { opts, rest } = flags(args, 'laA1dRhFn');
    const long = opts.has('l') || opts.has('n');
    const all = opts.has('a');
    const almost = opts.has('A');
    const paths = rest.length ? rest : ['.'];
    let status = 0;
    const files: string[] = [];
    const dirs: string[] = [];
    for (const p of paths) {
      try {
        const r = await proc.fs.resolve(p, proc.cwd, !long || p.endsWith('/'));
        const st = await lstat(r.host);
        const followed = st.isSymbolicLink() && !long ? await proc.fs.resolve(p, proc.cwd, true).catch(() => undefined) : undefined;
        const isDir = st.isDirectory() || (!!followed && (await lstat(followed.host).catch(() => undefined))?.isDirectory() === true);
        if (isDir && !opts.has('d')) dirs.push(p);
        else files.push(p);
      } catch (e) {
        await err(proc, `ls: ${p}: ${errorMessage(e)}`);
        status = 1;
      }
    }
    const line = async (name: string, host: string) => {
      if (!long) return `${name}\n`;
      const st = await lstat(host);
      const size = st.isDirectory() ? 4096 : st.size;
      const link = st.isSymbolicLink() ? ` -> ${await readlink(host)}` : '';
      const owner = opts.has('n') ? `${String(st.uid).padEnd(8)} ${String(st.gid).padEnd(8)}` : `${(st.uid === 0 ? 'root' : String(st.uid)).padEnd(8)} ${(st.gid === 0 ? 'root' : String(st.gid)).padEnd(8)}`;
      return `${fmtMode(st)} ${String(st.nlink).padStart(4)} ${owner} ${String(size).padStart(9)} ${fmtTime(st.mtime)} ${name}${link}\n`;
    };
    let out = '';
    for (const f of files) out += await line(f, (await proc.fs.resolve(f, proc.cwd, false)).host);
    for (const d of dirs) {
      const r = await proc.fs.resolve(d, proc.cwd, true);
      let names = (await readdir(r.host)).sort();
      if (!all && !almost) names = names.filter((n) => !n.startsWith('.'));
      if (all) names = ['.', '..', ...names];
      if (paths.length > 1) out += `${out ? '\n' : ''}${d}:\n`;
      if (long) out += `total ${names.length * 4}\n`;
      for (const n of names) {
        const host = n === '.' ? r.host : n === '..' ? (await proc.fs.resolve(`${r.path}/..`, '/')).host : (await proc.fs.resolve(`${r.path}/${n}`, '/', false)).host;
        out += await line(n, host);
      }
    }
    await writeOut(proc.stdout, out);
    return status;
  },

  async mkdir(args, proc) {
    const { opts, rest } = flags(args, 'pv', 'm');
    const mode = typeof opts.get('m') === 'string' ? parseInt(opts.get('m') as string, 8) : 0o755;
    let status = 0;
    for (const p of rest) {
      try {
        if (opts.has('p')) await mkdirs(proc.fs, p, proc.cwd, mode);
        else {
          const r = await proc.fs.resolveForWrite(p, proc.cwd, false);
          await mkdir(r.host, { mode });
        }
        if (typeof opts.get('m') === 'string') await chmod((await proc.fs.resolve(p, proc.cwd)).host, mode);
      } catch (e) {
        await err(proc, `mkdir: can't create directory '${p}': ${errorMessage(e)}`);
        status = 1;
      }
    }
    return status;
  },

  async rmdir(args, proc) {
    let status = 0;
    for (const p of args.filter((a) => !a.startsWith('-'))) {
      try {
        const r = await proc.fs.resolveForWrite(p, proc.cwd, false);
        if (proc.fs.isMountPoint(r.path)) throw new FsError('EBUSY', p);
        await rmdir(r.host);
      } catch (e) {
        await err(proc, `rmdir: '${p}': ${errorMessage(e)}`);
        status = 1;
      }
    }
    return status;
  },

  async rm(args, proc) {
    const { opts, rest } = flags(args, 'rRfvi');
    const recursive = opts.has('r') || opts.has('R');
    const force = opts.has('f');
    let status = 0;
    for (const p of rest) {
      try {
        const r = await proc.fs.resolve(p, proc.cwd, false);
        const st = await lstat(r.host).catch(() => undefined);
        if (!st) {
          if (!force) throw new FsError('ENOENT', p);
          continue;
        }
        if (r.mount.readOnly) throw new FsError('EROFS', p);
        if (st.isDirectory()) {
          if (!recursive) throw new FsError('EISDIR', p);
          await removeTree(proc.fs, r.path);
        } else await unlink(r.host);
      } catch (e) {
        await err(proc, `rm: can't remove '${p}': ${errorMessage(e)}`);
        status = 1;
      }
    }
    return status;
  },

  async touch(args, proc) {
    const { rest } = flags(args, 'cam');
    let status = 0;
    const now = new Date();
    for (const p of rest) {
      try {
        const r = await proc.fs.resolveForWrite(p, proc.cwd);
        const st = await stat(r.host).catch(() => undefined);
        if (!st) await writeFile(r.host, '');
        else await utimes(r.host, now, now);
      } catch (e) {
        await err(proc, `touch: ${p}: ${errorMessage(e)}`);
        status = 1;
      }
    }
    return status;
  },

  async chmod(args, proc) {
    const { opts, rest } = flags(args, 'Rfv');
    const [mode, ...files] = rest;
    if (!mode || !/^[0-7]{1,4}$/.test(mode) || files.length === 0) return usage(proc, 'chmod', 'chmod [-Rcvf] MODE[,MODE]... FILE...');
    let status = 0;
    const apply = async (path: string) => {
      const r = await proc.fs.resolveForWrite(path, proc.cwd);
      await chmod(r.host, parseInt(mode, 8));
      if (opts.has('R') && (await lstat(r.host)).isDirectory()) {
        for (const n of await readdir(r.host)) {
          const child = await proc.fs.resolve(`${r.path}/${n}`, '/', false);
          if (!(await lstat(child.host)).isSymbolicLink()) await apply(child.path);
        }
      }
    };
    for (const f of files) {
      try {
        await apply(f);
      } catch (e) {
        await err(proc, `chmod: ${f}: ${errorMessage(e)}`);
        status = 1;
      }
    }
    return status;
  },

  async chown() {
    return 0;
  },

  async ln(args, proc) {
    const { opts, rest } = flags(args, 'sfnv');
    if (rest.length < 2) return usage(proc, 'ln', 'ln [-sfnbtv] [-S SUF] TARGET... LINK|DIR');
    const [target, linkName] = rest as [string, string];
    try {
      const r = await proc.fs.resolveForWrite(linkName, proc.cwd, false);
      const existing = await lstat(r.host).catch(() => undefined);
      let dest = r;
      if (existing?.isDirectory()) dest = await proc.fs.resolveForWrite(`${r.path}/${posix.basename(target)}`, '/', false);
      else if (existing) {
        if (!opts.has('f')) throw new FsError('EEXIST', linkName);
        await unlink(r.host);
      }
      if (opts.has('s')) await symlink(target, dest.host);
      else {
        const src = await proc.fs.resolve(target, proc.cwd);
        await copyFile(src.host, dest.host);
      }
      return 0;
    } catch (e) {
      await err(proc, `ln: ${linkName}: ${errorMessage(e)}`);
      return 1;
    }
  },

  async readlink(args, proc) {
    const { opts, rest } = flags(args, 'fen');
    const p = rest[0];
    if (!p) return 1;
    try {
      if (opts.has('f') || opts.has('e')) {
        const r = await proc.fs.resolve(p, proc.cwd, true);
        if (opts.has('e')) await lstat(r.host);
        await writeOut(proc.stdout, `${r.path}\n`);
      } else {
        const r = await proc.fs.resolve(p, proc.cwd, false);
        await writeOut(proc.stdout, `${await readlink(r.host)}\n`);
      }
      return 0;
    } catch {
      return 1;
    }
  },

  async cp(args, proc) {
    const { opts, rest } = flags(args, 'rRapfdPLv');
    const recursive = opts.has('r') || opts.has('R') || opts.has('a');
    const preserve = opts.has('a') || opts.has('p');
    if (rest.length < 2) return usage(proc, 'cp', 'cp [-arPLHpfinlsTu] SOURCE... DEST');
    const dest = rest.pop() as string;
    let status = 0;
    const destR = await proc.fs.resolve(dest, proc.cwd).catch(() => undefined);
    const destIsDir = destR ? (await stat(destR.host).catch(() => undefined))?.isDirectory() : false;
    for (const src of rest) {
      try {
        const target = destIsDir ? `${destR?.path}/${posix.basename(src)}` : dest;
        await copyTree(proc, src, target, recursive, preserve || opts.has('d') || opts.has('P'));
      } catch (e) {
        await err(proc, `cp: can't copy '${src}': ${errorMessage(e)}`);
        status = 1;
      }
    }
    return status;
  },

  async mv(args, proc) {
    const { rest } = flags(args, 'fvin');
    if (rest.length < 2) return usage(proc, 'mv', 'mv [-fin] SOURCE DEST');
    const dest = rest.pop() as string;
    let status = 0;
    const destR = await proc.fs.resolve(dest, proc.cwd).catch(() => undefined);
    const destIsDir = destR ? (await stat(destR.host).catch(() => undefined))?.isDirectory() : false;
    for (const src of rest) {
      try {
        const from = await proc.fs.resolveForWrite(src, proc.cwd, false);
        if (proc.fs.isMountPoint(from.path)) throw new FsError('EBUSY', src);
        const to = await proc.fs.resolveForWrite(destIsDir ? `${destR?.path}/${posix.basename(src)}` : dest, proc.cwd, false);
        if (from.mount === to.mount) await rename(from.host, to.host);
        else {
          await copyTree(proc, from.path, to.path, true, true);
          await removeTree(proc.fs, from.path);
        }
      } catch (e) {
        await err(proc, `mv: can't rename '${src}': ${errorMessage(e)}`);
        status = 1;
      }
    }
    return status;
  },

  async test(args, proc) {
    return testExpr(args, proc);
  },
  async '['(args, proc) {
    if (args[args.length - 1] !== ']') {
      await err(proc, '[: missing ]');
      return 2;
    }
    return testExpr(args.slice(0, -1), proc);
  },

  async find(args, proc) {
    const paths: string[] = [];
    while (args[0] && !args[0].startsWith('-')) paths.push(args.shift() as string);
    if (paths.length === 0) paths.push('.');
    let name: RegExp | undefined;
    let type: string | undefined;
    let maxDepth = Infinity;
    let minDepth = 0;
    let print0 = false;
    let exec: { argv: string[]; batch: boolean } | undefined;
    while (args.length) {
      const a = args.shift() as string;
      if (a === '-name' || a === '-iname') name = new RegExp(globToRegExp(args.shift() ?? '').source, a === '-iname' ? 'i' : '');
      else if (a === '-type') type = args.shift();
      else if (a === '-maxdepth') maxDepth = Number(args.shift());
      else if (a === '-mindepth') minDepth = Number(args.shift());
      else if (a === '-print0') print0 = true;
      else if (a === '-exec') {
        const end = args.findIndex((x) => x === ';' || x === '+');
        if (end < 0) {
          await err(proc, 'find: -exec requires an argument');
          return 1;
        }
        exec = { argv: args.slice(0, end), batch: args[end] === '+' };
        args.splice(0, end + 1);
      } else if (a === '-print' || a === '-xdev') continue;
      else {
        await err(proc, `find: unrecognized: ${a}`);
        return 1;
      }
    }
    let status = 0;
    const batch: string[] = [];
    const emit = async (path: string) => {
      if (!exec) await writeOut(proc.stdout, print0 ? `${path}\0` : `${path}\n`);
      else if (exec.batch) batch.push(path);
      else if ((await run(exec.argv.map((x) => x.replaceAll('{}', path)), proc)) !== 0) status = 1;
    };
    const walk = async (display: string, path: string, depth: number) => {
      const r = await proc.fs.resolve(path, '/', depth === 0);
      const st = await lstat(r.host);
      const t = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : '?';
      if (depth >= minDepth && (!name || name.test(posix.basename(display))) && (!type || type === t)) await emit(display);
      if (st.isDirectory() && depth < maxDepth) {
        for (const n of (await readdir(r.host)).sort()) {
          await walk(display.endsWith('/') ? `${display}${n}` : `${display}/${n}`, `${r.path}/${n}`, depth + 1);
        }
      }
    };
    for (const p of paths) {
      try {
        const abs = posix.normalize(p.startsWith('/') ? p : `${proc.cwd}/${p}`);
        await walk(p, abs, 0);
      } catch (e) {
        if (isEpipe(e)) return 1;
        await err(proc, `find: ${p}: ${errorMessage(e)}`);
        status = 1;
      }
    }
    if (exec?.batch && batch.length) {
      const at = exec.argv.indexOf('{}');
      const argv = at < 0 ? [...exec.argv, ...batch] : [...exec.argv.slice(0, at), ...batch, ...exec.argv.slice(at + 1)];
      if ((await run(argv, proc)) !== 0) status = 1;
    }
    return status;
  },

  async xargs(args, proc) {
    const { opts, rest } = flags(args, '0rt', 'n');
    const items = (await readAll(proc.stdin)).toString('utf8');
    const list = (opts.has('0') ? items.split('\0') : items.split(/\s+/)).filter((x) => x !== '');
    const cmd = rest.length ? rest : ['echo'];
    if (list.length === 0) return opts.has('r') ? 0 : run(cmd, { ...proc, stdin: Readable.from([]) });
    const n = typeof opts.get('n') === 'string' ? Math.max(1, Number(opts.get('n'))) : list.length;
    let status = 0;
    for (let i = 0; i < list.length; i += n) {
      const code = await run([...cmd, ...list.slice(i, i + n)], { ...proc, stdin: Readable.from([]) });
      if (code === 127) return 127;
      if (code !== 0) status = 123;
    }
    return status;
  },

  async sort(args, proc) {
    const { opts, rest } = flags(args, 'rnuz');
    const sep = opts.has('z') ? '\0' : '\n';
    let lines: string[] = [];
    for (const f of rest.length ? rest : ['-']) {
      const text = (await readAll(await openRead(proc, f))).toString('utf8');
      const parts = text.split(sep);
      if (parts[parts.length - 1] === '') parts.pop();
      lines.push(...parts);
    }
    lines.sort(opts.has('n') ? (a, b) => parseFloat(a) - parseFloat(b) || (a < b ? -1 : a > b ? 1 : 0) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (opts.has('r')) lines.reverse();
    if (opts.has('u')) lines = lines.filter((l, i) => i === 0 || l !== lines[i - 1]);
    await writeOut(proc.stdout, lines.map((l) => l + sep).join(''));
    return 0;
  },

  async tee(args, proc) {
    const { opts, rest } = flags(args, 'a');
    const outs: Writable[] = [];
    for (const f of rest) {
      const r = await proc.fs.resolveForWrite(f, proc.cwd);
      const w = createWriteStream(r.host, { flags: opts.has('a') ? 'a' : 'w' });
      w.on('error', () => {});
      outs.push(w);
    }
    for await (const chunk of proc.stdin) {
      await writeOut(proc.stdout, chunk as Buffer);
      for (const w of outs) await writeOut(w, chunk as Buffer);
    }
    await Promise.all(outs.map((w) => new Promise<void>((resolve) => w.end(() => resolve()))));
    return 0;
  },

  async gzip(args, proc) {
    return gz(args, proc, args.includes('-d'));
  },
  async gunzip(args, proc) {
    return gz(args, proc, true);
  },
  async zcat(args, proc) {
    return gz(['-c', ...args], proc, true);
  },

  async stat(args, proc) {
    const { opts, rest } = flags(args, 'L', 'c');
    const format = typeof opts.get('c') === 'string' ? (opts.get('c') as string) : undefined;
    let status = 0;
    for (const f of rest) {
      try {
        const r = await proc.fs.resolve(f, proc.cwd, opts.has('L'));
        const st = await lstat(r.host);
        const type = st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symbolic link' : st.size === 0 ? 'regular empty file' : 'regular file';
        const text = format
          ? format.replace(/%([sanYFUGuGhi%])/g, (_m, c: string) =>
              ({ s: String(st.size), a: (st.mode & 0o7777).toString(8), n: f, Y: String(Math.floor(st.mtimeMs / 1000)), F: type, U: st.uid === 0 ? 'root' : String(st.uid), G: st.gid === 0 ? 'root' : String(st.gid), u: String(st.uid), g: String(st.gid), h: String(st.nlink), i: String(st.ino), '%': '%' })[c] ?? '',
            )
          : `  File: ${f}\n  Size: ${st.size}\t${type}\nAccess: (${(st.mode & 0o7777).toString(8).padStart(4, '0')}/${fmtMode(st)})\nModify: ${st.mtime.toISOString()}`;
        await writeOut(proc.stdout, `${text}\n`);
      } catch (e) {
        await err(proc, `stat: can't stat '${f}': ${errorMessage(e)}`);
        status = 1;
      }
    }
    return status;
  },

  async du(args, proc) {
    const { opts, rest } = flags(args, 'skhbma');
    const paths = rest.length ? rest : ['.'];
    const unit = opts.has('b') ? 1 : opts.has('m') ? 1024 * 1024 : 1024;
    let status = 0;
    const size = async (host: string): Promise<number> => {
      const st = await lstat(host);
      const own = opts.has('b') ? st.size : st.blocks * 512;
      if (!st.isDirectory()) return own;
      let total = own;
      for (const n of await readdir(host)) total += await size(`${host}/${n}`);
      return total;
    };
    for (const p of paths) {
      try {
        const r = await proc.fs.resolve(p, proc.cwd);
        const n = await size(r.host);
        await writeOut(proc.stdout, `${opts.has('h') ? human(n) : Math.ceil(n / unit)}\t${p}\n`);
      } catch (e) {
        await err(proc, `du: ${p}: ${errorMessage(e)}`);
        status = 1;
      }
    }
    return status;
  },

  async head(args, proc) {
    return headTail('head', args, proc);
  },
  async tail(args, proc) {
    return headTail('tail', args, proc);
  },

  async wc(args, proc) {
    const { opts, rest } = flags(args, 'clwm');
    const files = rest.length ? rest : ['-'];
    const show = opts.size ? opts : new Map([['l', true], ['w', true], ['c', true]] as const);
    let status = 0;
    for (const f of files) {
      try {
        const data = await readAll(await openRead(proc, f));
        const text = data.toString('utf8');
        const cols: number[] = [];
        if (show.has('l')) cols.push(data.filter((b) => b === 10).length);
        if (show.has('w')) cols.push(text.split(/\s+/).filter(Boolean).length);
        if (show.has('c') || show.has('m')) cols.push(data.length);
        await writeOut(proc.stdout, `${cols.map((c) => String(c).padStart(7)).join(' ')}${f === '-' ? '' : ` ${f}`}\n`);
      } catch (e) {
        await err(proc, `wc: ${f}: ${errorMessage(e)}`);
        status = 1;
      }
    }
    return status;
  },

  async grep(args, proc) {
    const { opts, rest } = flags(args, 'qvciEFnlsw', 'e');
    const pattern = typeof opts.get('e') === 'string' ? (opts.get('e') as string) : rest.shift();
    if (pattern === undefined) return usage(proc, 'grep', 'grep [-HhnlLoqvsrRiwFE] [-m N] [-A|B|C N] { PATTERN | -e PATTERN... | -f FILE... } [FILE]...');
    const src = opts.has('F') ? pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : opts.has('E') ? pattern : pattern.replace(/\\([(){}|+?])/g, '$1');
    const re = new RegExp(opts.has('w') ? `\\b(?:${src})\\b` : src, opts.has('i') ? 'i' : '');
    const files = rest.length ? rest : ['-'];
    let matched = false;
    let status = 0;
    for (const f of files) {
      try {
        const lines = (await readAll(await openRead(proc, f))).toString('utf8').split('\n');
        if (lines[lines.length - 1] === '') lines.pop();
        let count = 0;
        for (let i = 0; i < lines.length; i++) {
          const line = lines[i] as string;
          if (re.test(line) === opts.has('v')) continue;
          count++;
          matched = true;
          if (opts.has('q')) return 0;
          if (!opts.has('c') && !opts.has('l')) {
            const prefix = `${files.length > 1 ? `${f}:` : ''}${opts.has('n') ? `${i + 1}:` : ''}`;
            await writeOut(proc.stdout, `${prefix}${line}\n`);
          }
        }
        if (opts.has('c')) await writeOut(proc.stdout, `${files.length > 1 ? `${f}:` : ''}${count}\n`);
        if (opts.has('l') && count) await writeOut(proc.stdout, `${f}\n`);
      } catch (e) {
        if (!opts.has('s')) await err(proc, `grep: ${f}: ${errorMessage(e)}`);
        status = 2;
      }
    }
    return status || (matched ? 0 : 1);
  },

  async sh(args, proc) {
    return shell(args, proc);
  },
};
commands.ash = commands.sh!;
commands.busybox = async (args, proc) => {
  if (args.length === 0) {
    await writeOut(proc.stdout, `BusyBox v1.36.1 (kube-sim) multi-call binary.\nCurrently defined functions:\n\t${Object.keys(commands).sort().join(', ')}\n`);
    return 0;
  }
  return run(args, proc);
};

async function gz(args: string[], proc: Proc, decompress: boolean): Promise<number> {
  const { opts, rest } = flags(args, 'cdfk1923456789n');
  if (rest.length && !opts.has('c')) {
    await err(proc, `${decompress ? 'gunzip' : 'gzip'}: only -c (to stdout) is supported`);
    return 1;
  }
  let status = 0;
  for (const f of rest.length ? rest : ['-']) {
    try {
      const input = await openRead(proc, f);
      const z = decompress ? createGunzip() : createGzip();
      const done = (async () => {
        for await (const chunk of z) await writeOut(proc.stdout, chunk as Buffer);
      })();
      for await (const chunk of input) {
        if (!z.write(chunk as Buffer)) await new Promise((r) => z.once('drain', r));
      }
      z.end();
      await done;
    } catch (e) {
      await err(proc, `${decompress ? 'gunzip' : 'gzip'}: ${f}: ${errorMessage(e)}`);
      status = 1;
    }
  }
  return status;
}

function human(n: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? String(n) : `${n < 10 ? n.toFixed(1) : Math.round(n)}${units[i]}`;
}

async function usage(proc: Proc, name: string, text: string): Promise<number> {
  await err(proc, `BusyBox v1.36.1 (kube-sim) multi-call binary.\n\nUsage: ${text}\n`);
  void name;
  return 1;
}

function isEpipe(e: unknown): boolean {
  return (e as { code?: string } | undefined)?.code === 'EPIPE';
}

async function openRead(proc: Proc, path: string): Promise<Readable> {
  if (path === '-') return proc.stdin;
  if (path === '/dev/null') return Readable.from([]);
  const r = await proc.fs.resolve(path, proc.cwd);
  const st = await stat(r.host);
  if (st.isDirectory()) throw new FsError('EISDIR', path);
  return createReadStream(r.host, { highWaterMark: 256 * 1024 });
}

async function hashsum(algo: string, args: string[], proc: Proc): Promise<number> {
  const { opts, rest } = flags(args, 'bcstw');
  if (opts.has('c')) {
    let status = 0;
    for (const f of rest.length ? rest : ['-']) {
      const text = (await readAll(await openRead(proc, f))).toString('utf8');
      for (const line of text.split('\n').filter(Boolean)) {
        const m = /^([0-9a-f]+) [ *](.*)$/.exec(line);
        if (!m) continue;
        let ok = false;
        try {
          const h = createHash(algo);
          for await (const c of await openRead(proc, m[2] as string)) h.update(c as Buffer);
          ok = h.digest('hex') === m[1];
        } catch {
          ok = false;
        }
        if (!ok) status = 1;
        await writeOut(proc.stdout, `${m[2]}: ${ok ? 'OK' : 'FAILED'}\n`);
      }
    }
    return status;
  }
  let status = 0;
  for (const f of rest.length ? rest : ['-']) {
    try {
      const h = createHash(algo);
      for await (const c of await openRead(proc, f)) h.update(c as Buffer);
      await writeOut(proc.stdout, `${h.digest('hex')}  ${f}\n`);
    } catch (e) {
      await err(proc, `${algo}sum: can't open '${f}': ${errorMessage(e)}`);
      status = 1;
    }
  }
  return status;
}

async function headTail(which: 'head' | 'tail', args: string[], proc: Proc): Promise<number> {
  let bytes: string | undefined;
  let lines = '10';
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-c') bytes = args[++i];
    else if (a.startsWith('-c')) bytes = a.slice(2);
    else if (a === '-n') lines = args[++i] ?? '10';
    else if (a.startsWith('-n')) lines = a.slice(2);
    else if (/^-\d+$/.test(a)) lines = a.slice(1);
    else if (a === '-q' || a === '-f') continue;
    else files.push(a);
  }
  if (files.length === 0) files.push('-');
  let status = 0;
  for (const f of files) {
    try {
      const input = await openRead(proc, f);
      if (which === 'tail' && bytes?.startsWith('+')) {
        // tail -c +N: output starting with byte N (streamed)
        let skip = Math.max(0, Number(bytes.slice(1)) - 1);
        for await (const chunk of input) {
          let c = chunk as Buffer;
          if (skip > 0) {
            const n = Math.min(skip, c.length);
            skip -= n;
            c = c.subarray(n);
          }
          if (c.length) await writeOut(proc.stdout, c);
        }
        continue;
      }
      if (which === 'head' && bytes !== undefined) {
        let left = Number(bytes);
        for await (const chunk of input) {
          const c = (chunk as Buffer).subarray(0, left);
          left -= c.length;
          await writeOut(proc.stdout, c);
          if (left <= 0) break;
        }
        continue;
      }
      const data = await readAll(input);
      if (bytes !== undefined) {
        await writeOut(proc.stdout, data.subarray(Math.max(0, data.length - Number(bytes))));
        continue;
      }
      const text = data.toString('utf8');
      const parts = text.split('\n');
      const trailing = text.endsWith('\n');
      if (trailing) parts.pop();
      let selected: string[];
      if (which === 'head') selected = parts.slice(0, Number(lines));
      else if (lines.startsWith('+')) selected = parts.slice(Math.max(0, Number(lines.slice(1)) - 1));
      else selected = parts.slice(Math.max(0, parts.length - Number(lines)));
      const out = selected.join('\n');
      await writeOut(proc.stdout, out + (selected.length && (trailing || selected.length < parts.length) ? '\n' : ''));
    } catch (e) {
      if (isEpipe(e)) return 0;
      await err(proc, `${which}: can't open '${f}': ${errorMessage(e)}`);
      status = 1;
    }
  }
  return status;
}

async function removeTree(fs: PodFs, path: string): Promise<void> {
  if (fs.isMountPoint(path)) {
    // busybox would fail with EBUSY on the mount point itself; empty it instead
    const r = await fs.resolve(path, '/', false);
    for (const n of await readdir(r.host)) await removeTree(fs, `${path}/${n}`);
    throw new FsError('EBUSY', path);
  }
  const r = await fs.resolve(path, '/', false);
  if (r.mount.readOnly) throw new FsError('EROFS', path);
  const st = await lstat(r.host);
  if (st.isDirectory()) {
    // mount points below this directory must not be removed with it
    const nested = fs.listMounts().filter((m) => m.path.startsWith(`${r.path}/`));
    if (nested.length === 0) {
      await rm(r.host, { recursive: true, force: true });
      return;
    }
    for (const n of await readdir(r.host)) {
      await removeTree(fs, `${r.path}/${n}`).catch((e: unknown) => {
        if ((e as FsError).code !== 'EBUSY') throw e;
      });
    }
    await rmdir(r.host);
  } else await unlink(r.host);
}

async function copyTree(proc: Proc, src: string, dest: string, recursive: boolean, noDeref: boolean): Promise<void> {
  const from = await proc.fs.resolve(src, proc.cwd, !noDeref);
  const st = await lstat(from.host);
  if (st.isSymbolicLink()) {
    // copy the link itself, replacing whatever is at the destination
    const to = await proc.fs.resolveForWrite(dest, proc.cwd, false);
    await rm(to.host, { force: true });
    await symlink(await readlink(from.host), to.host);
    return;
  }
  // like cp, write through an existing link at the destination — resolved inside the
  // container (PodFs), never by the host
  const to = await proc.fs.resolveForWrite(dest, proc.cwd, true);
  if (st.isDirectory()) {
    if (!recursive) throw new Error(`omitting directory '${src}'`);
    await mkdir(to.host, { recursive: true });
    for (const n of await readdir(from.host)) await copyTree(proc, `${from.path}/${n}`, `${to.path}/${n}`, true, true);
    await chmod(to.host, st.mode & 0o7777);
    if (noDeref) await utimes(to.host, st.atime, st.mtime);
    return;
  }
  await copyFile(from.host, to.host);
  if (noDeref) {
    await chmod(to.host, st.mode & 0o7777);
    await utimes(to.host, st.atime, st.mtime);
  }
}

async function testExpr(args: string[], proc: Proc): Promise<number> {
  if (args[0] === '!') return (await testExpr(args.slice(1), proc)) === 0 ? 1 : 0;
  const fileTest = async (op: string, path: string): Promise<boolean> => {
    try {
      const r = await proc.fs.resolve(path, proc.cwd, op !== '-L' && op !== '-h');
      const st = op === '-L' || op === '-h' ? await lstat(r.host) : await stat(r.host);
      switch (op) {
        case '-e':
          return true;
        case '-d':
          return st.isDirectory();
        case '-f':
          return st.isFile();
        case '-s':
          return st.size > 0;
        case '-L':
        case '-h':
          return st.isSymbolicLink();
        case '-r':
        case '-x':
          return op === '-r' || (st.mode & 0o111) !== 0;
        case '-w':
          return !r.mount.readOnly;
        case '-p':
          return st.isFIFO();
        default:
          return false;
      }
    } catch {
      return false;
    }
  };
  if (args.length === 0) return 1;
  if (args.length === 1) return args[0] !== '' ? 0 : 1;
  if (args.length === 2) {
    const [op, v] = args as [string, string];
    if (op === '-z') return v === '' ? 0 : 1;
    if (op === '-n') return v !== '' ? 0 : 1;
    if (/^-[edfsLhrwxp]$/.test(op)) return (await fileTest(op, v)) ? 0 : 1;
    await err(proc, `test: ${op}: unknown operand`);
    return 2;
  }
  if (args.length === 3) {
    const [a, op, b] = args as [string, string, string];
    const na = Number(a);
    const nb = Number(b);
    switch (op) {
      case '=':
      case '==':
        return a === b ? 0 : 1;
      case '!=':
        return a !== b ? 0 : 1;
      case '-eq':
        return na === nb ? 0 : 1;
      case '-ne':
        return na !== nb ? 0 : 1;
      case '-lt':
        return na < nb ? 0 : 1;
      case '-le':
        return na <= nb ? 0 : 1;
      case '-gt':
        return na > nb ? 0 : 1;
      case '-ge':
        return na >= nb ? 0 : 1;
    }
  }
  const and = args.indexOf('-a');
  if (and > 0) return (await testExpr(args.slice(0, and), proc)) === 0 && (await testExpr(args.slice(and + 1), proc)) === 0 ? 0 : 1;
  const or = args.indexOf('-o');
  if (or > 0) return (await testExpr(args.slice(0, or), proc)) === 0 || (await testExpr(args.slice(or + 1), proc)) === 0 ? 0 : 1;
  await err(proc, 'test: syntax error');
  return 2;
}

// ---------------------------------------------------------------------------------------------
// running commands and the shell

const PATH_DIRS = ['/bin/', '/usr/bin/', '/sbin/', '/usr/sbin/', '/usr/local/bin/', '/usr/local/sbin/'];

function lookup(name: string): Command | undefined {
  if (Object.prototype.hasOwnProperty.call(commands, name)) return commands[name];
  for (const dir of PATH_DIRS) {
    if (name.startsWith(dir)) {
      const base = name.slice(dir.length);
      if (!base.includes('/') && Object.prototype.hasOwnProperty.call(commands, base)) return commands[base];
    }
  }
  return undefined;
}

/** Runs one command (argv[0] looked up among the builtins) and resolves with its exit code. */
export async function run(argv: string[], proc: Proc, fromShell = false): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) return 0;
  const cmd = lookup(name);
  if (!cmd) {
    await err(proc, fromShell ? `sh: ${name}: not found` : `exec: "${name}": executable file not found in $PATH`);
    return 127;
  }
  try {
    return await cmd(args, proc);
  } catch (e) {
    if (e instanceof ExitRequest) throw e;
    if (e instanceof UsageError) {
      await err(proc, `${posix.basename(name)}: ${e.message}`);
      return 1;
    }
    if (isEpipe(e)) return 141;
    await err(proc, `${posix.basename(name)}: ${errorMessage(e)}`);
    return 1;
  }
}

async function shell(args: string[], proc: Proc): Promise<number> {
  let script: string;
  let i = 0;
  while (i < args.length && args[i]?.startsWith('-') && args[i] !== '-c') i++;
  if (args[i] === '-c') {
    script = args[i + 1] ?? '';
    if (args[i + 1] === undefined) {
      await err(proc, 'sh: -c requires an argument');
      return 2;
    }
  } else if (args[i] !== undefined) {
    try {
      const r = await proc.fs.resolve(args[i] as string, proc.cwd);
      script = await readFile(r.host, 'utf8');
    } catch (e) {
      await err(proc, `sh: can't open '${args[i]}': ${errorMessage(e)}`);
      return 127;
    }
  } else if (proc.tty) {
    return interactive(proc);
  } else {
    script = (await readAll(proc.stdin)).toString('utf8');
  }
  let list: AndOr[];
  try {
    list = parse(script);
  } catch (e) {
    if (e instanceof ShellSyntaxError) {
      await err(proc, `sh: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const positional = args[i] === '-c' ? args.slice(i + 2) : args.slice(i);
  const sub: Proc = { ...proc, env: { ...proc.env }, args: positional.length ? positional : ['sh'] };
  try {
    return await runList(list, sub);
  } catch (e) {
    if (e instanceof ExitRequest) return e.code;
    if (e instanceof LoopControl) return 0; // break/continue outside a loop
    throw e;
  }
}

/** An interactive shell on a terminal: a prompt, then each line as it is typed. */
async function interactive(proc: Proc): Promise<number> {
  const sub: Proc = { ...proc, env: { ...proc.env }, stdin: Readable.from([]) };
  let script = '';
  const prompt = () => writeOut(proc.stdout, script ? '> ' : `${sub.cwd} # `).catch(() => {});
  await prompt();
  let pending = '';
  for await (const chunk of proc.stdin) {
    pending += Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      script += pending.slice(0, nl + 1);
      pending = pending.slice(nl + 1);
      try {
        const list = parse(script);
        script = '';
        sub.status = await runList(list, sub);
      } catch (e) {
        if (e instanceof ExitRequest) return e.code;
        if (e instanceof ShellSyntaxError && /end of file|unterminated/.test(e.message)) {
          // an unfinished compound command or quote: read on
        } else if (e instanceof ShellSyntaxError || e instanceof LoopControl) {
          if (e instanceof ShellSyntaxError) await err(sub, `sh: ${e.message}`);
          script = '';
          sub.status = e instanceof ShellSyntaxError ? 2 : 0;
        } else throw e;
      }
      await prompt();
    }
  }
  await writeOut(proc.stdout, 'exit\n').catch(() => {});
  return sub.status;
}

async function runList(list: AndOr[], proc: Proc): Promise<number> {
  let status = proc.status;
  for (const { op, pipeline } of list) {
    if (op === '&&' && status !== 0) continue;
    if (op === '||' && status === 0) continue;
    status = await runPipeline(pipeline, proc);
    proc.status = status;
  }
  return status;
}

async function expand(word: Word, proc: Proc): Promise<{ text: string; globbable: boolean }> {
  let text = '';
  let globbable = false;
  for (const seg of word) {
    if (seg.kind === 'text') {
      text += seg.text;
      if (!seg.quoted && /[*?[]/.test(seg.text)) globbable = true;
    } else if (seg.kind === 'cmd') text += await substitute(seg.script, proc);
    else if (seg.kind === 'arith') text += String(arithmetic(seg.expr, (name) => proc.env[name]));
    else if (seg.name === '?') text += String(proc.status);
    else if (seg.name === '$') text += '1';
    else if (seg.name === '#') text += String(Math.max(0, (proc.args?.length ?? 1) - 1));
    else if (seg.name === '@' || seg.name === '*') text += (proc.args ?? []).slice(1).join(' ');
    else if (/^[0-9]+$/.test(seg.name)) text += seg.name === '0' ? (proc.args?.[0] ?? 'sh') : (proc.args?.[Number(seg.name)] ?? '');
    else text += proc.env[seg.name] ?? '';
  }
  return { text, globbable };
}

/** `$(…)`: runs the script in a subshell and returns its output without trailing newlines. */
async function substitute(script: string, proc: Proc): Promise<string> {
  const chunks: Buffer[] = [];
  const sub: Proc = {
    ...proc,
    env: { ...proc.env },
    stdin: Readable.from([]),
    stdout: new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(Buffer.from(c));
        cb();
      },
    }),
  };
  try {
    proc.status = await runList(parse(script), sub);
  } catch (e) {
    if (e instanceof ExitRequest) proc.status = e.code;
    else if (e instanceof ShellSyntaxError) {
      await err(proc, `sh: ${e.message}`);
      proc.status = 2;
    } else if (!(e instanceof LoopControl)) throw e;
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\n+$/, '');
}

async function glob(pattern: string, proc: Proc): Promise<string[]> {
  const absolute = pattern.startsWith('/');
  const parts = pattern.split('/').filter((p, i) => p !== '' || i === 0);
  let bases: string[] = [absolute ? '/' : ''];
  for (const part of parts) {
    if (part === '') continue;
    const next: string[] = [];
    for (const base of bases) {
      if (!/[*?[]/.test(part)) {
        next.push(base === '' ? part : base.endsWith('/') ? `${base}${part}` : `${base}/${part}`);
        continue;
      }
      const re = globToRegExp(part);
      try {
        const r = await proc.fs.resolve(base === '' ? '.' : base, proc.cwd);
        for (const n of (await readdir(r.host)).sort()) {
          if (n.startsWith('.') && !part.startsWith('.')) continue;
          if (re.test(n)) next.push(base === '' ? n : base.endsWith('/') ? `${base}${n}` : `${base}/${n}`);
        }
      } catch {
        // no match
      }
    }
    bases = next;
  }
  const existing: string[] = [];
  for (const b of bases) {
    try {
      await lstat((await proc.fs.resolve(b, proc.cwd, false)).host);
      existing.push(b);
    } catch {
      // dropped
    }
  }
  return existing;
}

async function expandWords(words: Word[], proc: Proc): Promise<string[]> {
  const out: string[] = [];
  for (const w of words) {
    const { text, globbable } = await expand(w, proc);
    const allVars = w.every((s) => s.kind !== 'text' && !s.quoted);
    if (allVars) {
      out.push(...text.split(/\s+/).filter(Boolean));
      continue;
    }
    if (globbable) {
      const matches = await glob(text, proc);
      if (matches.length) {
        out.push(...matches);
        continue;
      }
    }
    out.push(text);
  }
  return out;
}

const devNull = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

async function openRedirects(cmd: SimpleCommand, proc: Proc): Promise<{ proc: Proc; close: () => Promise<void> }> {
  const p: Proc = { ...proc };
  const opened: Writable[] = [];
  for (const r of cmd.redirects) {
    const target = (await expand(r.target, proc)).text;
    if (r.op === '>&') {
      const src = target === '1' ? p.stdout : target === '2' ? p.stderr : undefined;
      if (!src) throw new Error(`${target}: bad file descriptor`);
      if (r.fd === 1) p.stdout = src;
      else if (r.fd === 2) p.stderr = src;
      continue;
    }
    if (r.op === '<<') {
      p.stdin = Readable.from([Buffer.from(target)]);
      continue;
    }
    if (r.op === '<') {
      p.stdin = await openRead(proc, target);
      continue;
    }
    let stream: Writable;
    if (target === '/dev/null') stream = devNull();
    else if (target === '/dev/stdout') stream = proc.stdout;
    else if (target === '/dev/stderr') stream = proc.stderr;
    else {
      const resolved = await proc.fs.resolveForWrite(target, proc.cwd);
      if (r.op === '>>') await appendFile(resolved.host, '');
      const ws = createWriteStream(resolved.host, { flags: r.op === '>>' ? 'a' : 'w' });
      ws.on('error', () => {}); // surfaces as EPIPE on the next write
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      stream = ws;
      opened.push(ws);
    }
    if (r.fd === 1) p.stdout = stream;
    else if (r.fd === 2) p.stderr = stream;
  }
  return {
    proc: p,
    close: async () => {
      await Promise.all(opened.map((s) => new Promise<void>((resolve) => s.end(() => resolve()))));
    },
  };
}

async function runSimple(cmd: SimpleCommand, proc: Proc): Promise<number> {
  const argv = await expandWords(cmd.words, proc);
  // assignments
  const assignments: Array<[string, string]> = [];
  while (argv[0] && /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0])) {
    const a = argv.shift() as string;
    assignments.push([a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]);
  }
  if (argv.length === 0) {
    for (const [k, v] of assignments) proc.env[k] = v;
    return 0;
  }
  let redirected: Awaited<ReturnType<typeof openRedirects>>;
  try {
    redirected = await openRedirects(cmd, proc);
  } catch (e) {
    await err(proc, `sh: can't create ${(await expand(cmd.redirects[0]?.target ?? [], proc)).text}: ${errorMessage(e)}`);
    return 1;
  }
  const p = redirected.proc;
  if (assignments.length) p.env = { ...proc.env, ...Object.fromEntries(assignments) };
  const [name, ...args] = argv as [string, ...string[]];
  try {
    switch (name) {
      case 'exit':
        throw new ExitRequest(args[0] !== undefined ? Number(args[0]) & 0xff : proc.status);
      case 'cd': {
        const target = args[0] ?? proc.env.HOME ?? '/';
        try {
          const r = await proc.fs.resolve(target, proc.cwd);
          if (!(await stat(r.host)).isDirectory()) throw new FsError('ENOTDIR', target);
          proc.cwd = r.path;
          return 0;
        } catch (e) {
          await err(proc, `sh: cd: can't cd to ${target}: ${errorMessage(e)}`);
          return 2;
        }
      }
      case 'export':
        for (const a of args) {
          const eq = a.indexOf('=');
          if (eq > 0) proc.env[a.slice(0, eq)] = a.slice(eq + 1);
        }
        return 0;
      case 'unset':
        for (const a of args) delete proc.env[a];
        return 0;
      case 'set':
        return 0;
      case 'break':
      case 'continue':
        throw new LoopControl(name, Math.max(1, Number(args[0] ?? 1) || 1));
      case 'exec':
        if (args.length === 0) return 0;
        throw new ExitRequest(await run(args, p, true));
      default:
        return await run(argv, p, true);
    }
  } finally {
    await redirected.close();
  }
}

class LoopControl extends Error {
  constructor(
    readonly kind: 'break' | 'continue',
    readonly levels: number,
  ) {
    super(kind);
  }
}

/** Runs a compound command's body with its redirections. */
async function withRedirects(redirects: SimpleCommand['redirects'], proc: Proc, body: (p: Proc) => Promise<number>): Promise<number> {
  if (redirects.length === 0) return body(proc);
  let redirected: Awaited<ReturnType<typeof openRedirects>>;
  try {
    redirected = await openRedirects({ kind: 'simple', words: [], redirects }, proc);
  } catch (e) {
    await err(proc, `sh: can't create ${(await expand(redirects[0]?.target ?? [], proc)).text}: ${errorMessage(e)}`);
    return 1;
  }
  try {
    return await body(redirected.proc);
  } finally {
    await redirected.close();
  }
}

async function runLoopBody(body: AndOr[], proc: Proc): Promise<{ status: number; stop: boolean }> {
  try {
    return { status: await runList(body, proc), stop: false };
  } catch (e) {
    if (!(e instanceof LoopControl)) throw e;
    if (e.levels > 1) throw new LoopControl(e.kind, e.levels - 1);
    return { status: 0, stop: e.kind === 'break' };
  }
}

async function runCommand(cmd: ShellCommand, proc: Proc): Promise<number> {
  switch (cmd.kind) {
    case 'simple':
      return runSimple(cmd, proc);
    case 'group':
      return withRedirects(cmd.redirects, proc, (p) => runList(cmd.body, p));
    case 'if':
      return withRedirects(cmd.redirects, proc, async (p) => {
        for (const b of cmd.branches) {
          if ((await runList(b.cond, p)) === 0) return runList(b.body, p);
        }
        return cmd.otherwise ? runList(cmd.otherwise, p) : 0;
      });
    case 'for':
      return withRedirects(cmd.redirects, proc, async (p) => {
        const items = cmd.items ? await expandWords(cmd.items, p) : (p.args ?? []).slice(1);
        let status = 0;
        for (const item of items) {
          if (p.signal?.aborted) break;
          p.env[cmd.name] = item;
          const r = await runLoopBody(cmd.body, p);
          status = r.status;
          if (r.stop) break;
        }
        return status;
      });
    case 'case':
      return withRedirects(cmd.redirects, proc, async (p) => {
        const subject = (await expand(cmd.subject, p)).text;
        for (const item of cmd.items) {
          for (const pattern of item.patterns) {
            // quoted parts of a pattern match literally
            let re = '';
            for (const seg of pattern) {
              const text = seg.kind === 'text' ? seg.text : (await expand([seg], p)).text;
              re += seg.kind === 'text' && !seg.quoted ? globToRegExp(text).source.slice(1, -1) : text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            }
            if (new RegExp(`^${re}$`).test(subject)) return item.body.length ? runList(item.body, p) : 0;
          }
        }
        return 0;
      });
    case 'while':
    case 'until':
      return withRedirects(cmd.redirects, proc, async (p) => {
        let status = 0;
        for (;;) {
          if (p.signal?.aborted) break;
          const c = await runList(cmd.cond, p);
          if (cmd.kind === 'while' ? c !== 0 : c === 0) break;
          const r = await runLoopBody(cmd.body, p);
          status = r.status;
          if (r.stop) break;
          // let other work run between iterations of a tight loop
          await new Promise((resolve) => setImmediate(resolve));
        }
        return status;
      });
  }
}

async function runPipeline(pipeline: Pipeline, proc: Proc): Promise<number> {
  const code = await runStages(pipeline.commands, proc);
  return pipeline.negate ? (code === 0 ? 1 : 0) : code;
}

async function runStages(stages: ShellCommand[], proc: Proc): Promise<number> {
  if (stages.length === 1) return runCommand(stages[0] as ShellCommand, proc);
  const results: Array<Promise<number>> = [];
  let input: Readable = proc.stdin;
  for (let i = 0; i < stages.length; i++) {
    const last = i === stages.length - 1;
    const pipe = last ? undefined : new PassThrough({ highWaterMark: 64 * 1024 });
    const stage: Proc = { ...proc, env: { ...proc.env }, stdin: input, stdout: pipe ?? proc.stdout };
    const cmd = stages[i] as ShellCommand;
    results.push(
      runCommand(cmd, stage)
        .catch((e: unknown) => (e instanceof ExitRequest ? e.code : 1))
        .finally(() => pipe?.end()),
    );
    if (i > 0) {
      // when a reader stops early, let the writer before it finish (discard what it still writes)
      const upstream = input;
      void results[i]!.finally(() => {
        if (upstream !== proc.stdin) upstream.resume();
      });
    }
    if (pipe) input = pipe;
  }
  const codes = await Promise.all(results);
  return codes[codes.length - 1] ?? 0;
}

/** The names the busybox answers to. */
export const builtinNames = (): string[] => Object.keys(commands).sort();
