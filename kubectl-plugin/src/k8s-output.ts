/** `-o json|yaml|wide|name` for the namespace commands' read output (kubectl's formats). */
import { Option } from 'commander';
import { stringify } from 'yaml';
import type { OutStream } from './io.js';
import { writeJson } from './output/json.js';

export type ReadFormat = 'table' | 'json' | 'yaml' | 'wide' | 'name';

export function readOutputOption(formats: ReadFormat[] = ['json', 'yaml', 'wide', 'name']): Option {
  return new Option(
    '-o, --output <format>',
    `output format: ${formats.join(', ')} (default: a table)`,
  )
    .choices(['table', ...formats])
    .default('table');
}

/** Writes a document as JSON or YAML; returns false for the other formats. */
export function writeDocument(out: OutStream, format: ReadFormat, value: unknown): boolean {
  if (format === 'json') writeJson(out, value);
  else if (format === 'yaml') out.write(stringify(value, { lineWidth: 0 }));
  else return false;
  return true;
}

/** `key: value` lines with the keys aligned (describe-style sections). */
export function fields(rows: Array<[string, string | number | undefined]>, indent = ''): string {
  const shown = rows.filter(
    (r): r is [string, string | number] => r[1] !== undefined && r[1] !== '',
  );
  const width = Math.max(0, ...shown.map(([k]) => k.length)) + 2;
  return shown.map(([k, v]) => `${indent}${`${k}:`.padEnd(width)}${v}\n`).join('');
}
