/**
 * Live progress of a backup, restore or verification: phases, counts, a byte bar with rate and
 * ETA, one bar per volume when the events name them, dedup so far, the latest warnings.
 */
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import type { ReactElement } from 'react';
import { formatBytes, formatDuration } from '../output/format.js';
import { dedupRatio, eta, rate, type ProgressState } from './progress-model.js';
import { useTheme } from './theme.js';

/** `█████░░░░░` of `width` cells for a ratio in 0..1 (undefined: unknown, dotted). */
export function bar(ratio: number | undefined, width: number): string {
  if (ratio === undefined) return '·'.repeat(width);
  const full = Math.round(Math.max(0, Math.min(1, ratio)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

const PHASE_NAMES: Record<string, string> = {
  start: 'starting',
  connect: 'connecting',
  discover: 'discovering types',
  capture: 'listing resources',
  hooks: 'running hooks',
  volumes: 'preparing volumes',
  save: 'saving',
  plan: 'planning',
  preflight: 'checking permissions',
  apply: 'applying',
  wait: 'waiting for workloads',
  record: 'writing the record',
  done: 'done',
};

export interface ProgressViewProps {
  title: string;
  state: ProgressState;
  now: number;
  width: number;
  height: number;
  /** Shown under the title, e.g. "cancelling…". */
  status?: string;
}

export function ProgressView(props: ProgressViewProps) {
  const theme = useTheme();
  const { state: s, now } = props;
  const barWidth = Math.max(10, Math.min(40, props.width - 54));
  const lines: ReactElement[] = [];
  if (s.typesListed)
    lines.push(
      <Text key="types" wrap="truncate">
        {`resource types listed  ${s.typesListed.done}/${s.typesListed.total}`}
      </Text>,
    );
  if (s.count && s.count.phase !== 'capture')
    lines.push(
      <Text key="count" wrap="truncate">
        {`${s.count.phase === 'apply' ? 'objects applied' : s.count.phase === 'save' ? 'items saved' : PHASE_NAMES[s.count.phase]}  `}
        {bar(s.count.total ? s.count.done / s.count.total : undefined, barWidth)}
        {`  ${s.count.done}/${s.count.total}`}
      </Text>,
    );
  if (s.bytes) {
    const r = rate(s.bytes.done, s.bytes.since, now);
    const left = eta(s.bytes.done, s.bytes.total, r);
    lines.push(
      <Text key="bytes" wrap="truncate">
        {'data  '}
        {bar(s.bytes.total > s.bytes.done ? s.bytes.done / s.bytes.total : undefined, barWidth)}
        {`  ${formatBytes(s.bytes.done)}${s.bytes.total > s.bytes.done ? ` of ${formatBytes(s.bytes.total)}` : ''}`}
        {`  ${r ? `${formatBytes(Math.round(r))}/s` : '-'}  ETA ${left === undefined ? '-' : formatDuration(left)}`}
      </Text>,
    );
  }
  for (const v of s.volumes) {
    const r = rate(v.bytes, v.startedAt, v.done ? v.updatedAt : now);
    lines.push(
      <Text key={`vol-${v.name}`} wrap="truncate" color={v.done ? theme.ok : undefined}>
        {`  ${v.name.padEnd(16).slice(0, 16)} `}
        {bar(v.done ? 1 : undefined, Math.max(6, barWidth - 12))}
        {`  ${formatBytes(v.bytes)}  ${r ? `${formatBytes(Math.round(r))}/s` : '-'}${v.done ? '  done' : ''}`}
      </Text>,
    );
  }
  const dedup = dedupRatio(s);
  if (dedup !== undefined)
    lines.push(
      <Text key="dedup" wrap="truncate">
        {`dedup so far  ${Math.round(dedup * 100)}% already in the repository (new ${formatBytes(s.added ?? 0)})`}
      </Text>,
    );
  const warningRoom = Math.max(0, props.height - 4 - lines.length);
  const warnings = s.warnings.slice(-warningRoom);
  return (
    <Box flexDirection="column" height={props.height}>
      <Text bold wrap="truncate">
        {props.title}
      </Text>
      <Text wrap="truncate">
        {s.phase === 'done' ? (
          <Text color={theme.ok}>✓</Text>
        ) : (
          <Text color={theme.accent}>
            <Spinner />
          </Text>
        )}
        {` ${PHASE_NAMES[s.phase] ?? s.phase}: ${s.message.replace(/\s*\n\s*/g, ' ')}`}
        <Text color={theme.muted}>{`  ${formatDuration(now - s.startedAt)}`}</Text>
      </Text>
      {props.status && <Text color={theme.warn}>{props.status}</Text>}
      {lines}
      {warnings.map((w, i) => (
        <Text key={`w${i}`} color={theme.warn} wrap="truncate">
          warning: {w}
        </Text>
      ))}
    </Box>
  );
}
