import { describe, expect, it } from 'vitest';
import { afterWritten } from './span-writer.js';

describe('afterWritten', () => {
  const parts = [Buffer.from('abc'), Buffer.from('de'), Buffer.from('fghi')];
  const rest = (n: number) => Buffer.concat(afterWritten(parts, n)).toString();

  it('leaves the bytes after the first n, whether n ends inside a part or between parts', () => {
    for (let n = 0; n <= 9; n++) expect(rest(n)).toBe('abcdefghi'.slice(n));
    expect(afterWritten(parts, 9)).toEqual([]);
    expect(afterWritten(parts, 5)).toHaveLength(1);
  });

  it('does not change the parts it was given', () => {
    afterWritten(parts, 4);
    expect(parts.map(String)).toEqual(['abc', 'de', 'fghi']);
  });
});
