/**
 * A table drawn with Box/Text (ink-table does not load with Ink 5): fixed-width columns, one
 * flexible column taking the rest, a scrolling window around the selected row.
 */
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { useTheme } from './theme.js';

export interface TableColumn<T> {
  header: string;
  /** Characters; omitted: this column takes the width left (one such column). */
  width?: number;
  right?: boolean;
  value: (row: T) => string;
  color?: (row: T) => string | undefined;
}

/** Cuts to `width` characters with an ellipsis, pads to it. */
export function fit(text: string, width: number, right = false): string {
  const chars = [...text];
  const cut = chars.length > width ? [...chars.slice(0, Math.max(0, width - 1)), '…'] : chars;
  const s = cut.join('');
  return right ? s.padStart(width) : s.padEnd(width);
}

/** First row shown so that `selected` is visible in a window of `height` rows. */
export function windowStart(selected: number, count: number, height: number): number {
  if (count <= height) return 0;
  const half = Math.floor(height / 2);
  return Math.min(Math.max(0, selected - half), count - height);
}

export interface TableProps<T> {
  columns: TableColumn<T>[];
  rows: T[];
  /** Index of the highlighted row (-1: none). */
  selected: number;
  width: number;
  /** Rows of data shown (the header is one more). */
  height: number;
  /** Highlight only when the table has the focus. */
  focused?: boolean;
  empty?: ReactNode;
  rowKey: (row: T) => string;
}

export function Table<T>(props: TableProps<T>) {
  const theme = useTheme();
  const { columns } = props;
  const fixed = columns.reduce((n, c) => n + (c.width ?? 0) + 1, 0);
  const flexWidth = Math.max(6, props.width - fixed);
  const widthOf = (c: TableColumn<T>) => c.width ?? flexWidth;
  const start = windowStart(Math.max(0, props.selected), props.rows.length, props.height);
  const shown = props.rows.slice(start, start + props.height);
  const more = props.rows.length - start - shown.length;
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        {columns.map((c) => fit(c.header, widthOf(c), c.right)).join(' ')}
      </Text>
      {shown.length === 0 && props.empty}
      {shown.map((row, i) => {
        const selected = start + i === props.selected && props.focused !== false;
        return (
          <Text key={props.rowKey(row)} inverse={selected} wrap="truncate">
            {columns.map((c, ci) => (
              <Text key={c.header} color={selected ? undefined : c.color?.(row)}>
                {fit(c.value(row), widthOf(c), c.right)}
                {ci < columns.length - 1 ? ' ' : ''}
              </Text>
            ))}
          </Text>
        );
      })}
      {(start > 0 || more > 0) && (
        <Text color={theme.muted} wrap="truncate">
          {`  ${start > 0 ? `↑ ${start} more` : ''}${start > 0 && more > 0 ? '  ' : ''}${more > 0 ? `↓ ${more} more` : ''}`}
        </Text>
      )}
    </Box>
  );
}
