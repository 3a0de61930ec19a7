/** A choice between a few options (ink-select-input), drawn with the theme's colours. */
import { Box, Text } from 'ink';
import SelectInput from 'ink-select-input';
import { useTheme } from './theme.js';

export interface ChoiceItem<V> {
  label: string;
  value: V;
  /** Shown dimmed after the label. */
  hint?: string;
}

export function Choice<V extends string>(props: {
  items: ChoiceItem<V>[];
  initial?: V;
  active: boolean;
  onSelect(value: V): void;
}) {
  const theme = useTheme();
  const hints = new Map(props.items.map((i) => [i.label, i.hint]));
  const initialIndex = Math.max(
    0,
    props.items.findIndex((i) => i.value === props.initial),
  );
  return (
    <SelectInput
      items={props.items.map((i) => ({ key: i.value, label: i.label, value: i.value }))}
      initialIndex={initialIndex}
      isFocused={props.active}
      onSelect={(item) => props.onSelect(item.value)}
      indicatorComponent={({ isSelected }) => (
        <Box marginRight={1}>
          <Text color={theme.accent}>{isSelected ? '›' : ' '}</Text>
        </Box>
      )}
      itemComponent={({ isSelected, label }) => (
        <Text bold={isSelected} color={isSelected ? theme.accent : undefined}>
          {label}
          {hints.get(label) ? <Text color={theme.muted}>{`  ${hints.get(label)}`}</Text> : null}
        </Text>
      )}
    />
  );
}
