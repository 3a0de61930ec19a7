/** `d`: delete a backup from the repository after a y/N confirmation (audited). */
import type { BackupSummary } from '@kubectl-backup/k8s';
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import { describeError } from '../output/errors.js';
import { formatBytes, formatTime } from '../output/format.js';
import { isCtrlC, type TaskProps } from './BackupRun.js';
import { useOperation } from './operation.js';
import { useTheme } from './theme.js';
import { useKeys } from './hooks.js';

export function DeleteConfirm(props: TaskProps & { backup: BackupSummary }) {
  const theme = useTheme();
  const op = useOperation<{ warnings: string[] }>();
  const b = props.backup;
  const s = op.state;
  useKeys(
    (input, key) => {
      if (s.status === 'running') return;
      if (isCtrlC(input, key)) return props.onQuit();
      if (s.status === 'idle') {
        if (input === 'y' || input === 'Y') op.start(() => props.service.deleteBackup(b.name));
        else if (input === 'n' || input === 'N' || key.escape || key.return) props.onDone(false);
      } else if (key.escape || key.return) props.onDone(s.status === 'done');
    },
    { isActive: props.active },
  );
  return (
    <Box flexDirection="column" height={props.height}>
      <Text bold>Delete backup {b.name}</Text>
      <Text wrap="truncate">
        {`  namespace ${b.namespace}, ${formatTime(b.time)}, snapshot ${b.snapshot.slice(0, 8)}, ${b.resources} objects, ${formatBytes(b.sizeTotal)}`}
      </Text>
      <Text color={theme.muted}>
        {'  restore and verify records stay; the data is freed by the next "repo prune"'}
      </Text>
      <Text> </Text>
      {s.status === 'idle' && (
        <Text>
          {'Delete it? '}
          <Text bold>y</Text>
          {' to delete, '}
          <Text bold>n</Text>
          {' or Esc to keep it'}
        </Text>
      )}
      {s.status === 'running' && (
        <Text>
          <Spinner /> deleting…
        </Text>
      )}
      {s.status === 'done' && (
        <Box flexDirection="column">
          <Text color={theme.ok}>{`✓ deleted backup ${b.name}`}</Text>
          {s.result.warnings.map((w, i) => (
            <Text key={i} color={theme.warn}>{`warning: ${w}`}</Text>
          ))}
        </Box>
      )}
      {(s.status === 'failed' || s.status === 'canceled') && (
        <Text color={theme.bad} wrap="wrap">
          delete failed: {describeError(s.error)}
        </Text>
      )}
      {s.status !== 'idle' && s.status !== 'running' && (
        <Text color={theme.muted}>Enter or Esc to go back</Text>
      )}
    </Box>
  );
}
