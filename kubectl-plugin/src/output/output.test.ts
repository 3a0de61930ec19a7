import { describe, expect, it } from 'vitest';
import {
  EngineError,
  LockedError,
  NoRepositoryError,
  WrongPasswordError,
} from '@kubectl-backup/engine';
import { CliError, exitCodeOf, formatError } from './errors.js';
import { formatBytes, formatDuration, formatTime } from './format.js';
import { progressLine } from './progress.js';
import { renderTable } from './table.js';

describe('output', () => {
  it('renders aligned tables (golden)', () => {
    const rows = [
      { id: 'abc', size: 5 },
      { id: 'longer-id', size: 12345 },
    ];
    expect(
      renderTable(rows, [
        { header: 'ID', value: (r) => r.id },
        { header: 'SIZE', value: (r) => formatBytes(r.size), right: true },
      ]),
    ).toBe('ID             SIZE\nabc             5 B\nlonger-id  12.1 KiB\n');
  });

  it('formats sizes, durations and times', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.00 GiB');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(125_000)).toBe('2m05s');
    expect(formatTime('2026-11-21T13:41:11.123Z')).toBe('2026-11-21 13:41:11Z');
  });

  it('describes progress in one line', () => {
    const line = progressLine(
      {
        phase: 'backup',
        filesDone: 3,
        filesTotal: 10,
        bytesDone: 1 << 20,
        bytesTotal: 4 << 20,
        bytesAdded: 512,
        currentItem: 'a/b',
      },
      1000,
    );
    expect(line).toBe('backup  3/10 files  1.00 MiB/4.00 MiB  1.00 MiB/s  added 512 B  a/b');
  });

  it('maps errors to one line and exit codes', () => {
    expect(formatError(new WrongPasswordError(), { location: '/r' })).toBe(
      'error: wrong password: no key of the repository at /r opens with it\n',
    );
    expect(formatError(new NoRepositoryError('/r'), { location: '/r' })).toContain(
      '"kubectl backup repo init --repo /r"',
    );
    expect(formatError(new LockedError('locked by x'))).toBe('error: locked by x\n');
    expect(formatError(new Error('multi\nline'))).toBe('error: multi line\n');
    expect(formatError(new Error('boom'), { debug: true })).toMatch(
      /^error: boom\nError: boom\n\s+at /,
    );
    expect(exitCodeOf(new CliError('x', 2))).toBe(2);
    expect(exitCodeOf(new EngineError('EUSAGE', 'x'))).toBe(2);
    expect(exitCodeOf(new EngineError('EIO', 'x'))).toBe(1);
  });
});
