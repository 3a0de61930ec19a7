/** `b`: back up a namespace now, with live progress; Esc or Ctrl-C cancels (nothing is kept). */
import type { BackupNamespaceResult } from '@kubectl-backup/k8s';
import { Box, Text } from 'ink';
import { useEffect } from 'react';
import { describeError } from '../output/errors.js';
import { formatBytes, formatDuration } from '../output/format.js';
import { useOperation } from './operation.js';
import { ProgressView } from './ProgressView.js';
import type { TuiService } from './service.js';
import { useTheme } from './theme.js';
import { useKeys } from './hooks.js';

export interface TaskProps {
  service: TuiService;
  width: number;
  height: number;
  active: boolean;
  /** Closes the task; `changed`: the repository changed (reload the lists). */
  onDone(changed: boolean): void;
  onQuit(): void;
}

export function isCtrlC(input: string, key: { ctrl: boolean }): boolean {
  return key.ctrl && input === 'c';
}

export function BackupRun(props: TaskProps & { namespace: string }) {
  const theme = useTheme();
  const op = useOperation<BackupNamespaceResult>();
  const { service, namespace } = props;
  useEffect(() => {
    op.start((o) => service.backup(namespace, o));
  }, []);

  useKeys(
    (input, key) => {
      const s = op.state.status;
      if (s === 'running') {
        if (key.escape || isCtrlC(input, key)) op.cancel();
        return;
      }
      if (isCtrlC(input, key)) props.onQuit();
      else if (key.escape || key.return || input === 'q') props.onDone(s === 'done');
    },
    { isActive: props.active },
  );

  const s = op.state;
  if (s.status === 'running' || s.status === 'idle')
    return (
      <ProgressView
        title={`Backing up namespace ${namespace}   (Esc cancels)`}
        state={op.progress}
        now={op.now}
        width={props.width}
        height={props.height}
        {...(s.status === 'running' && s.cancelling
          ? { status: 'cancelling: stopping and cleaning up…' }
          : {})}
      />
    );
  return (
    <Box flexDirection="column" height={props.height}>
      <Text bold>Back up namespace {namespace}</Text>
      {s.status === 'done' && <BackupSummaryView result={s.result} />}
      {s.status === 'canceled' && (
        <Text color={theme.warn}>
          backup canceled: nothing was kept (the repository holds no partial backup)
        </Text>
      )}
      {s.status === 'failed' && (
        <Text color={theme.bad} wrap="wrap">
          backup failed: {describeError(s.error)}
        </Text>
      )}
      <Text color={theme.muted}>Enter or Esc to go back</Text>
    </Box>
  );
}

function BackupSummaryView({ result }: { result: BackupNamespaceResult }) {
  const theme = useTheme();
  const m = result.manifest;
  const st = result.snapshot.stats;
  const reused =
    st.bytesTotal > 0 ? Math.max(0, Math.round((1 - st.bytesAdded / st.bytesTotal) * 100)) : 0;
  const volumeBytes = m.volumes.reduce((n, v) => n + (v.bytes ?? 0), 0);
  return (
    <Box flexDirection="column">
      <Text color={theme.ok} wrap="truncate">
        ✓ backup {m.name} saved as snapshot {result.snapshot.id.slice(0, 8)} in{' '}
        {formatDuration(m.durationMs)}
      </Text>
      <Text wrap="truncate">
        {`  ${m.resources.total} objects of ${Object.keys(m.resources.byKind).length} kinds, ${m.volumes.length} volume(s) (${formatBytes(volumeBytes)}), ${m.images.length} image(s)`}
      </Text>
      <Text wrap="truncate">
        {`  new ${formatBytes(st.bytesAdded)} of ${formatBytes(st.bytesTotal)} (${reused}% already in the repository)`}
      </Text>
      {result.warnings.map((w, i) => (
        <Text key={i} color={theme.warn} wrap="truncate">
          {`  warning: ${w}`}
        </Text>
      ))}
    </Box>
  );
}
