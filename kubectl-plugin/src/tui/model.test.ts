/** The TUI's pure rules: RPO and status, ages, progress folding (rates, ETA, volumes, dedup), key splitting. */
import { EventEmitter } from 'node:events';
import type { AuditEntry } from '@kubectl-backup/engine';
import { describe, expect, it, vi } from 'vitest';
import { KeyByKeyInput, splitKeys } from './keys.js';
import { dedupRatio, eta, initialProgress, rate, reduceProgress } from './progress-model.js';
import { ago, lastFailures, namespaceStatus, parseRpo, shortAge, triggerOf } from './status.js';

const T0 = Date.parse('2026-11-21T12:00:00Z');
const H = 3_600_000;

describe('RPO and status', () => {
  it('parses RPOs in minutes, hours, days and weeks', () => {
    expect(parseRpo('30m')).toBe(30 * 60_000);
    expect(parseRpo('24h')).toBe(24 * H);
    expect(parseRpo('1d12h')).toBe(36 * H);
    expect(parseRpo('2w')).toBe(14 * 24 * H);
    for (const bad of ['', '24', 'h', '1y', '-1h', '0h', '1.5h'])
      expect(parseRpo(bad), bad).toBeUndefined();
  });

  it('is ok within the RPO, stale after it, failed when the last attempt failed, never without backups', () => {
    const rpoMs = 24 * H;
    expect(
      namespaceStatus({ lastBackup: new Date(T0 - 2 * H).toISOString(), rpoMs, now: T0 }),
    ).toBe('ok');
    expect(
      namespaceStatus({ lastBackup: new Date(T0 - 25 * H).toISOString(), rpoMs, now: T0 }),
    ).toBe('stale');
    expect(namespaceStatus({ rpoMs, now: T0 })).toBe('never');
    expect(namespaceStatus({ lastFailure: new Date(T0 - H).toISOString(), rpoMs, now: T0 })).toBe(
      'failed',
    );
    // a failure older than the last good backup no longer counts
    expect(
      namespaceStatus({
        lastBackup: new Date(T0 - H).toISOString(),
        lastFailure: new Date(T0 - 2 * H).toISOString(),
        rpoMs,
        now: T0,
      }),
    ).toBe('ok');
    expect(
      namespaceStatus({
        lastBackup: new Date(T0 - 2 * H).toISOString(),
        lastFailure: new Date(T0 - H).toISOString(),
        rpoMs,
        now: T0,
      }),
    ).toBe('failed');
  });

  it('takes the newest failed backup.create per namespace from the audit log (not cancellations)', () => {
    const e = (seq: number, action: string, outcome: string, namespace: string, hoursAgo: number) =>
      ({
        seq,
        action,
        outcome,
        namespace,
        time: new Date(T0 - hoursAgo * H).toISOString(),
      }) as AuditEntry;
    const failures = lastFailures([
      e(1, 'backup.create', 'failure', 'a', 5),
      e(2, 'backup.create', 'failure', 'a', 1),
      e(3, 'backup.create', 'canceled', 'b', 1),
      e(4, 'restore.create', 'failure', 'c', 1),
    ]);
    expect([...failures]).toEqual([['a', new Date(T0 - H).toISOString()]]);
  });

  it('formats ages and triggers', () => {
    expect(shortAge(45_000)).toBe('45s');
    expect(shortAge(12 * 60_000)).toBe('12m');
    expect(shortAge(3 * H)).toBe('3h');
    expect(shortAge(5 * 24 * H)).toBe('5d');
    expect(shortAge(30 * 24 * H)).toBe('4w');
    expect(ago(new Date(T0 - 3 * H).toISOString(), T0)).toBe('3h ago');
    expect(triggerOf(['schedule=nightly', 'release=1'])).toBe('schedule');
    expect(triggerOf(['release=1'])).toBe('manual');
  });
});

