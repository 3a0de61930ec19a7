/**
 * busybox-compatible `tar`: create (`c`) to stdout or a file, extract (`x`) and list (`t`) from
 * stdin or a file; `-C DIR`, `-v`, `-z`, `-m`, `-O`, `-h`, `--strip-components=N`,
 * `--exclude=PATTERN`; regular files, directories, symbolic and hard links with their modes and
 * mtimes. Every path goes through the pod's file system view (PodFs), never straight to the host.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, link, lstat, lutimes, mkdir, readdir, readlink, rm, stat, symlink, unlink, utimes } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';

import tarStream from 'tar-stream';

import type { Proc } from './busybox.js';
import { globToRegExp, writeOut } from './busybox.js';
import { FsError, errorMessage, type PodFs } from './vfs.js';

interface TarOptions {
  mode?: 'c' | 'x' | 't';
  file?: string;
  dir?: string;
  verbose: boolean;
  gzip: boolean;
  keepMtime: boolean;
  toStdout: boolean;
  dereference: boolean;
  noSamePermissions: boolean;
  strip: number;
  excludes: RegExp[];
  paths: string[];
}

class UsageError extends Error {}

function parseArgs(args: string[]): TarOptions | 'version' {
  const o: TarOptions = {
    verbose: false,
    gzip: false,
    keepMtime: true,
    toStdout: false,
    dereference: false,
    noSamePermissions: false,
    strip: 0,
    excludes: [],
    paths: [],
  };
  const rest = [...args];
  const takeValue = (flag: string): string => {
    const v = rest.shift();
    if (v === undefined) throw new UsageError(`option requires an argument -- '${flag}'`);
    return v;
  };
  const letters = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      const c = s[i] as string;
      switch (c) {
        case 'c':
        case 'x':
        case 't':
          if (o.mode && o.mode !== c) throw new UsageError('You may not specify more than one of c, x, t');
          o.mode = c;
          break;
        case 'f':
          if (i + 1 < s.length) {
            o.file = s.slice(i + 1);
            return;
          }
          o.file = takeValue('f');
          break;
        case 'C':
          if (i + 1 < s.length) {
            o.dir = s.slice(i + 1);
            return;
          }
          o.dir = takeValue('C');
          break;
        case 'v':
          o.verbose = true;
          break;
        case 'z':
          o.gzip = true;
          break;
        case 'm':
          o.keepMtime = false;
          break;
        case 'O':
          o.toStdout = true;
          break;
        case 'h':
          o.dereference = true;
          break;
        case 'p':
        case 'o':
          break;
        default:
          throw new UsageError(`invalid option -- '${c}'`);
      }
    }
  };
  let first = true;
  while (rest.length > 0) {
    const a = rest.shift() as string;
    if (first && !a.startsWith('-') && a.length > 0) {
      letters(a);
      first = false;
      continue;
    }
    first = false;
    if (a === '--') {
      o.paths.push(...rest.splice(0));
    } else if (a.startsWith('--')) {
      const [name, value] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      const val = () => value ?? takeValue(name);
      switch (name) {
        case '--version':
          return 'version';
        case '--create':
          o.mode = 'c';
          break;
        case '--extract':
        case '--get':
          o.mode = 'x';
          break;
        case '--list':
          o.mode = 't';
          break;
        case '--file':
          o.file = val();
          break;
        case '--directory':
          o.dir = val();
          break;
        case '--verbose':
          o.verbose = true;
          break;
        case '--gzip':
        case '--gunzip':
          o.gzip = true;
          break;
        case '--touch':
          o.keepMtime = false;
          break;
        case '--to-stdout':
          o.toStdout = true;
          break;
        case '--dereference':
          o.dereference = true;
          break;
        case '--no-same-permissions':
          o.noSamePermissions = true;
          break;
        case '--strip-components':
          o.strip = Number(val()) || 0;
          break;
        case '--exclude':
          o.excludes.push(globToRegExp(val()));
          break;
        case '--no-same-owner':
        case '--same-owner':
        case '--numeric-owner':
        case '--preserve-permissions':
        case '--same-permissions':
        case '--no-recursion':
        case '--overwrite':
          break;
        default:
          throw new UsageError(`unrecognized option '${a}'`);
      }
    } else if (a.startsWith('-') && a.length > 1) {
      letters(a.slice(1));
    } else {
      o.paths.push(a);
    }
  }
  return o;
}

export async function tar(args: string[], proc: Proc): Promise<number> {
  let o: TarOptions | 'version';
  try {
    o = parseArgs(args);
  } catch (err) {
    if (err instanceof UsageError) {
      await writeOut(proc.stderr, `tar: ${err.message}\nBusyBox v1.36.1 (kube-sim) multi-call binary.\n\nUsage: tar c|x|t [-ZzJjahmvokO] [-f TARFILE] [-C DIR] [-T FILE] [-X FILE] [LONGOPT]... [FILE]...\n`);
      return 1;
    }
    throw err;
  }
  if (o === 'version') {
    await writeOut(proc.stdout, 'tar (busybox) 1.36.1\n');
    return 0;
  }
  if (!o.mode) {
    await writeOut(proc.stderr, 'tar: need at least one of c, x, t\n');
    return 1;
  }
  const base = o.dir ? (await proc.fs.resolve(o.dir, proc.cwd)).path : proc.cwd;
  if (o.dir) {
    try {
      const r = await proc.fs.resolve(o.dir, proc.cwd);
      if (!(await stat(r.host)).isDirectory()) throw new FsError('ENOTDIR', o.dir);
    } catch (err) {
      await writeOut(proc.stderr, `tar: can't change directory to '${o.dir}': ${errorMessage(err)}\n`);
      return 1;
    }
  }
  if (o.mode === 'c') return create(o, base, proc);
  return extract(o, base, proc);
}

// ---------------------------------------------------------------------------------------------
// create

async function create(o: TarOptions, base: string, proc: Proc): Promise<number> {
  if (o.paths.length === 0) {
    await writeOut(proc.stderr, 'tar: empty archive\n');
    return 1;
  }
  const pack = tarStream.pack();
  let out: Writable;
  let toStdout = true;
  if (o.file && o.file !== '-') {
    toStdout = false;
    try {
      const target = await proc.fs.resolveForWrite(o.file, proc.cwd);
      out = createWriteStream(target.host);
    } catch (err) {
      await writeOut(proc.stderr, `tar: can't open '${o.file}': ${errorMessage(err)}\n`);
      return 1;
    }
  } else out = proc.stdout;
  const verboseOut = toStdout ? proc.stderr : proc.stdout;
  const packed = Readable.from(pack);
  const done = (o.gzip ? pipeline(packed, createGzip(), out, { end: !toStdout }) : pipeline(packed, out, { end: !toStdout })).catch(
    (err: unknown) => err,
  );
  let status = 0;
  let warnedSlash = false;
  const seenInodes = new Map<string, string>();

  const addEntry = async (name: string, path: string) => {
    if (o.excludes.some((re) => re.test(name) || re.test(posix.basename(name)))) return;
    const r = await proc.fs.resolve(path, base, o.dereference);
    const st = o.dereference ? await stat(r.host) : await lstat(r.host);
    const common = {
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      uname: st.uid === 0 ? 'root' : '',
      gname: st.gid === 0 ? 'root' : '',
      mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000),
    };
    if (o.verbose) await writeOut(verboseOut, `${name}${st.isDirectory() && !name.endsWith('/') ? '/' : ''}\n`);
    if (st.isDirectory()) {
      await entry(pack, { ...common, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' });
      const children = (await readdir(r.host)).sort();
      for (const child of children) {
        await addEntry(name.endsWith('/') ? `${name}${child}` : `${name}/${child}`, `${r.path}/${child}`);
      }
    } else if (st.isSymbolicLink()) {
      await entry(pack, { ...common, name, type: 'symlink', linkname: await readlink(r.host) });
    } else if (st.isFile()) {
      const inode = `${st.dev}:${st.ino}`;
      const firstName = st.nlink > 1 ? seenInodes.get(inode) : undefined;
      if (firstName !== undefined) {
        await entry(pack, { ...common, name, type: 'link', linkname: firstName });
        return;
      }
      if (st.nlink > 1) seenInodes.set(inode, name);
      await new Promise<void>((resolve, reject) => {
        const e = pack.entry({ ...common, name, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
        const input = createReadStream(r.host, { highWaterMark: 256 * 1024 });
        input.on('error', (err) => {
          e.destroy(err);
          reject(err);
        });
        input.pipe(e);
      });
    } else {
      await writeOut(proc.stderr, `tar: ${name}: unknown file type\n`);
    }
  };

  for (const p of o.paths) {
    let name = posix.normalize(p);
    if (name.startsWith('/')) {
      name = name.replace(/^\/+/, '');
      if (!warnedSlash) {
        warnedSlash = true;
        await writeOut(proc.stderr, "tar: removing leading '/' from member names\n");
      }
    }
    if (name === '' || name === '.') name = p.startsWith('/') ? './' : p.replace(/\/+$/, '') || '.';
    try {
      await addEntry(name === './' ? '.' : name, p);
    } catch (err) {
      await writeOut(proc.stderr, `tar: ${p}: ${errorMessage(err)}\n`);
      status = 1;
    }
  }
  pack.finalize();
  const err = await done;
  if (err) {
    await writeOut(proc.stderr, `tar: write error: ${errorMessage(err)}\n`).catch(() => {});
    return 1;
  }
  return status;
}

function entry(pack: tarStream.Pack, header: Partial<tarStream.Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
}

// ---------------------------------------------------------------------------------------------
// extract / list

/** Creates the directories of `path` (a container path) one by one, like `mkdir -p`. */
export async function mkdirs(fs: PodFs, path: string, cwd: string, mode = 0o755): Promise<void> {
  const abs = posix.normalize(path.startsWith('/') ? path : `${cwd}/${path}`);
  const parts = abs.split('/').filter(Boolean);
  let cur = '';
  for (const part of parts) {
    cur = `${cur}/${part}`;
    const r = await fs.resolve(cur, '/', true);
    try {
      const st = await stat(r.host);
      if (!st.isDirectory()) throw new FsError('ENOTDIR', cur);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
      if (r.mount.readOnly) throw new FsError('EROFS', cur);
      await mkdir(r.host, { mode });
    }
  }
}

