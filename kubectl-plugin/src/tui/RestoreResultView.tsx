/** The restore's result, object by object (created, updated, unchanged, skipped, failed). */
import type { RestoreItemResult, RestoreNamespaceResult } from '@kubectl-backup/k8s';
import { Box, Text } from 'ink';
import { useState } from 'react';
import { formatDuration } from '../output/format.js';
import { Table, type TableColumn } from './Table.js';
import { statusColor, useTheme, type Theme } from './theme.js';
import { useKeys } from './hooks.js';

function itemColumns(theme: Theme): TableColumn<RestoreItemResult>[] {
  return [
    {
      header: 'OUTCOME',
      width: 9,
      value: (r) => r.outcome,
      color: (r) =>
        r.outcome === 'failed'
          ? theme.bad
          : r.outcome === 'created' || r.outcome === 'updated'
            ? theme.ok
            : theme.muted,
    },
    { header: 'KIND', width: 20, value: (r) => r.kind },
    { header: 'NAME', value: (r) => r.name },
    { header: 'REASON', width: 24, value: (r) => r.reason ?? '' },
  ];
}

export function RestoreResultView(props: {
  result: RestoreNamespaceResult;
  width: number;
  height: number;
  active: boolean;
}) {
  const theme = useTheme();
  const [selected, setSelected] = useState(0);
  const rec = props.result.record;
  useKeys(
    (_input, key) => {
      if (key.upArrow) setSelected((i) => Math.max(0, i - 1));
      else if (key.downArrow) setSelected((i) => Math.min((rec?.items.length ?? 1) - 1, i + 1));
    },
    { isActive: props.active },
  );
  if (!rec) return <Text>nothing was restored</Text>;
  const c = rec.counts;
  const extra: Array<{ text: string; color?: string }> = [
    ...rec.volumes.map((v) => ({
      text: `volume ${v.pvc}: ${v.outcome}${v.reason ? ` (${v.reason})` : ''}`,
      color: v.outcome === 'failed' ? theme.bad : undefined,
    })),
    ...rec.readiness
      .filter((x) => !x.ready)
      .map((x) => ({
        text: `not ready: ${x.kind} ${x.name}${x.message ? `: ${x.message}` : ''}`,
        color: theme.warn,
      })),
    ...props.result.warnings.map((w) => ({ text: `warning: ${w}`, color: theme.warn })),
  ];
  const shownExtra = extra.slice(0, Math.max(0, props.height - 9));
  return (
    <Box flexDirection="column" height={props.height}>
      <Text wrap="truncate">
        <Text color={statusColor(theme, rec.outcome)} bold>
          {`restore ${rec.outcome}`}
        </Text>
        {` into ${rec.targetNamespace} in ${formatDuration(rec.durationMs)}`}
      </Text>
      <Text wrap="truncate">
        {`${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.skipped} skipped, ${c.failed} failed`}
      </Text>
      <Table
        columns={itemColumns(theme)}
        rows={rec.items}
        selected={selected}
        width={props.width}
        height={Math.max(2, props.height - 6 - shownExtra.length)}
        rowKey={(r) => r.path}
      />
      {shownExtra.map((l, i) => (
        <Text key={i} color={l.color} wrap="truncate">
          {l.text}
        </Text>
      ))}
      <Text color={theme.muted} wrap="truncate">
        {`record ${rec.name}   Enter or Esc to go back`}
      </Text>
    </Box>
  );
}