describe('progress', () => {
  it('folds events into counts, bytes, per-volume progress, dedup and warnings', () => {
    let s = initialProgress(T0);
    s = reduceProgress(
      s,
      { operation: 'backup', phase: 'capture', message: 'listed pods', done: 3, total: 10 },
      T0,
    );
    expect(s.typesListed).toEqual({ done: 3, total: 10 });
    s = reduceProgress(
      s,
      {
        operation: 'backup',
        phase: 'save',
        message: 'saving',
        done: 1,
        total: 5,
        bytesDone: 1000,
        bytesTotal: 1000,
        currentItem: 'resources/core/v1/configmaps/ns/a.json',
      },
      T0 + 1000,
    );
    s = reduceProgress(
      s,
      {
        operation: 'backup',
        phase: 'save',
        message: 'saving',
        done: 2,
        total: 5,
        bytesDone: 5000,
        bytesTotal: 5000,
        currentItem: 'volumes/data-0.tar',
        bytesAdded: 2000,
      },
      T0 + 2000,
    );
    s = reduceProgress(
      s,
      {
        operation: 'backup',
        phase: 'save',
        message: 'saving',
        done: 3,
        total: 5,
        bytesDone: 9000,
        bytesTotal: 9000,
        currentItem: 'volumes/data-1.tar',
        bytesAdded: 2500,
      },
      T0 + 3000,
    );
    expect(s.count).toEqual({ phase: 'save', done: 3, total: 5 });
    expect(s.bytes).toEqual({ done: 9000, total: 9000, since: T0 + 1000 });
    expect(s.volumes.map((v) => [v.name, v.bytes, v.done])).toEqual([
      ['data-0', 4000, true],
      ['data-1', 4000, false],
    ]);
    expect(dedupRatio(s)).toBeCloseTo(1 - 2500 / 9000);
    expect(s.phases).toEqual(['capture', 'save']);
    s = reduceProgress(
      s,
      { operation: 'backup', phase: 'save', message: 'PVC x not read', level: 'warn' },
      T0 + 3000,
    );
    expect(s.warnings).toEqual(['PVC x not read']);
    expect(s.phase).toBe('save');
    s = reduceProgress(s, { operation: 'backup', phase: 'done', message: 'saved' }, T0 + 4000);
    expect(s.volumes.every((v) => v.done)).toBe(true);
    expect(s.count).toBeUndefined();
  });

  it('computes rates and ETAs only when they are known', () => {
    expect(rate(4_000_000, T0, T0 + 2000)).toBe(2_000_000);
    expect(rate(4_000_000, T0, T0 + 500)).toBe(0);
    expect(eta(2_000_000, 6_000_000, 1_000_000)).toBe(4000);
    expect(eta(6_000_000, 6_000_000, 1_000_000)).toBeUndefined();
    expect(eta(1, 6, 0)).toBeUndefined();
    expect(dedupRatio(initialProgress(T0))).toBeUndefined();
  });
});

describe('keys', () => {
  it('splits terminal input into keys', () => {
    expect(splitKeys('\u007F\u007Fab\r')).toEqual(['\u007F', '\u007F', 'a', 'b', '\r']);
    expect(splitKeys('\u001B[A\u001B[B\u001B')).toEqual(['\u001B[A', '\u001B[B', '\u001B']);
    expect(splitKeys('\u001B[5~\u001BOP\u001Bx')).toEqual(['\u001B[5~', '\u001BOP', '\u001Bx']);
    expect(splitKeys('\u001B\u001B[A')).toEqual(['\u001B', '\u001B[A']);
    expect(splitKeys('é🙂')).toEqual(['é', '🙂']);
  });

  it('hands keys to Ink one readable event at a time', async () => {
    const tty = Object.assign(new EventEmitter(), {
      isTTY: true,
      chunks: ['ab\u007F'] as string[],
      read() {
        return this.chunks.shift() ?? null;
      },
      setEncoding: vi.fn(),
      setRawMode: vi.fn(),
    });
    const keys = new KeyByKeyInput(tty, 1);
    const seen: string[] = [];
    keys.on('readable', () => {
      let k;
      while ((k = keys.read()) !== null) seen.push(k);
    });
    tty.emit('readable');
    await vi.waitFor(() => expect(seen).toEqual(['a', 'b', '\u007F']));
    keys.setRawMode(true);
    expect(tty.setRawMode).toHaveBeenCalledWith(true);
    keys.close();
  });
});
