/**
 * The first screen: every namespace the user may list (or, when namespaces cannot be listed,
 * the context's and those with backups), with the last backup's age, status by the RPO, size
 * and schedules; forbidden namespaces are marked, not hidden. `/` filters as you type.
 */
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import { useMemo, useState } from 'react';
import { formatBytes } from '../output/format.js';
import { describeError } from '../output/errors.js';
import { useKeys, type Loaded } from './hooks.js';
import type { NamespaceListing, NamespaceRow } from './service.js';
import { ago } from './status.js';
import { Table, type TableColumn } from './Table.js';
import { statusColor, useTheme, type Theme } from './theme.js';

export interface NamespaceListProps {
  listing: Loaded<NamespaceListing>;
  width: number;
  height: number;
  /** Whether keys go to this screen (not to an overlay). */
  active: boolean;
  now: number;
  onOpen(namespace: string): void;
  onBackup(row: NamespaceRow): void;
  /** Called when the filter field takes or gives back the keyboard. */
  onTyping(typing: boolean): void;
}

export function accessLabel(row: NamespaceRow): string {
  if (row.access === 'forbidden') return 'forbidden';
  if (row.inCluster === false) return 'not found';
  return '';
}

function columns(now: number, theme: Theme): TableColumn<NamespaceRow>[] {
  return [
    { header: 'NAMESPACE', value: (r) => r.name },
    {
      header: 'ACCESS',
      width: 9,
      value: accessLabel,
      color: (r) => (r.access === 'forbidden' ? theme.bad : theme.muted),
    },
    {
      header: 'STATUS',
      width: 6,
      value: (r) => r.status,
      color: (r) => statusColor(theme, r.status),
    },
    { header: 'LAST', width: 8, value: (r) => (r.last ? ago(r.last.time, now) : '-') },
    {
      header: 'SIZE',
      width: 9,
      right: true,
      value: (r) => (r.last ? formatBytes(r.last.sizeTotal) : '-'),
    },
    { header: 'N', width: 3, right: true, value: (r) => String(r.backups) },
    {
      header: 'SCHEDULE',
      width: 13,
      value: (r) => (r.schedules?.length ? r.schedules.join(', ') : '-'),
    },
  ];
}

export function NamespaceList(props: NamespaceListProps) {
  const theme = useTheme();
  const [filter, setFilter] = useState('');
  const [typing, setTyping] = useState(false);
  // by name: the selection stays on its namespace when the filter or the data change
  const [selectedName, setSelectedName] = useState<string>();
  const all = props.listing.data?.rows ?? [];
  const rows = useMemo(
    () => all.filter((r) => r.name.includes(filter.trim().toLowerCase())),
    [all, filter],
  );
  const index = Math.max(
    0,
    rows.findIndex((r) => r.name === selectedName),
  );
  const setSelected = (i: number) => setSelectedName(rows[i]?.name);
  const current = rows[index];

  const editFilter = (text: string) => {
    setFilter(text.replace(/[\r\n]/g, ''));
    setSelectedName(undefined);
  };
  const typingMode = (on: boolean) => {
    setTyping(on);
    props.onTyping(on);
  };

  useKeys(
    (input, key) => {
      if (typing) {
        // the filter is edited here, not by a text input that subscribes a render later:
        // keys typed right after "/" (or pasted with it) are not lost
        if (key.escape) {
          setFilter('');
          typingMode(false);
        } else if (key.return) {
          typingMode(false);
          if (current) props.onOpen(current.name);
        } else if (key.upArrow) setSelected(Math.max(0, index - 1));
        else if (key.downArrow) setSelected(Math.min(rows.length - 1, index + 1));
        else if (key.backspace || key.delete) editFilter(filter.slice(0, -1));
        else if (input && !key.ctrl && !key.meta && !key.tab) editFilter(filter + input);
        return;
      }
      if (key.upArrow || input === 'k') setSelected(Math.max(0, index - 1));
      else if (key.downArrow || input === 'j') setSelected(Math.min(rows.length - 1, index + 1));
      else if (key.pageUp) setSelected(Math.max(0, index - (props.height - 4)));
      else if (key.pageDown) setSelected(Math.min(rows.length - 1, index + props.height - 4));
      else if (input.startsWith('/')) {
        typingMode(true);
        editFilter(input.slice(1));
      } else if (key.escape && filter) setFilter('');
      else if (key.return && current) props.onOpen(current.name);
      else if (input === 'b' && current) props.onBackup(current);
    },
    { isActive: props.active },
  );

  const listing = props.listing;
  const notice = listing.data?.notice;
  const tableHeight = Math.max(1, props.height - 4 - (notice ? 1 : 0));
  return (
    <Box flexDirection="column" height={props.height}>
      <Text wrap="truncate">
        <Text bold>Namespaces</Text>
        {listing.data ? ` (${rows.length}${filter ? ` of ${all.length}` : ''})` : ''}
        {'  '}
        {typing || filter ? (
          <Text>
            {`filter: ${filter}`}
            {typing && props.active ? <Text inverse> </Text> : ''}
          </Text>
        ) : (
          <Text color={theme.muted}>/ to filter</Text>
        )}
        {listing.state === 'loading' && (
          <Text color={theme.muted}>
            {'  '}
            <Spinner /> loading
          </Text>
        )}
      </Text>
      {notice && (
        <Text color={theme.warn} wrap="truncate">
          {notice}
        </Text>
      )}
      {listing.state === 'error' && (
        <Text color={theme.bad} wrap="truncate">
          error: {describeError(listing.error)}
        </Text>
      )}
      <Table
        columns={columns(props.now, theme)}
        rows={rows}
        selected={index}
        width={props.width}
        height={tableHeight}
        rowKey={(r) => r.name}
        empty={
          <Text color={theme.muted}>
            {listing.state === 'loading'
              ? '  …'
              : filter
                ? `  no namespace matches "${filter}"`
                : '  no namespaces'}
          </Text>
        }
      />
    </Box>
  );
}
