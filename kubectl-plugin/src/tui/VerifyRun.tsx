/** `v`: verify a backup — its items, all its data, or a restore test into a scratch namespace. */
import type { BackupSummary, VerifyResult } from '@kubectl-backup/k8s';
import { Box, Text } from 'ink';
import { describeError } from '../output/errors.js';
import { isCtrlC, type TaskProps } from './BackupRun.js';
import { Choice } from './Choice.js';
import { useOperation } from './operation.js';
import { ProgressView } from './ProgressView.js';
import type { VerifyMode } from './service.js';
import { useTheme } from './theme.js';
import { useKeys } from './hooks.js';

export function VerifyResultView(props: { result: VerifyResult; height: number }) {
  const theme = useTheme();
  const r = props.result;
  const lines: Array<{ text: string; color?: string }> = [];
  for (const c of r.checks) {
    lines.push({
      text: `${c.ok ? '✓' : '✗'} ${c.name}${c.detail ? `: ${c.detail}` : ''}`,
      color: c.ok ? theme.ok : theme.bad,
    });
    for (const p of c.problems ?? []) lines.push({ text: `    ${p}`, color: theme.bad });
  }
  for (const w of r.warnings) lines.push({ text: `warning: ${w}`, color: theme.warn });
  const room = Math.max(1, props.height - 2);
  return (
    <Box flexDirection="column">
      <Text bold color={r.result === 'passed' ? theme.ok : theme.bad}>
        {`verification ${r.result}`}
        {r.scratchNamespace ? ` (restore test in ${r.scratchNamespace})` : ''}
      </Text>
      {lines.slice(0, room).map((l, i) => (
        <Text key={i} color={l.color} wrap="truncate">
          {l.text}
        </Text>
      ))}
      {lines.length > room && <Text color={theme.muted}>{`… ${lines.length - room} more`}</Text>}
    </Box>
  );
}

export function VerifyRun(props: TaskProps & { backup: BackupSummary }) {
  const theme = useTheme();
  const op = useOperation<VerifyResult>();
  const s = op.state;
  useKeys(
    (input, key) => {
      if (s.status === 'running') {
        if (key.escape || isCtrlC(input, key)) op.cancel();
        return;
      }
      if (isCtrlC(input, key)) props.onQuit();
      else if (key.escape || (s.status !== 'idle' && key.return)) props.onDone(s.status === 'done');
    },
    { isActive: props.active },
  );
  const title = `Verify ${props.backup.name}`;
  if (s.status === 'idle')
    return (
      <Box flexDirection="column" height={props.height}>
        <Text bold>{title}</Text>
        <Text>What to check? (a verify record is written either way)</Text>
        <Choice<VerifyMode>
          active={props.active}
          items={[
            {
              label: 'quick',
              value: 'quick',
              hint: "the backup's documents and the items it lists",
            },
            { label: 'read all data', value: 'read-data', hint: 'every item read to its end' },
            {
              label: 'restore test',
              value: 'restore-test',
              hint: 'read all data, restore into a scratch namespace, compare, delete it',
            },
          ]}
          onSelect={(mode) => op.start((o) => props.service.verify(props.backup.name, mode, o))}
        />
        <Text color={theme.muted}>Esc to go back</Text>
      </Box>
    );
  if (s.status === 'running')
    return (
      <ProgressView
        title={`${title}   (Esc cancels)`}
        state={op.progress}
        now={op.now}
        width={props.width}
        height={props.height}
        {...(s.cancelling ? { status: 'cancelling…' } : {})}
      />
    );
  return (
    <Box flexDirection="column" height={props.height}>
      <Text bold>{title}</Text>
      {s.status === 'done' ? (
        <VerifyResultView result={s.result} height={props.height - 3} />
      ) : (
        <Text color={s.status === 'failed' ? theme.bad : theme.warn} wrap="wrap">
          {s.status === 'failed' ? 'verification could not run' : 'verification canceled'}:{' '}
          {describeError(s.error)}
        </Text>
      )}
      <Text color={theme.muted}>Enter or Esc to go back</Text>
    </Box>
  );
}
