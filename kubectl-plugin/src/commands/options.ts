/** Option builders and value parsers shared by commands. */
import { InvalidArgumentError, Option } from 'commander';

export type OutputFormat = 'table' | 'json';

export function outputOption(): Option {
  return new Option('-o, --output <format>', 'output format')
    .choices(['table', 'json'])
    .default('table');
}

export function jsonOption(): Option {
  return new Option(
    '--json',
    'progress as JSON lines on stderr, the result as one JSON object on stdout',
  );
}

/** Accumulates a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A tag such as `app=web` or `nightly`: non-empty, no commas or whitespace. */
export function parseTag(value: string, previous: string[] = []): string[] {
  if (!/^[^\s,]+$/.test(value))
    throw new InvalidArgumentError('a tag is a word or key=value, without spaces or commas');
  return collect(value, previous);
}

/** A count for keep-* flags: a non-negative integer, or -1 for unlimited. */
export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1)
    throw new InvalidArgumentError('expected a whole number (or -1 for unlimited)');
  return n;
}
