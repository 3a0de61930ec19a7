import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import {
  applyRetention,
  isoWeek,
  parseDuration,
  subtractDuration,
  type RetentionPolicy,
  type RetentionSnapshot,
} from './forget-policy.js';

/** One snapshot a day at 12:00 UTC, id = the date, from `first` for `n` days. */
function daily(first: string, n: number): RetentionSnapshot[] {
  const start = Date.parse(`${first}T12:00:00Z`);
  return Array.from({ length: n }, (_, i) => {
    const time = new Date(start + i * 86_400_000).toISOString();
    return { id: time.slice(0, 10), time };
  });
}

const snap = (id: string, time: string, extra: Partial<RetentionSnapshot> = {}): RetentionSnapshot => ({
  id,
  time,
  ...extra,
});

const keptIds = (r: { keep: { snapshot: RetentionSnapshot }[] }) => r.keep.map((k) => k.snapshot.id);
const removedIds = (r: { remove: { snapshot: RetentionSnapshot }[] }) => r.remove.map((k) => k.snapshot.id);

describe('parseDuration', () => {
  it.each([
    ['7d', { years: 0, months: 0, days: 7, hours: 0 }],
    ['2w', { years: 0, months: 0, days: 14, hours: 0 }],
    ['1y2m3d4h', { years: 1, months: 2, days: 3, hours: 4 }],
    ['4h3d', { years: 0, months: 0, days: 3, hours: 4 }],
    ['1w2d', { years: 0, months: 0, days: 9, hours: 0 }],
    [' 36h ', { years: 0, months: 0, days: 0, hours: 36 }],
    ['0d', { years: 0, months: 0, days: 0, hours: 0 }],
  ])('parses %j', (text, expected) => {
    expect(parseDuration(text)).toEqual(expected);
  });

  it.each(['', '   ', '7', 'd', '7x', '1d1d', '-1d', '1.5d', '7 d', '7D', 'd7'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(UsageError);
  });
});

describe('calendar helpers (UTC)', () => {
  it.each([
    ['2021-01-03T12:00:00Z', 2020, 53],
    ['2020-12-31T00:00:00Z', 2020, 53],
    ['2024-12-30T00:00:00Z', 2025, 1],
    ['2024-01-01T00:00:00Z', 2024, 1],
    ['2024-04-09T23:59:59Z', 2024, 15],
    ['2026-11-21T13:00:00Z', 2026, 47],
    ['2027-01-01T00:00:00Z', 2026, 53],
  ])('isoWeek(%s) = %i-W%i', (time, year, week) => {
    expect(isoWeek(Date.parse(time))).toEqual({ year, week });
  });

  it.each([
    ['2024-03-31T00:00:00Z', '1m', '2024-03-02T00:00:00.000Z'], // Feb 31 normalises like Go AddDate
    ['2024-04-09T12:00:00Z', '2d', '2024-04-07T12:00:00.000Z'],
    ['2024-02-29T06:00:00Z', '1y', '2023-03-01T06:00:00.000Z'],
    ['2024-01-01T03:00:00Z', '1y2m3d4h', '2022-10-28T23:00:00.000Z'],
  ])('subtractDuration(%s, %s) = %s', (from, d, expected) => {
    expect(new Date(subtractDuration(Date.parse(from), parseDuration(d))).toISOString()).toBe(expected);
  });
});

