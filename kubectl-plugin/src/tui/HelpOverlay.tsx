/** `?`: the keys of every screen, and what the namespace statuses mean. */
import { Box, Text } from 'ink';
import { useTheme } from './theme.js';

const SECTIONS: Array<[string, Array<[string, string]>]> = [
  [
    'Namespaces',
    [
      ['↑ ↓  j k', 'move'],
      ['Enter', 'open the namespace'],
      ['/', 'filter by name (Esc clears)'],
      ['b', 'back up the selected namespace now'],
    ],
  ],
  [
    'Namespace',
    [
      ['Tab  1 2 3', 'backups, restore history, audit trail'],
      ['b', 'back up now (Esc or Ctrl-C cancels; nothing partial is kept)'],
      ['r', 'restore the selected backup (wizard, dry run before anything changes)'],
      ['v', 'verify the selected backup (optionally with a restore test)'],
      ['d', 'delete the selected backup (asks first)'],
      ['Esc', 'back to the namespaces'],
    ],
  ],
  [
    'Everywhere',
    [
      ['?', 'this help'],
      ['R', 'reload from the cluster and the repository'],
      ['q  Ctrl-C', 'quit (Ctrl-C cancels a running operation first)'],
    ],
  ],
];

export function HelpOverlay(props: { height: number; rpo: string }) {
  const theme = useTheme();
  return (
    <Box flexDirection="column" height={props.height}>
      <Text bold>Keys</Text>
      {SECTIONS.map(([title, keys]) => (
        <Box key={title} flexDirection="column">
          <Text color={theme.accent}>{title}</Text>
          {keys.map(([k, what]) => (
            <Text key={k} wrap="truncate">
              {`  ${k.padEnd(12)}${what}`}
            </Text>
          ))}
        </Box>
      ))}
      <Text wrap="truncate">
        {`Status: `}
        <Text color={theme.ok}>ok</Text>
        {` backed up within the RPO (${props.rpo}), `}
        <Text color={theme.warn}>stale</Text>
        {' older, '}
        <Text color={theme.bad}>failed</Text>
        {' last attempt failed, '}
        <Text color={theme.warn}>never</Text>
      </Text>
      <Text color={theme.muted}>Esc, ? or q closes this help</Text>
    </Box>
  );
}
