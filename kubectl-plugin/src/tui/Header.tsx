/** Who and where: context/cluster, the user as the API server sees it, repository, lock/audit. */
import { Box, Text } from 'ink';
import type { Loaded } from './hooks.js';
import type { HeaderInfo } from './service.js';
import { useTheme } from './theme.js';

export function Header(props: { info: Loaded<HeaderInfo>; width: number; rpo: string }) {
  const theme = useTheme();
  const info = props.info.data;
  const rule = '─'.repeat(Math.max(0, props.width));
  if (!info)
    return (
      <Box flexDirection="column">
        <Text wrap="truncate">
          <Text bold>kubectl backup</Text>
          {props.info.state === 'error' ? (
            <Text color={theme.bad}> cannot reach the cluster or repository</Text>
          ) : (
            <Text color={theme.muted}> connecting…</Text>
          )}
        </Text>
        <Text> </Text>
        <Text color={theme.muted}>{rule}</Text>
      </Box>
    );
  const h = info.health;
  const lockColor = h.lock === 'locked' ? theme.warn : h.lock === 'stale' ? theme.bad : theme.ok;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>kubectl backup</Text>
        {'  context '}
        <Text color={theme.accent}>{info.context}</Text>
        {info.cluster && info.cluster !== info.context ? ` (${info.cluster})` : ''}
        {'  user '}
        <Text color={theme.accent}>{info.user}</Text>
        {info.userSource === 'kubeconfig' ? ' (kubeconfig)' : ''}
      </Text>
      <Text wrap="truncate">
        {'repo '}
        <Text color={theme.accent}>{info.repository}</Text>
        {'  '}
        <Text color={lockColor}>{h.lock === 'stale' ? 'stale lock' : h.lock}</Text>
        {'  audit '}
        {h.audit.ok ? (
          <Text color={theme.ok}>chain ok ({h.audit.entries})</Text>
        ) : (
          <Text color={theme.bad}>BROKEN at #{h.audit.firstBad?.seq ?? '?'}</Text>
        )}
        {`  RPO ${props.rpo}`}
      </Text>
      <Text color={theme.muted}>{rule}</Text>
    </Box>
  );
}