async function extract(o: TarOptions, base: string, proc: Proc): Promise<number> {
  let input: Readable;
  if (o.file && o.file !== '-') {
    try {
      input = createReadStream((await proc.fs.resolve(o.file, proc.cwd)).host);
    } catch (err) {
      await writeOut(proc.stderr, `tar: can't open '${o.file}': ${errorMessage(err)}\n`);
      return 1;
    }
  } else input = proc.stdin;
  const ex = tarStream.extract();
  const source = o.gzip ? input.pipe(createGunzip()) : input;
  if (o.gzip) input.on('error', (err) => source.destroy(err));
  const feed = (async () => {
    for await (const chunk of source) {
      if (!ex.write(chunk as Buffer)) await new Promise<void>((resolve) => ex.once('drain', () => resolve()));
    }
    ex.end(undefined);
  })().catch((err: unknown) => {
    ex.destroy(err as Error);
    return err;
  });
  let status = 0;
  const dirTimes: Array<{ host: string; mtime: Date }> = [];
  const selected = (name: string) =>
    o.paths.length === 0 || o.paths.some((p) => {
      const q = p.replace(/^\/+/, '').replace(/\/+$/, '');
      return name === q || name.startsWith(`${q}/`);
    });
  try {
    for await (const e of ex) {
      const h = e.header;
      let name = h.name.replace(/^\/+/, '');
      const parts = name.split('/').filter((x) => x !== '' && x !== '.');
      if (parts.includes('..')) {
        await writeOut(proc.stderr, `tar: skipping unsafe path '${h.name}'\n`);
        e.resume();
        continue;
      }
      if (parts.length === 0 && o.strip === 0 && h.type === 'directory' && o.mode === 'x' && !o.toStdout) {
        // `./`: the archive's root is the -C directory itself (its mode and mtime)
        try {
          const root = await proc.fs.resolveForWrite(base, '/', true);
          const mode = (h.mode ?? 0o755) & 0o7777;
          await chmod(root.host, o.noSamePermissions ? mode & ~0o022 : mode);
          if (o.keepMtime && h.mtime) dirTimes.push({ host: root.host, mtime: h.mtime });
        } catch {
          // a read-only directory keeps its attributes
        }
        if (o.verbose) await writeOut(proc.stdout, `${h.name}\n`);
        e.resume();
        continue;
      }
      if (parts.length <= o.strip) {
        e.resume();
        continue;
      }
      name = parts.slice(o.strip).join('/');
      if (!selected(name) || o.excludes.some((re) => re.test(name) || re.test(posix.basename(name)))) {
        e.resume();
        continue;
      }
      if (o.mode === 't') {
        await writeOut(proc.stdout, `${h.name}\n`);
        e.resume();
        continue;
      }
      if (o.toStdout) {
        if (h.type === 'file' || h.type === 'contiguous-file') {
          for await (const chunk of e) await writeOut(proc.stdout, chunk as Buffer);
        } else e.resume();
        continue;
      }
      if (o.verbose) await writeOut(proc.stdout, `${h.name}\n`);
      try {
        await extractEntry(o, base, proc, name, h, e, dirTimes);
      } catch (err) {
        e.resume();
        status = 1;
        await writeOut(proc.stderr, `tar: can't create '${name}': ${errorMessage(err)}\n`);
      }
    }
  } catch (err) {
    await writeOut(proc.stderr, `tar: ${errorMessage(err)}\n`);
    return 1;
  }
  const feedErr = await feed;
  if (feedErr) {
    await writeOut(proc.stderr, `tar: ${errorMessage(feedErr)}\n`);
    return 1;
  }
  for (const { host, mtime } of dirTimes.reverse()) await lutimes(host, mtime, mtime).catch(() => {});
  return status;
}

