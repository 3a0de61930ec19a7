/**
 * One namespace: its backups (with the selected one's details), the restore history and the
 * audit trail with the chain's verification; the actions work on the selected backup.
 */
import type { AuditEntry } from '@kubectl-backup/engine';
import type { BackupDescription, BackupSummary } from '@kubectl-backup/k8s';
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import { useState } from 'react';
import { describeError } from '../output/errors.js';
import { formatBytes, formatTime } from '../output/format.js';
import { BackupDetails } from './BackupDetails.js';
import { useKeys, useLoader, type Loaded } from './hooks.js';
import type { NamespaceDetails, NamespaceRow, RestoreHistoryRow } from './service.js';
import { triggerOf } from './status.js';
import { Table, type TableColumn } from './Table.js';
import { statusColor, useTheme, type Theme } from './theme.js';

export const PANES = ['backups', 'restores', 'audit'] as const;
export type Pane = (typeof PANES)[number];

export interface NamespaceViewProps {
  namespace: string;
  /** The namespace's row in the list (access), when known. */
  row?: NamespaceRow;
  details: Loaded<NamespaceDetails | undefined>;
  describe(backup: string): Promise<BackupDescription>;
  width: number;
  height: number;
  active: boolean;
  onBack(): void;
  onBackup(): void;
  onRestore(backup: BackupSummary): void;
  onVerify(backup: BackupSummary): void;
  onDelete(backup: BackupSummary): void;
}

/** `11-21 13:41` (UTC, like formatTime). */
const when = (iso: string) => formatTime(iso).slice(5, 16);

function backupColumns(theme: Theme): TableColumn<BackupSummary>[] {
  return [
    { header: 'TIME', width: 11, value: (b) => when(b.time) },
    { header: 'NAME', value: (b) => b.name },
    { header: 'TRIGGER', width: 8, value: (b) => triggerOf(b.tags) },
    { header: 'RES', width: 4, right: true, value: (b) => String(b.resources) },
    { header: 'VOL', width: 3, right: true, value: (b) => String(b.volumes) },
    {
      header: 'NEW/TOTAL',
      width: 17,
      right: true,
      value: (b) => `${formatBytes(b.sizeAdded)}/${formatBytes(b.sizeTotal)}`,
    },
    {
      header: 'VERIFIED',
      width: 8,
      value: (b) => (b.error ? 'damaged' : (b.verified?.result ?? '-')),
      color: (b) => (b.error ? theme.bad : statusColor(theme, b.verified?.result ?? '')),
    },
  ];
}

function restoreColumns(theme: Theme): TableColumn<RestoreHistoryRow>[] {
  return [
    { header: 'TIME', width: 11, value: (r) => when(r.time) },
    { header: 'RECORD', value: (r) => r.name },
    { header: 'FROM BACKUP', width: 22, value: (r) => r.source },
    { header: 'INTO', width: 12, value: (r) => r.targetNamespace },
    {
      header: 'OUTCOME',
      width: 8,
      value: (r) => r.outcome,
      color: (r) => statusColor(theme, r.outcome),
    },
  ];
}

function auditColumns(theme: Theme): TableColumn<AuditEntry>[] {
  return [
    { header: 'SEQ', width: 4, right: true, value: (e) => String(e.seq) },
    { header: 'TIME', width: 11, value: (e) => when(e.time) },
    { header: 'ACTOR', width: 14, value: (e) => e.actor },
    { header: 'ACTION', width: 15, value: (e) => e.action },
    { header: 'TARGET', value: (e) => e.target ?? '' },
    {
      header: 'OUTCOME',
      width: 8,
      value: (e) => e.outcome,
      color: (e) => statusColor(theme, e.outcome),
    },
  ];
}

