import { describe, expect, it } from 'vitest';
import { nextOccurrence, parseCron, previousOccurrence } from './cron.js';

const at = (iso: string) => new Date(iso);

describe('cron occurrences (UTC)', () => {
  it('finds the next and previous run of daily, stepped and named schedules', () => {
    expect(nextOccurrence('0 2 * * *', at('2026-11-30T02:00:00Z'))!.toISOString()).toBe(
      '2026-12-01T02:00:00.000Z',
    );
    expect(nextOccurrence('0 2 * * *', at('2026-11-30T01:59:59Z'))!.toISOString()).toBe(
      '2026-11-30T02:00:00.000Z',
    );
    expect(previousOccurrence('0 2 * * *', at('2026-11-30T01:59:59Z'))!.toISOString()).toBe(
      '2026-11-29T02:00:00.000Z',
    );
    expect(previousOccurrence('0 2 * * *', at('2026-11-30T02:00:00.400Z'))!.toISOString()).toBe(
      '2026-11-30T02:00:00.000Z',
    );
    expect(nextOccurrence('*/15 * * * *', at('2026-11-30T10:07:00Z'))!.toISOString()).toBe(
      '2026-11-30T10:15:00.000Z',
    );
    expect(nextOccurrence('30 4 * * mon-fri', at('2026-11-28T00:00:00Z'))!.toISOString()).toBe(
      '2026-11-30T04:30:00.000Z',
    );
    expect(nextOccurrence('0 0 1 jan *', at('2026-11-30T00:00:00Z'))!.toISOString()).toBe(
      '2027-01-01T00:00:00.000Z',
    );
    expect(nextOccurrence('@hourly', at('2026-11-30T10:00:00Z'))!.toISOString()).toBe(
      '2026-11-30T11:00:00.000Z',
    );
    expect(nextOccurrence('0 0 29 2 *', at('2026-03-01T00:00:00Z'))!.toISOString()).toBe(
      '2028-02-29T00:00:00.000Z',
    );
  });

  it('takes a seconds field and Sunday as 0 or 7', () => {
    expect(nextOccurrence('*/10 * * * * *', at('2026-11-30T10:00:03Z'))!.toISOString()).toBe(
      '2026-11-30T10:00:10.000Z',
    );
    expect(previousOccurrence('*/10 * * * * *', at('2026-11-30T10:00:03Z'))!.toISOString()).toBe(
      '2026-11-30T10:00:00.000Z',
    );
    expect(parseCron('0 0 * * 7').weekdays).toEqual(new Set([0]));
    expect(nextOccurrence('0 0 * * 7', at('2026-11-30T00:00:00Z'))!.toISOString()).toBe(
      '2026-12-06T00:00:00.000Z',
    );
  });

  it('matches either day field when both are restricted, like cron', () => {
    // The 1st of the month or any Friday.
    expect(nextOccurrence('0 0 1 * fri', at('2026-11-30T00:00:00Z'))!.toISOString()).toBe(
      '2026-12-01T00:00:00.000Z',
    );
    expect(nextOccurrence('0 0 1 * fri', at('2026-12-01T00:00:00Z'))!.toISOString()).toBe(
      '2026-12-04T00:00:00.000Z',
    );
  });

  it('refuses bad expressions', () => {
    expect(() => parseCron('61 * * * *')).toThrow(/out of range/);
    expect(() => parseCron('* * *')).toThrow(/5 or 6 fields/);
    expect(() => parseCron('*/0 * * * *')).toThrow(/step/);
    expect(() => parseCron('5-1 * * * *')).toThrow(/ends before/);
  });
});
