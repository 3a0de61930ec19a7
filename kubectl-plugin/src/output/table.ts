/** Plain aligned tables (kubectl style: upper-case headers, two spaces between columns). */
import type { OutStream } from '../io.js';

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Right-align (numbers, sizes). */
  right?: boolean;
}

export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => c.value(r)));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((row) => row[i]!.length)),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) =>
        columns[i]!.right
          ? v.padStart(widths[i]!)
          : i === values.length - 1
            ? v
            : v.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

export function writeTable<T>(
  out: OutStream,
  rows: readonly T[],
  columns: readonly Column<T>[],
  empty: string,
): void {
  out.write(rows.length ? renderTable(rows, columns) : `${empty}\n`);
}
