/** The exec helper against kube-sim with the real client-node (no mocks). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ExecError, execInPod, exitCodeOf, openExec } from './exec.js';
import { createNamespace, createPvc, pseudoRandom, sha256, startPod, startVolumeSim, type VolumeSim } from './test-support/volumes.js';

describe('exitCodeOf', () => {
  it('reads Success, ExitCode causes, and turns other failures into ExecErrors', () => {
    expect(exitCodeOf({ status: 'Success' })).toBe(0);
    expect(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '2' }] } })).toBe(2);
    expect(exitCodeOf({ status: 'Failure', reason: 'InternalError', details: { causes: [{ reason: 'ExitCode', message: '127' }] } })).toBe(127);
    expect(() => exitCodeOf({ status: 'Failure', reason: 'InternalError', message: 'OCI runtime exec failed' })).toThrow(/OCI runtime exec failed/);
  });
});

describe('exec', () => {
  let t: VolumeSim;
  const ns = 'exec-test';
  const target = { namespace: ns, pod: 'box', container: 'app' };
  beforeAll(async () => {
    t = await startVolumeSim();
    await createNamespace(t.core, ns);
    await createPvc(t.core, ns, 'data');
    await startPod(t.core, ns, 'box', { claims: ['data'] });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('collects stdout and stderr and reports exit code 0', async () => {
    const r = await execInPod(t.kc, target, ['sh', '-c', 'echo out; echo err >&2']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString()).toBe('out\n');
    expect(r.stderr.toString()).toBe('err\n');
    expect(r.status.status).toBe('Success');
  });

  it('reports non-zero exit codes from the status channel', async () => {
    expect((await execInPod(t.kc, target, ['sh', '-c', 'exit 3'])).exitCode).toBe(3);
    expect((await execInPod(t.kc, target, ['no-such-command'])).exitCode).toBe(127);
    const r = await execInPod(t.kc, target, ['cat', '/data/missing']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toMatch(/missing/);
  });

  it('feeds stdin (closed with the v5 close frame) and streams a large stdout with backpressure', async () => {
    const data = pseudoRandom(6 * 1024 * 1024 + 123, 7);
    const w = await execInPod(t.kc, target, ['sh', '-c', 'cat > /data/big.bin'], { stdin: data });
    expect(w.exitCode).toBe(0);
    expect(w.stdinBytes).toBe(data.length);
    const sum = await execInPod(t.kc, target, ['sha256sum', '/data/big.bin']);
    expect(sum.stdout.toString().split(' ')[0]).toBe(sha256(data));

    const session = openExec(t.kc, target, ['cat', '/data/big.bin']);
    const chunks: Buffer[] = [];
    let slept = false;
    for await (const c of session.stdout) {
      chunks.push(c as Buffer);
      if (!slept) {
        // a slow reader: the socket is paused meanwhile, nothing is lost
        slept = true;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    const res = await session.result;
    expect(res.exitCode).toBe(0);
    expect(res.stdoutBytes).toBe(data.length);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(data));
  });

  it('closing a session in the middle of a stream stops it', async () => {
    const session = openExec(t.kc, target, ['cat', '/data/big.bin']);
    let n = 0;
    const err = await (async () => {
      for await (const _chunk of session.stdout) if (++n === 2) session.close();
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).reason).toBe('Aborted');
    await expect(session.result).rejects.toThrow(/closed/);
    // the pod still serves new sessions
    expect((await execInPod(t.kc, target, ['true'])).exitCode).toBe(0);
  });

  it('gathers tiny stdin chunks and splits huge ones without changing the bytes', async () => {
    const tiny = pseudoRandom(70_000, 11);
    async function* drip() {
      for (let i = 0; i < tiny.length; i += 7) yield tiny.subarray(i, i + 7);
    }
    const w = await execInPod(t.kc, target, ['sh', '-c', 'cat > /data/tiny.bin && sha256sum /data/tiny.bin'], { stdin: drip() });
    expect(w.stdout.toString().split(' ')[0]).toBe(sha256(tiny));
    const text = await execInPod(t.kc, target, ['cat'], { stdin: 'plain text stdin' });
    expect(text.stdout.toString()).toBe('plain text stdin');
  });

  it('reports the exit status of a command that stops reading stdin early', async () => {
    let produced = 0;
    async function* endless() {
      for (let i = 0; i < 400; i++) {
        produced++;
        yield Buffer.alloc(256 * 1024, i);
      }
    }
    const r = await execInPod(t.kc, target, ['sh', '-c', 'exit 5'], { stdin: endless() });
    expect(r.exitCode).toBe(5);
    expect(produced).toBeLessThan(400);
  });

  it('caps collected output and says so', async () => {
    const r = await execInPod(t.kc, target, ['cat', '/data/big.bin'], { maxBuffer: 1000 });
    expect(r.stdout.length).toBe(1000);
    expect(r.stdoutTruncated).toBe(true);
    expect(r.stdoutBytes).toBeGreaterThan(6 * 1024 * 1024);
  });

  it('turns a refused upgrade into an ExecError with the server message', async () => {
    const err = await execInPod(t.kc, { ...target, pod: 'nope' }, ['true']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).reason).toBe('UpgradeFailed');
    expect((err as ExecError).httpStatus).toBe(404);
    expect((err as Error).message).toMatch(/pods "nope" not found/);
    const bad = await execInPod(t.kc, { ...target, container: 'other' }, ['true']).catch((e: unknown) => e);
    expect((bad as Error).message).toMatch(/container other is not valid/);
  });

  it('times out and aborts', async () => {
    const started = Date.now();
    const err = await execInPod(t.kc, target, ['sleep', '30'], { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).reason).toBe('Timeout');
    expect(Date.now() - started).toBeLessThan(5000);

    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const aborted = await execInPod(t.kc, target, ['sleep', '30'], { signal: ac.signal }).catch((e: unknown) => e);
    expect((aborted as Error).name).toBe('AbortError');

    const pre = new AbortController();
    pre.abort();
    const early = await execInPod(t.kc, target, ['true'], { signal: pre.signal }).catch((e: unknown) => e);
    expect((early as Error).name).toBe('AbortError');
  });

  it('stops the command when the stdin source fails', async () => {
    async function* failing() {
      yield Buffer.from('partial');
      throw new Error('source broke');
    }
    const err = await execInPod(t.kc, target, ['sh', '-c', 'cat > /data/partial'], { stdin: failing() }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/source broke/);
  });
});