export function NamespaceView(props: NamespaceViewProps) {
  const theme = useTheme();
  const [pane, setPane] = useState<Pane>('backups');
  const [selected, setSelected] = useState<Record<Pane, number>>({
    backups: 0,
    restores: 0,
    audit: 0,
  });
  const data = props.details.data;
  const counts: Record<Pane, number> = {
    backups: data?.backups.length ?? 0,
    restores: data?.restores.length ?? 0,
    audit: data?.audit.length ?? 0,
  };
  const index = Math.min(selected[pane], Math.max(0, counts[pane] - 1));
  const backup = pane === 'backups' ? data?.backups[index] : undefined;
  const [description] = useLoader(
    () => (backup ? props.describe(backup.name) : Promise.resolve(undefined)),
    backup ? `${backup.name}/${backup.snapshot}` : '',
  );
  const forbidden = props.row?.access === 'forbidden';

  const move = (delta: number) =>
    setSelected((s) => ({
      ...s,
      [pane]: Math.max(0, Math.min(counts[pane] - 1, index + delta)),
    }));

  useKeys(
    (input, key) => {
      if (key.upArrow || input === 'k') move(-1);
      else if (key.downArrow || input === 'j') move(1);
      else if (key.pageUp) move(-5);
      else if (key.pageDown) move(5);
      else if (key.tab || key.rightArrow || key.leftArrow) {
        const step = key.leftArrow || key.shift ? PANES.length - 1 : 1;
        setPane(PANES[(PANES.indexOf(pane) + step) % PANES.length]!);
      } else if (input === '1' || input === '2' || input === '3')
        setPane(PANES[Number(input) - 1]!);
      else if (key.escape || key.backspace || key.delete) props.onBack();
      else if (input === 'b') props.onBackup();
      else if (backup && input === 'r') props.onRestore(backup);
      else if (backup && input === 'v') props.onVerify(backup);
      else if (backup && input === 'd') props.onDelete(backup);
    },
    { isActive: props.active },
  );

  const tabs = (
    <Text wrap="truncate">
      <Text bold>{props.namespace}</Text>
      {'  '}
      {PANES.map((p, i) => (
        <Text key={p} inverse={p === pane}>
          {` ${i + 1} ${p} (${counts[p]}) `}
        </Text>
      ))}
      {props.details.state === 'loading' && (
        <Text color={theme.muted}>
          {'  '}
          <Spinner />
        </Text>
      )}
    </Text>
  );
  let notes = 0;
  const noteLines = [];
  if (forbidden) {
    notes++;
    noteLines.push(
      <Text key="forbidden" color={theme.bad} wrap="truncate">
        forbidden: you may not list pods in {props.namespace}; its backups can still be restored
        elsewhere
      </Text>,
    );
  }
  if (props.details.state === 'error') {
    notes++;
    noteLines.push(
      <Text key="error" color={theme.bad} wrap="truncate">
        error: {describeError(props.details.error)}
      </Text>,
    );
  }
  const body = props.height - 1 - notes;

  let content;
  if (!data) content = null;
  else if (pane === 'backups') {
    const tableRows = Math.max(1, Math.min(data.backups.length || 1, Math.floor((body - 3) / 2)));
    content = (
      <Box flexDirection="column">
        <Table
          columns={backupColumns(theme)}
          rows={data.backups}
          selected={index}
          width={props.width}
          height={tableRows}
          rowKey={(b) => b.snapshot}
          empty={
            <Text color={theme.muted}>{'  no backups yet: press b to back up this namespace'}</Text>
          }
        />
        <Text color={theme.muted}>{'─'.repeat(props.width)}</Text>
        <BackupDetails
          description={backup ? description : undefined}
          height={Math.max(1, body - tableRows - 3)}
        />
      </Box>
    );
  } else if (pane === 'restores') {
    content = (
      <Table
        columns={restoreColumns(theme)}
        rows={data.restores}
        selected={index}
        width={props.width}
        height={Math.max(1, body - 2)}
        rowKey={(r) => r.name}
        empty={<Text color={theme.muted}>{'  no restores of or into this namespace'}</Text>}
      />
    );
  } else {
    const chain = data.auditChain;
    content = (
      <Box flexDirection="column">
        <Text wrap="truncate" color={chain.ok ? theme.ok : theme.bad}>
          {chain.ok
            ? `audit chain verified: ${chain.entries} entries, intact`
            : `audit chain BROKEN at entry ${chain.firstBad?.seq ?? '?'}: ${chain.firstBad?.reason ?? ''}`}
        </Text>
        <Table
          columns={auditColumns(theme)}
          rows={data.audit}
          selected={index}
          width={props.width}
          height={Math.max(1, body - 3)}
          rowKey={(e) => `${e.seq}-${e.mac}`}
          empty={<Text color={theme.muted}>{'  no audit entries about this namespace'}</Text>}
        />
      </Box>
    );
  }
  return (
    <Box flexDirection="column" height={props.height}>
      {tabs}
      {noteLines}
      {content}
    </Box>
  );
}
