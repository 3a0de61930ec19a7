/** The details pane of the selected backup: resources by kind, volumes, images with digests, warnings. */
import type { BackupDescription } from '@kubectl-backup/k8s';
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import { describeError } from '../output/errors.js';
import { formatBytes, formatDuration } from '../output/format.js';
import type { Loaded } from './hooks.js';
import { scheduleOf } from './status.js';
import { useTheme, type Theme } from './theme.js';

export interface DetailLine {
  text: string;
  color?: string;
  bold?: boolean;
}

const short = (digest: string | undefined) =>
  digest ? digest.replace(/^sha256:/, '').slice(0, 12) : 'no digest';

/** The pane as lines (the component shows as many as fit). */
export function detailLines(d: BackupDescription, theme: Theme): DetailLine[] {
  const s = d.summary;
  const schedule = scheduleOf(s.tags);
  const out: DetailLine[] = [
    {
      text: `${s.name}  snapshot ${s.snapshot.slice(0, 8)}  ${schedule ? `schedule ${schedule}` : 'manual'}  took ${formatDuration(d.when.durationMs)}  by ${d.who.actor}`,
      bold: true,
    },
  ];
  const kinds = d.resources.map((k) => `${k.kind} ${k.count}`).join(', ');
  out.push({ text: `Resources (${s.resources}): ${kinds || 'none'}` });
  if (d.dependencies.length)
    out.push({
      text: `  with cluster-scoped: ${d.dependencies.map((x) => `${x.kind}/${x.name}`).join(', ')}`,
      color: theme.muted,
    });
  if (!d.volumes.length) out.push({ text: 'Volumes: none' });
  else {
    out.push({ text: `Volumes (${d.volumes.length}):` });
    for (const v of d.volumes)
      out.push({
        text: `  ${v.pvc}  ${formatBytes(v.bytes ?? 0)}  ${v.method}${v.capacity ? `  of ${v.capacity}` : ''}${v.error ? `  ERROR ${v.error}` : ''}`,
        ...(v.error ? { color: theme.bad } : {}),
      });
  }
  const images = new Map<string, string | undefined>();
  for (const i of d.images) images.set(i.image, i.digest ?? images.get(i.image));
  if (!images.size) out.push({ text: 'Images: none' });
  else {
    out.push({ text: `Images (${images.size}):` });
    for (const [image, digest] of images)
      out.push({ text: `  ${image}  @${short(digest)}`, ...(digest ? {} : { color: theme.warn }) });
  }
  if (d.warnings.length) {
    out.push({ text: `Warnings (${d.warnings.length}):`, color: theme.warn });
    for (const w of d.warnings) out.push({ text: `  ${w}`, color: theme.warn });
  } else out.push({ text: 'Warnings: none', color: theme.muted });
  return out;
}

export function BackupDetails(props: {
  description: Loaded<BackupDescription | undefined> | undefined;
  height: number;
}) {
  const theme = useTheme();
  const d = props.description;
  if (!d) return <Text color={theme.muted}>no backup selected</Text>;
  if (d.state === 'error')
    return (
      <Text color={theme.bad} wrap="truncate">
        error: {describeError(d.error)}
      </Text>
    );
  if (!d.data)
    return (
      <Text color={theme.muted}>
        <Spinner /> reading the backup…
      </Text>
    );
  const lines = detailLines(d.data, theme);
  const shown = lines.length > props.height ? lines.slice(0, props.height - 1) : lines;
  return (
    <Box flexDirection="column">
      {shown.map((l, i) => (
        <Text key={i} color={l.color} bold={l.bold} wrap="truncate">
          {l.text}
        </Text>
      ))}
      {shown.length < lines.length && (
        <Text
          color={theme.muted}
        >{`  … ${lines.length - shown.length} more lines (kubectl backup describe)`}</Text>
      )}
    </Box>
  );
}
