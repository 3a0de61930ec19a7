/**
 * The restore wizard's dry run: what would be created, updated or skipped, the field diff of
 * the selected object, what the target has that the backup lacks, missing permissions; then a
 * typed confirmation (the target namespace's name).
 */
import type { PlanItem } from '@kubectl-backup/k8s';
import { Box, Text } from 'ink';
import TextInput from 'ink-text-input';
import { useState } from 'react';
import { describeChange } from '../commands/ns/restore.js';
import { formatBytes } from '../output/format.js';
import type { RestorePreview } from './service.js';
import { Table, type TableColumn } from './Table.js';
import { useTheme, type Theme } from './theme.js';
import { useKeys } from './hooks.js';

function planColumns(theme: Theme): TableColumn<PlanItem>[] {
  const color = (it: PlanItem) =>
    it.action === 'create'
      ? theme.ok
      : it.action === 'update' || it.action === 'recreate'
        ? theme.warn
        : theme.muted;
  return [
    { header: 'ACTION', width: 9, value: (it) => it.action, color },
    { header: 'KIND', width: 22, value: (it) => it.ref.kind },
    { header: 'NAME', value: (it) => it.ref.name },
    {
      header: 'CHANGES',
      width: 7,
      right: true,
      value: (it) => (it.changes?.length ? String(it.changes.length) : ''),
    },
  ];
}

/** `create 12, skip 2` */
export function planCounts(items: PlanItem[]): string {
  const counts = new Map<string, number>();
  for (const it of items) counts.set(it.action, (counts.get(it.action) ?? 0) + 1);
  return [...counts].map(([a, n]) => `${a} ${n}`).join(', ') || 'nothing';
}

export function RestorePlanView(props: {
  preview: RestorePreview;
  width: number;
  height: number;
  active: boolean;
  onConfirm(): void;
}) {
  const theme = useTheme();
  const { plan } = props.preview;
  const [selected, setSelected] = useState(0);
  const [typed, setTyped] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const blocked = plan.permissions.missing.length > 0;
  useKeys(
    (_input, key) => {
      if (key.upArrow) setSelected((i) => Math.max(0, i - 1));
      else if (key.downArrow) setSelected((i) => Math.min(plan.items.length - 1, i + 1));
    },
    { isActive: props.active },
  );
  const item = plan.items[selected];
  const info: Array<{ text: string; color?: string }> = [];
  const changes = item?.changes?.length && item.action !== 'unchanged' ? item.changes : [];
  if (changes.length) {
    info.push({ text: `diff of ${item!.ref.kind} ${item!.ref.name} (live → backup):` });
    for (const c of changes.slice(0, 3)) info.push({ text: `  ${describeChange(c)}` });
    if (changes.length > 3)
      info.push({ text: `  … ${changes.length - 3} more`, color: theme.muted });
  }
  const extra = props.preview.notInBackup;
  if (extra.length)
    info.push({
      text: `in the cluster, not in the backup (left alone): ${extra.map((o) => `${o.kind}/${o.name}`).join(', ')}`,
      color: theme.muted,
    });
  if (plan.volumes.length)
    info.push({
      text: `volume data: ${plan.volumes.map((v) => `${v.pvc} (${formatBytes(v.bytes)})`).join(', ')}`,
    });
  for (const p of plan.permissions.missing)
    info.push({
      text: `missing permission: ${p.verb} ${p.group ? `${p.resource}.${p.group}` : p.resource}${p.namespace ? ` in ${p.namespace}` : ''}`,
      color: theme.bad,
    });
  for (const w of plan.warnings) info.push({ text: `warning: ${w}`, color: theme.warn });
  const tableHeight = Math.max(2, props.height - 5 - info.length);
  const shownInfo = info.slice(0, Math.max(0, props.height - 5 - 2));
  return (
    <Box flexDirection="column" height={props.height}>
      <Text wrap="truncate">
        {'dry run: would '}
        <Text bold>{planCounts(plan.items)}</Text>
        {plan.filteredOut ? ` (${plan.filteredOut} filtered out)` : ''}
        {` in ${plan.targetNamespace}, existing: ${plan.existing}`}
      </Text>
      <Table
        columns={planColumns(theme)}
        rows={plan.items}
        selected={selected}
        width={props.width}
        height={tableHeight}
        rowKey={(it) => it.path}
        empty={<Text color={theme.muted}>{'  nothing to restore'}</Text>}
      />
      {shownInfo.map((l, i) => (
        <Text key={i} color={l.color} wrap="truncate">
          {l.text}
        </Text>
      ))}
      {blocked ? (
        <Text color={theme.bad} wrap="truncate">
          the restore would be refused: ask for the missing permissions, or exclude those resources
          (Esc to go back)
        </Text>
      ) : (
        <Text wrap="truncate">
          {`type `}
          <Text bold>{plan.targetNamespace}</Text>
          {` and Enter to restore, Esc to go back: `}
          <TextInput
            value={typed}
            focus={props.active}
            onChange={(v) => {
              setTyped(v);
              setMismatch(false);
            }}
            onSubmit={(v) => {
              if (v.trim() === plan.targetNamespace) props.onConfirm();
              else setMismatch(true);
            }}
          />
        </Text>
      )}
      {mismatch && (
        <Text
          color={theme.bad}
        >{`that is not "${plan.targetNamespace}": nothing was changed`}</Text>
      )}
    </Box>
  );
}
