/** The keys that work now, on the last line. */
import { Text } from 'ink';
import { useTheme } from './theme.js';

export type KeyHint = [key: string, label: string];

export function Footer(props: { keys: KeyHint[]; width: number; message?: string }) {
  const theme = useTheme();
  if (props.message)
    return (
      <Text wrap="truncate" color={theme.warn}>
        {props.message}
      </Text>
    );
  return (
    <Text wrap="truncate">
      {props.keys.map(([key, label], i) => (
        <Text key={key}>
          {i > 0 ? '  ' : ''}
          <Text bold color={theme.accent}>
            {key}
          </Text>
          {` ${label}`}
        </Text>
      ))}
    </Text>
  );
}