describe('applyRetention', () => {
  it('keeps daily 7, weekly 4, monthly 3 of 60 daily snapshots (worked out by hand)', () => {
    // 2024-02-10 … 2024-04-09 (Tuesday). ISO weeks: W15 = Apr 8–14, W14 = Apr 1–7,
    // W13 = Mar 25–31, W12 = Mar 18–24.
    const snaps = daily('2024-02-10', 60);
    expect(snaps.at(-1)!.id).toBe('2024-04-09');
    const r = applyRetention(snaps, { keepDaily: 7, keepWeekly: 4, keepMonthly: 3 });
    expect(keptIds(r)).toEqual([
      '2024-04-09', // daily, weekly W15, monthly April
      '2024-04-08',
      '2024-04-07', // daily, weekly W14
      '2024-04-06',
      '2024-04-05',
      '2024-04-04',
      '2024-04-03', // 7th daily
      '2024-03-31', // weekly W13, monthly March
      '2024-03-24', // weekly W12
      '2024-02-29', // monthly February
    ]);
    expect(r.remove).toHaveLength(50);
    const reasons = Object.fromEntries(r.keep.map((k) => [k.snapshot.id, k.reasons]));
    expect(reasons['2024-04-09']).toEqual(['daily snapshot', 'weekly snapshot', 'monthly snapshot']);
    expect(reasons['2024-04-08']).toEqual(['daily snapshot']);
    expect(reasons['2024-04-07']).toEqual(['daily snapshot', 'weekly snapshot']);
    expect(reasons['2024-03-31']).toEqual(['weekly snapshot', 'monthly snapshot']);
    expect(reasons['2024-03-24']).toEqual(['weekly snapshot']);
    expect(reasons['2024-02-29']).toEqual(['monthly snapshot']);
    expect(removedIds(r)).toContain('2024-02-10');
    expect(removedIds(r)).toContain('2024-04-02');
  });

  it('also keeps the oldest snapshot while a bucket rule has counts left (restic ≥ 0.17)', () => {
    const r = applyRetention(daily('2024-02-10', 60), { keepMonthly: 6 });
    expect(keptIds(r)).toEqual(['2024-04-09', '2024-03-31', '2024-02-29', '2024-02-10']);
    expect(r.keep[3]!.reasons).toEqual(['oldest snapshot (monthly count left)']);
  });

  it('does not keep the oldest extra when the counts ran out exactly', () => {
    const r = applyRetention(daily('2024-02-10', 60), { keepMonthly: 3 });
    expect(keptIds(r)).toEqual(['2024-04-09', '2024-03-31', '2024-02-29']);
  });

  it('counts only hours that have snapshots and keeps the newest of each', () => {
    const snaps = [
      snap('a', '2024-05-01T10:05:00Z'),
      snap('b', '2024-05-01T10:55:00Z'),
      snap('c', '2024-05-01T08:30:00Z'), // 09:00 hour is empty: not counted
      snap('d', '2024-05-01T07:59:59Z'),
      snap('e', '2024-05-01T07:00:00Z'),
    ];
    const r = applyRetention(snaps, { keepHourly: 3 });
    expect(keptIds(r)).toEqual(['b', 'c', 'd']);
    expect(removedIds(r)).toEqual(['a', 'e']);
  });

  it('buckets ISO weeks across a year boundary', () => {
    const snaps = [
      snap('mon-2021-W01', '2021-01-04T09:00:00Z'),
      snap('sun-2020-W53', '2021-01-03T09:00:00Z'),
      snap('fri-2020-W53', '2021-01-01T09:00:00Z'),
      snap('mon-2020-W53', '2020-12-28T09:00:00Z'),
      snap('sun-2020-W52', '2020-12-27T09:00:00Z'),
    ];
    const r = applyRetention(snaps, { keepWeekly: 2 });
    expect(keptIds(r)).toEqual(['mon-2021-W01', 'sun-2020-W53']);
  });

  it('buckets by UTC, whatever offset the time was written with', () => {
    const snaps = [
      snap('a', '2024-01-01T23:30:00-02:00'), // 2024-01-02T01:30Z
      snap('b', '2024-01-02T00:30:00Z'),
      snap('c', '2024-01-02T01:00:00+02:00'), // 2024-01-01T23:00Z
    ];
    const r = applyRetention(snaps, { keepDaily: 2 });
    expect(keptIds(r)).toEqual(['a', 'c']);
    expect(removedIds(r)).toEqual(['b']);
  });

  it('keeps every year with keepYearly -1 (unlimited), the newest of each', () => {
    const snaps = [
      snap('2022-a', '2022-03-01T00:00:00Z'),
      snap('2022-b', '2022-11-01T00:00:00Z'),
      snap('2023', '2023-06-01T00:00:00Z'),
      snap('2025', '2025-06-01T00:00:00Z'),
    ];
    const r = applyRetention(snaps, { keepYearly: -1 });
    // 2022-a is the oldest snapshot and the unlimited rule still has counts left.
    expect(keptIds(r)).toEqual(['2025', '2023', '2022-b', '2022-a']);
    const r2 = applyRetention(snaps, { keepYearly: 3 });
    expect(keptIds(r2)).toEqual(['2025', '2023', '2022-b']);
  });

  it('combines keep-last with keep-tag', () => {
    const snaps = [
      snap('s1', '2024-06-01T00:00:00Z', { tags: ['important'] }),
      snap('s2', '2024-06-02T00:00:00Z', { tags: ['manual'] }),
      snap('s3', '2024-06-03T00:00:00Z'),
      snap('s4', '2024-06-04T00:00:00Z', { tags: ['important', 'manual'] }),
      snap('s5', '2024-06-05T00:00:00Z'),
      snap('s6', '2024-06-06T00:00:00Z'),
    ];
    const r = applyRetention(snaps, { keepLast: 2, keepTags: ['important'] });
    expect(keptIds(r)).toEqual(['s6', 's5', 's4', 's1']);
    expect(removedIds(r)).toEqual(['s3', 's2']);
    const byId = Object.fromEntries(r.keep.map((k) => [k.snapshot.id, k.reasons]));
    expect(byId.s6).toEqual(['last snapshot']);
    expect(byId.s4).toEqual(['tags important']);
    expect(byId.s1).toEqual(['tags important']);
  });

  it('keep-tag entries are tag lists: "a,b" needs both tags, separate entries are alternatives', () => {
    const snaps = [
      snap('ab', '2024-06-01T00:00:00Z', { tags: ['a', 'b'] }),
      snap('a', '2024-06-02T00:00:00Z', { tags: ['a'] }),
      snap('c', '2024-06-03T00:00:00Z', { tags: ['c'] }),
      snap('none', '2024-06-04T00:00:00Z'),
    ];
    expect(keptIds(applyRetention(snaps, { keepTags: ['a,b'] }))).toEqual(['ab']);
    expect(keptIds(applyRetention(snaps, { keepTags: ['a,b', 'c'] }))).toEqual(['c', 'ab']);
    expect(keptIds(applyRetention(snaps, { keepTags: ['a'] }))).toEqual(['a', 'ab']);
  });

  it('keep-within is relative to the newest snapshot, not to now, and strictly newer', () => {
    // Every 12 hours; the newest is 2024-04-09T12:00Z, so 2d reaches back to (excluding) 04-07T12:00Z.
    const start = Date.parse('2024-04-01T00:00:00Z');
    const snaps = Array.from({ length: 18 }, (_, i) => {
      const time = new Date(start + i * 12 * 3_600_000).toISOString();
      return snap(time.slice(0, 13), time);
    });
    const r = applyRetention(snaps, { keepWithin: '2d' }, { now: Date.parse('2030-01-01T00:00:00Z') });
    expect(keptIds(r)).toEqual(['2024-04-09T12', '2024-04-09T00', '2024-04-08T12', '2024-04-08T00']);
    expect(r.keep[0]!.reasons).toEqual(['within 2d']);
    expect(removedIds(r)[0]).toBe('2024-04-07T12');
  });

  it('keep-within ignores snapshots from the future when finding the newest', () => {
    const snaps = [
      snap('future', '2024-05-01T00:00:00Z'),
      snap('newest', '2024-04-09T00:00:00Z'),
      snap('day-before', '2024-04-08T06:00:00Z'),
      snap('old', '2024-04-01T00:00:00Z'),
    ];
    const r = applyRetention(snaps, { keepWithin: '1d' }, { now: new Date('2024-04-10T00:00:00Z') });
    // The future snapshot is newer than the anchor, so it is within too.
    expect(keptIds(r)).toEqual(['future', 'newest', 'day-before']);
    expect(removedIds(r)).toEqual(['old']);
  });

  it('keep-within uses calendar months', () => {
    const snaps = [
      snap('newest', '2024-03-31T00:00:00Z'),
      snap('inside', '2024-03-02T01:00:00Z'),
      snap('boundary', '2024-03-02T00:00:00Z'),
      snap('outside', '2024-02-28T00:00:00Z'),
    ];
    const r = applyRetention(snaps, { keepWithin: '1m' }, { now: Date.parse('2024-04-01T00:00:00Z') });
    expect(keptIds(r)).toEqual(['newest', 'inside']);
  });

  it('applies the policy per group (host + paths by default; [] for one group)', () => {
    const snaps = [
      snap('a1', '2024-01-01T00:00:00Z', { host: 'a', paths: ['/x'] }),
      snap('a2', '2024-01-02T00:00:00Z', { host: 'a', paths: ['/x'] }),
      snap('a3', '2024-01-03T00:00:00Z', { host: 'a', paths: ['/y'] }),
      snap('b1', '2024-01-01T00:00:00Z', { host: 'b', paths: ['/x'] }),
      snap('b2', '2024-01-02T00:00:00Z', { host: 'b', paths: ['/x'], tags: ['t'] }),
    ];
    const byDefault = applyRetention(snaps, { keepLast: 1 });
    expect(keptIds(byDefault).sort()).toEqual(['a2', 'a3', 'b2']);
    expect(byDefault.keep.find((k) => k.snapshot.id === 'a2')!.group).toBe('host=a;paths=/x');
    expect(keptIds(applyRetention(snaps, { keepLast: 1 }, { groupBy: ['host'] })).sort()).toEqual(['a3', 'b2']);
    expect(keptIds(applyRetention(snaps, { keepLast: 1 }, { groupBy: [] }))).toEqual(['a3']);
    expect(keptIds(applyRetention(snaps, { keepLast: 1 }, { groupBy: ['tags'] })).sort()).toEqual(['a3', 'b2']);
  });

  it('path order inside a snapshot does not split groups', () => {
    const snaps = [
      snap('1', '2024-01-01T00:00:00Z', { paths: ['/b', '/a'] }),
      snap('2', '2024-01-02T00:00:00Z', { paths: ['/a', '/b'] }),
    ];
    expect(keptIds(applyRetention(snaps, { keepLast: 1 }))).toEqual(['2']);
  });

  it('returns every snapshot exactly once and does not depend on input order', () => {
    const snaps = daily('2023-01-01', 400).map((s, i) => ({ ...s, tags: i % 17 === 0 ? ['x'] : [] }));
    const policy: RetentionPolicy = { keepLast: 3, keepDaily: 10, keepWeekly: 6, keepMonthly: 8, keepYearly: 2, keepTags: ['x'] };
    const r = applyRetention(snaps, policy);
    const all = [...keptIds(r), ...removedIds(r)].sort();
    expect(all).toEqual(snaps.map((s) => s.id).sort());
    const shuffled = [...snaps].reverse();
    shuffled.push(shuffled.splice(100, 1)[0]!);
    const r2 = applyRetention(shuffled, policy);
    expect(keptIds(r2)).toEqual(keptIds(r));
  });

  it('breaks equal times by id, deterministically', () => {
    const snaps = [snap('b', '2024-01-01T00:00:00Z'), snap('a', '2024-01-01T00:00:00Z')];
    expect(keptIds(applyRetention(snaps, { keepLast: 1 }))).toEqual(['a']);
    expect(keptIds(applyRetention([...snaps].reverse(), { keepLast: 1 }))).toEqual(['a']);
  });

  it('returns empty lists for no snapshots', () => {
    expect(applyRetention([], { keepLast: 1 })).toEqual({ keep: [], remove: [] });
  });

  it.each<[string, RetentionPolicy]>([
    ['empty', {}],
    ['all zero', { keepLast: 0, keepDaily: 0 }],
    ['zero duration only', { keepWithin: '0d' }],
    ['no tag lists', { keepTags: [] }],
  ])('refuses an empty policy (%s)', (_name, policy) => {
    expect(() => applyRetention(daily('2024-01-01', 3), policy)).toThrow(UsageError);
  });

  it.each<[string, RetentionPolicy]>([
    ['negative', { keepLast: -2 }],
    ['fraction', { keepDaily: 1.5 }],
    ['NaN', { keepWeekly: Number.NaN }],
    ['bad duration', { keepWithin: '7x' }],
    ['empty tag', { keepTags: [' , '] }],
  ])('rejects an invalid policy (%s)', (_name, policy) => {
    expect(() => applyRetention(daily('2024-01-01', 3), policy)).toThrow(UsageError);
  });

  it('rejects a snapshot with an unparseable time', () => {
    expect(() => applyRetention([snap('x', 'yesterday')], { keepLast: 1 })).toThrow(UsageError);
  });
});