async function extractEntry(
  o: TarOptions,
  base: string,
  proc: Proc,
  name: string,
  h: tarStream.Header,
  e: AsyncIterable<unknown> & { resume(): unknown },
  dirTimes: Array<{ host: string; mtime: Date }>,
): Promise<void> {
  const fs = proc.fs;
  const full = posix.join(base, name);
  await mkdirs(fs, posix.dirname(full), '/');
  const target = await fs.resolveForWrite(full, '/', false);
  const mode = (h.mode ?? 0o644) & 0o7777;
  const perm = o.noSamePermissions ? mode & ~0o022 : mode;
  const existing = await lstat(target.host).catch(() => undefined);
  const mtime = h.mtime ?? new Date();
  switch (h.type) {
    case 'directory': {
      if (existing && !existing.isDirectory()) await rm(target.host, { force: true });
      if (!existing || !existing.isDirectory()) await mkdir(target.host, { mode: 0o700 });
      await chmod(target.host, perm);
      if (o.keepMtime) dirTimes.push({ host: target.host, mtime });
      e.resume();
      return;
    }
    case 'symlink': {
      if (existing?.isDirectory()) throw new FsError('EISDIR', name);
      if (existing) await unlink(target.host);
      await symlink(h.linkname ?? '', target.host);
      if (o.keepMtime) await lutimes(target.host, mtime, mtime).catch(() => {});
      e.resume();
      return;
    }
    case 'link': {
      const from = await fs.resolve(posix.join(base, (h.linkname ?? '').replace(/^\/+/, '')), '/', true);
      if (existing?.isDirectory()) throw new FsError('EISDIR', name);
      if (existing) await unlink(target.host);
      try {
        await link(from.host, target.host);
      } catch {
        await copyFile(from.host, target.host);
      }
      e.resume();
      return;
    }
    case 'file':
    case 'contiguous-file':
    case undefined:
    case null: {
      if (existing?.isDirectory()) throw new FsError('EISDIR', name);
      if (existing) await unlink(target.host);
      await pipeline(Readable.from(e), createWriteStream(target.host, { mode: 0o600 }));
      await chmod(target.host, perm);
      if (o.keepMtime) await utimes(target.host, mtime, mtime);
      return;
    }
    default:
      e.resume();
  }
}

