import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, utimes, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { run, type Proc } from './busybox.js';
import { parse } from './shell.js';
import { PodFs } from './vfs.js';

interface Result {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function sink(chunks: Buffer[]): Writable {
  return new Writable({
    write(c, _e, cb) {
      chunks.push(Buffer.from(c));
      cb();
    },
  });
}

describe('busybox', () => {
  let root: string;
  let fs: PodFs;
  let outside: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'kube-sim-bb-'));
    for (const d of ['rootfs/tmp', 'rootfs/data', 'data', 'config', 'outside']) await mkdir(join(root, d), { recursive: true });
    await writeFile(join(root, 'config', 'app.conf'), 'key=value\n');
    await writeFile(join(root, 'outside', 'secret'), 'host secret\n');
    outside = join(root, 'outside');
    fs = new PodFs([
      { path: '/', host: join(root, 'rootfs'), readOnly: false },
      { path: '/data', host: join(root, 'data'), readOnly: false },
      { path: '/etc/config', host: join(root, 'config'), readOnly: true },
    ]);
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function exec(argv: string[], stdin: Buffer | string = ''): Promise<Result> {
    const out: Buffer[] = [];
    const errs: Buffer[] = [];
    const proc: Proc = {
      fs,
      cwd: '/',
      env: { PATH: '/bin', HOME: '/root' },
      stdin: Readable.from([Buffer.from(stdin)]),
      stdout: sink(out),
      stderr: sink(errs),
      status: 0,
    };
    const code = await run(argv, proc);
    return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(errs).toString('utf8') };
  }
  const sh = (script: string, stdin = '') => exec(['sh', '-c', script], stdin);

  it('runs simple shell lists, pipes, redirections and $?', async () => {
    expect((await sh('echo hello; echo world')).stdout.toString()).toBe('hello\nworld\n');
    expect((await sh('false && echo no || echo yes')).stdout.toString()).toBe('yes\n');
    expect((await sh('true && echo a; false; echo $?')).stdout.toString()).toBe('a\n1\n');
    expect((await sh("echo 'a b'  \"c  $HOME\" | cat")).stdout.toString()).toBe('a b c  /root\n');
    const r = await sh('echo one > /data/f.txt && echo two >> /data/f.txt; cat /data/f.txt | sha256sum');
    expect(await readFile(join(root, 'data', 'f.txt'), 'utf8')).toBe('one\ntwo\n');
    expect(r.stdout.toString()).toMatch(/^[0-9a-f]{64} {2}-\n$/);
    expect((await sh('cat /nope 2>/dev/null; echo $?')).stdout.toString()).toBe('1\n');
    expect((await sh('cat /nope 2>&1')).stdout.toString()).toBe("cat: can't open '/nope': No such file or directory\n");
    expect((await sh('exit 3')).code).toBe(3);
    expect((await sh('case hello.txt in *.log) echo log;; *.txt|*.md) echo text;; *) echo other;; esac')).stdout.toString()).toBe('text\n');
    expect((await sh('v=b; case "$v" in (a) echo A;; "b") echo B; echo again;; esac')).stdout.toString()).toBe('B\nagain\n');
    expect((await sh('case z in a) echo a;; esac; echo $?')).stdout.toString()).toBe('0\n');
    expect((await sh('case "*" in "*") echo star;; *) echo any;; esac')).stdout.toString()).toBe('star\n');
    expect((await sh('(echo sub)')).code).toBe(2);
    const unknown = await sh('frobnicate --now');
    expect(unknown.code).toBe(127);
    expect(unknown.stderr).toBe('sh: frobnicate: not found\n');
    expect((await exec(['frobnicate'])).code).toBe(127);
    expect((await exec(['/bin/echo', 'abs'])).stdout.toString()).toBe('abs\n');
    expect((await sh('echo script | cat', '')).stdout.toString()).toBe('script\n');
    expect((await exec(['sh'], 'echo from stdin; exit 4')).code).toBe(4);
    expect((await exec(['sh', '-c', 'echo $0 $1 "$@" $#', 'name', 'one', 'two'])).stdout.toString()).toBe('name one one two 2\n');
    expect((await exec(['date', '+%Y'])).stdout.toString()).toMatch(/^\d{4}\n$/);
  });

  it('runs if/elif/else, for, while/until, break/continue, groups and negation', async () => {
    expect((await sh('if test -d /data; then echo dir; else echo none; fi')).stdout.toString()).toBe('dir\n');
    expect((await sh('if false; then echo a; elif true; then echo b; else echo c; fi')).stdout.toString()).toBe('b\n');
    expect((await sh('if false; then echo a; fi; echo $?')).stdout.toString()).toBe('0\n');
    expect((await sh('for f in a b c; do echo "[$f]"; done')).stdout.toString()).toBe('[a]\n[b]\n[c]\n');
    expect((await sh('for i in 1 2 3 4; do if [ $i = 3 ]; then break; fi; echo $i; done')).stdout.toString()).toBe('1\n2\n');
    expect((await sh('for i in 1 2 3; do if [ $i = 2 ]; then continue; fi; echo $i; done')).stdout.toString()).toBe('1\n3\n');
    expect((await exec(['sh', '-c', 'for a; do echo $a; done', 'sh', 'x', 'y'])).stdout.toString()).toBe('x\ny\n');
    expect((await sh('n=0; while [ $n != 3 ]; do n=$(echo 3); echo loop; done')).stdout.toString()).toBe('loop\n');
    expect((await sh('echo one > /data/n; v=$(cat /data/n); echo "[$v]" `echo back` "$(echo "nested $(echo deep)")"')).stdout.toString()).toBe(
      '[one] back nested deep\n',
    );
    expect((await sh('for f in $(echo a b); do echo $f; done')).stdout.toString()).toBe('a\nb\n');
    expect((await sh('i=0; while [ $i -lt 3 ]; do i=$((i + 1)); echo "n=$i"; done; echo $(( (i * 7) % 4 == 1 && 2 > 1 )) $((-$i / 2))')).stdout.toString()).toBe(
      'n=1\nn=2\nn=3\n1 -1\n',
    );
    expect((await sh('echo $((1 / 0))')).code).not.toBe(0);
    expect((await sh('echo $((1 +* 2))')).code).not.toBe(0);
    expect((await sh('touch /data/w; while test -e /data/w; do rm /data/w; echo once; done')).stdout.toString()).toBe('once\n');
    expect((await sh('until test -e /data/u; do touch /data/u; echo made; done')).stdout.toString()).toBe('made\n');
    expect((await sh('{ echo a; echo b; } > /data/grouped; cat /data/grouped')).stdout.toString()).toBe('a\nb\n');
    expect((await sh('! false && echo negated')).stdout.toString()).toBe('negated\n');
    expect((await sh('for f in 1 2; do echo $f; done | sort -r')).stdout.toString()).toBe('2\n1\n');
    const multi = await sh(`
      if [ -e /etc/config/app.conf ]
      then
        for word in one two
        do
          echo "$word"
        done
      fi
    `);
    expect(multi.stdout.toString()).toBe('one\ntwo\n');
    expect((await sh('if true; then')).code).toBe(2);
    expect((await sh('fi')).code).toBe(2);
  });

  it('feeds here-documents to stdin, expanded unless the delimiter is quoted', async () => {
    const script = [
      'name=world',
      'cat > /data/hd.txt <<EOF',
      'hello $name "quoted" $(echo sub)',
      '  indented',
      'EOF',
      "cat <<'RAW' | sha256sum",
      '$name stays',
      'RAW',
      'cat <<-TABS',
      '\tstripped $((1+2))',
      '\tTABS',
      'cat /data/hd.txt',
    ].join('\n');
    const r = await sh(script);
    const { createHash } = await import('node:crypto');
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe(
      `${createHash('sha256').update('$name stays\n').digest('hex')}  -\nstripped 3\nhello world "quoted" sub\n  indented\n`,
    );
    expect((await sh('cat <<END\nno end')).code).toBe(2);
  });

  it('parses quoting and operators', () => {
    expect(parse('a "b c" d\\ e').length).toBe(1);
    expect(parse('a; b && c || d | e').map((x) => x.op)).toEqual([';', ';', '&&', '||']);
    expect(() => parse('a &&')).toThrow();
    expect(() => parse('echo "unterminated')).toThrow();
    expect(() => parse('a & b')).toThrow();
    expect(parse('\n\necho a\n\n').length).toBe(1);
  });

  it('implements the file commands', async () => {
    expect((await sh('mkdir -p /data/a/b/c && test -d /data/a/b/c && echo ok')).stdout.toString()).toBe('ok\n');
    expect((await sh('test -e /data/zzz')).code).toBe(1);
    expect((await sh('test -f /etc/config/app.conf')).code).toBe(0);
    await writeFile(join(root, 'data', 'a', 'x.txt'), 'x');
    expect((await exec(['ls', '/data/a'])).stdout.toString()).toBe('b\nx.txt\n');
    expect((await exec(['ls', '-a', '/data/a'])).stdout.toString()).toBe('.\n..\nb\nx.txt\n');
    const l = (await exec(['ls', '-l', '/data/a'])).stdout.toString();
    expect(l).toMatch(/^total \d+\ndrwx.* b\n-rw.* x\.txt\n$/);
    expect((await exec(['find', '/data/a'])).stdout.toString()).toBe('/data/a\n/data/a/b\n/data/a/b/c\n/data/a/x.txt\n');
    expect((await exec(['find', '/data', '-type', 'f'])).stdout.toString()).toBe('/data/a/x.txt\n');
    expect((await exec(['rm', '-rf', '/data/a'])).code).toBe(0);
    expect((await exec(['ls', '/data'])).stdout.toString()).toBe('');
    expect((await exec(['du', '-s', '/data'])).code).toBe(0);
    expect((await exec(['sync'])).code).toBe(0);
    expect((await sh('echo nope > /etc/config/new')).stderr).toMatch(/Read-only file system/);
    expect((await exec(['rm', '/etc/config/app.conf'])).stderr).toMatch(/Read-only file system/);
    expect((await sh('printf "l1\\nl2\\nl3\\n" | tail -n 1')).stdout.toString()).toBe('l3\n');
    expect((await sh('echo abcdef | tail -c +3')).stdout.toString()).toBe('cdef\n');
    expect((await sh('echo hello | grep -q ell && echo found')).stdout.toString()).toBe('found\n');
    await writeFile(join(root, 'data', 'g1.log'), '1');
    await writeFile(join(root, 'data', 'g2.log'), '2');
    expect((await sh('cat /data/*.log')).stdout.toString()).toBe('12');
    expect((await sh('cd /data && ls *.log')).stdout.toString()).toBe('g1.log\ng2.log\n');
  });

  it('supports find -exec, xargs, sort, tee, gzip and stat for checksums and hooks', async () => {
    await mkdir(join(root, 'data', 'c', 'd'), { recursive: true });
    await writeFile(join(root, 'data', 'c', 'b.txt'), 'b');
    await writeFile(join(root, 'data', 'c', 'd', 'a.txt'), 'a');
    const { createHash } = await import('node:crypto');
    const h = (x: string) => createHash('sha256').update(x).digest('hex');
    const expected = `${h('b')}  ./b.txt\n${h('a')}  ./d/a.txt\n`;
    expect((await sh('cd /data/c && find . -type f -exec sha256sum {} \\;')).stdout.toString()).toBe(expected);
    expect((await sh('cd /data/c && find . -type f -exec sha256sum {} +')).stdout.toString()).toBe(expected);
    expect((await sh('cd /data/c && find . -type f | sort -r | xargs sha256sum')).stdout.toString()).toBe(`${h('a')}  ./d/a.txt\n${h('b')}  ./b.txt\n`);
    expect((await sh('cd /data/c && find . -type f -print0 | xargs -0 -n 1 cat')).stdout.toString()).toBe('ba');
    expect((await sh('echo hi | tee /data/t1 | cat && cat /data/t1')).stdout.toString()).toBe('hi\nhi\n');
    expect((await sh('echo zipped | gzip -c | gunzip -c')).stdout.toString()).toBe('zipped\n');
    expect((await sh('stat -c "%s %a %n" /data/c/b.txt')).stdout.toString()).toBe('1 644 /data/c/b.txt\n');
  });

  it('never lets a path or a symlink escape the mounts', async () => {
    await symlink(outside, join(root, 'data', 'escape-abs'));
    await symlink('../../../../../../outside/secret', join(root, 'data', 'escape-rel'));
    await symlink('/etc/config/app.conf', join(root, 'data', 'inside'));
    const r1 = await exec(['cat', '/data/../../../outside/secret']);
    expect(r1.code).toBe(1);
    expect(r1.stdout.length).toBe(0);
    expect((await exec(['cat', '/data/escape-rel'])).stdout.length).toBe(0);
    expect((await exec(['ls', '/data/escape-abs/'])).stdout.toString()).not.toContain('secret');
    expect((await exec(['cat', '/data/inside'])).stdout.toString()).toBe('key=value\n');
    // writing through a link lands inside the container, never on the host path
    await sh('echo pwned > /data/escape-abs/secret2');
    await expect(stat(join(outside, 'secret2'))).rejects.toThrow();
    // nor through cp onto a link
    await symlink(join(outside, 'secret'), join(root, 'data', 'host-link'));
    await writeFile(join(root, 'data', 'payload'), 'overwrite');
    await exec(['cp', '/data/payload', '/data/host-link']);
    expect(await readFile(join(outside, 'secret'), 'utf8')).toBe('host secret\n');
    // a hard link in an archive to a planted link does not read the host file
    const tarStream = (await import('tar-stream')).default;
    const pack = tarStream.pack();
    pack.entry({ name: 'planted', type: 'symlink', linkname: join(outside, 'secret') });
    pack.entry({ name: 'hard', type: 'link', linkname: 'planted' });
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    await mkdir(join(root, 'data', 'hl'));
    await exec(['tar', 'xf', '-', '-C', '/data/hl'], Buffer.concat(chunks));
    const leaked = await readFile(join(root, 'data', 'hl', 'hard'), 'utf8').catch(() => '');
    expect(leaked).not.toContain('host secret');
    // tar cannot extract outside either
    const evil = execFileSync('tar', ['cf', '-', '--absolute-names', '-C', root, 'outside/secret'], { cwd: root });
    const tarred = await exec(['tar', 'xf', '-', '-C', '/data'], evil);
    expect(tarred.code).toBe(0);
    expect(await readFile(join(root, 'data', 'outside', 'secret'), 'utf8')).toBe('host secret\n');
    const dotdot = Buffer.from(execFileSync('sh', ['-c', `cd ${root}/data && tar cf - --absolute-names ../../escaped-file 2>/dev/null || true`]));
    await exec(['tar', 'xf', '-', '-C', '/data'], dotdot);
    await expect(stat(join(root, '..', 'escaped-file'))).rejects.toThrow();
  });

  it('round-trips tar byte-identically with modes, mtimes, symlinks and unicode names', async () => {
    const src = join(root, 'data', 'tree');
    await mkdir(join(src, 'sub', 'deeper'), { recursive: true });
    const files: Record<string, Buffer> = {
      'plain.txt': Buffer.from('hello\n'),
      'sub/zeros.bin': Buffer.alloc(100_000),
      'sub/deeper/ünïcødé 名前.txt': Buffer.from('unicode ✓'),
      [`sub/${'long-name-'.repeat(12)}.txt`]: Buffer.from('long'),
      'empty': Buffer.alloc(0),
    };
    const random = Buffer.alloc(300_000);
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + (i >> 8)) & 0xff;
    files['sub/random.bin'] = random;
    for (const [name, data] of Object.entries(files)) await writeFile(join(src, name), data);
    await chmod(join(src, 'plain.txt'), 0o750);
    await chmod(join(src, 'sub', 'deeper'), 0o711);
    await symlink('../plain.txt', join(src, 'sub', 'link'));
    const mtime = new Date('2021-02-03T04:05:06Z');
    await utimes(join(src, 'plain.txt'), mtime, mtime);

    const created = await exec(['tar', 'cf', '-', '-C', '/data', 'tree']);
    expect(created.code).toBe(0);
    // GNU tar can read it
    const listing = execFileSync('tar', ['tf', '-'], { input: created.stdout }).toString();
    expect(listing).toContain('tree/sub/deeper/ünïcødé 名前.txt');

    const extracted = await exec(['tar', 'xf', '-', '-C', '/tmp'], created.stdout);
    expect(extracted.stderr).toBe('');
    expect(extracted.code).toBe(0);
    const dst = join(root, 'rootfs', 'tmp', 'tree');
    for (const [name, data] of Object.entries(files)) expect((await readFile(join(dst, name))).equals(data)).toBe(true);
    expect((await stat(join(dst, 'plain.txt'))).mode & 0o7777).toBe(0o750);
    expect((await stat(join(dst, 'sub', 'deeper'))).mode & 0o7777).toBe(0o711);
    expect((await stat(join(dst, 'plain.txt'))).mtime.toISOString()).toBe(mtime.toISOString());
    expect(await readlink(join(dst, 'sub', 'link'))).toBe('../plain.txt');
    expect((await lstat(join(dst, 'sub', 'link'))).isSymbolicLink()).toBe(true);

    // what kubectl cp sends (GNU/Go tar) extracts with -xmf, what it reads (tar cf - /abs) has no leading slash
    const gnu = execFileSync('tar', ['cf', '-', '-C', join(root, 'data'), 'tree']);
    const x = await exec(['tar', '-xmf', '-', '-C', '/data/copy'], gnu);
    expect(x.code).toBe(1); // -C dir missing
    await mkdir(join(root, 'data', 'copy'));
    expect((await exec(['tar', '-xmf', '-', '-C', '/data/copy'], gnu)).code).toBe(0);
    expect((await readFile(join(root, 'data', 'copy', 'tree', 'sub', 'random.bin'))).equals(random)).toBe(true);
    const abs = await exec(['tar', 'cf', '-', '/data/tree/plain.txt']);
    expect(abs.stderr).toContain("removing leading '/'");
    expect(execFileSync('tar', ['tf', '-'], { input: abs.stdout }).toString()).toBe('data/tree/plain.txt\n');

    // `tar cf - -C dir .` / `tar xf - -C dir` (what backup movers run) carries the root's mode
    await chmod(join(root, 'data', 'tree'), 0o700);
    const dot = await exec(['tar', 'cf', '-', '-C', '/data/tree', '.']);
    expect(execFileSync('tar', ['tf', '-'], { input: dot.stdout }).toString().split('\n')[0]).toBe('./');
    await mkdir(join(root, 'data', 'dot'), { mode: 0o755 });
    expect((await exec(['tar', 'xf', '-', '-C', '/data/dot'], dot.stdout)).code).toBe(0);
    expect((await stat(join(root, 'data', 'dot'))).mode & 0o7777).toBe(0o700);
    expect((await readFile(join(root, 'data', 'dot', 'sub', 'random.bin'))).equals(random)).toBe(true);
    await chmod(join(root, 'data', 'tree'), 0o755);

    // gzip
    const gz = await exec(['tar', 'czf', '-', '-C', '/data/tree', '.']);
    expect(execFileSync('tar', ['tzf', '-'], { input: gz.stdout }).toString()).toContain('./sub/random.bin');
    await mkdir(join(root, 'data', 'gz'));
    expect((await exec(['tar', 'xzf', '-', '-C', '/data/gz'], gz.stdout)).code).toBe(0);
    expect((await readFile(join(root, 'data', 'gz', 'sub', 'random.bin'))).equals(random)).toBe(true);
    expect((await exec(['tar', 'cf', '-', '/data/missing'])).code).toBe(1);
  });

  it('streams through pipes with backpressure', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 'x');
    await writeFile(join(root, 'data', 'big'), big);
    const r = await sh('cat /data/big | cat | sha256sum');
    const { createHash } = await import('node:crypto');
    expect(r.stdout.toString()).toBe(`${createHash('sha256').update(big).digest('hex')}  -\n`);
    const head = await sh('cat /data/big | head -c 10');
    expect(head.stdout.toString()).toBe('xxxxxxxxxx');
    void PassThrough;
  });
});
