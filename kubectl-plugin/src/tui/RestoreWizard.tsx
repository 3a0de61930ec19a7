/**
 * `r`: the restore wizard. Target namespace → resource filter → existing-resource policy →
 * volumes on/off → dry-run plan and diff → typed confirmation → live progress → result per
 * object. Esc goes one step back (and cancels a running restore).
 */
import type { BackupSummary, ExistingPolicy, RestoreNamespaceResult } from '@kubectl-backup/k8s';
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import TextInput from 'ink-text-input';
import { useState } from 'react';
import { describeError } from '../output/errors.js';
import { isCtrlC, type TaskProps } from './BackupRun.js';
import { Choice } from './Choice.js';
import { useOperation } from './operation.js';
import { ProgressView } from './ProgressView.js';
import { RestorePlanView } from './RestorePlanView.js';
import { RestoreResultView } from './RestoreResultView.js';
import type { RestorePreview, RestoreRequest } from './service.js';
import { useTheme } from './theme.js';
import { useKeys } from './hooks.js';

export const STEPS = ['target', 'resources', 'existing', 'volumes', 'plan', 'restore'] as const;
type Step = (typeof STEPS)[number];

const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** `deployments,services -secrets` → include deployments and services, exclude secrets. */
export function parseResourceFilter(text: string): { include: string[]; exclude: string[] } {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const token of text.split(/[\s,]+/).filter(Boolean)) {
    if (token.startsWith('-') || token.startsWith('!')) {
      if (token.length > 1) exclude.push(token.slice(1));
    } else include.push(token);
  }
  return { include, exclude };
}

export function RestoreWizard(props: TaskProps & { backup: BackupSummary }) {
  const theme = useTheme();
  const { backup, service } = props;
  const [step, setStep] = useState<Step>('target');
  const [target, setTarget] = useState(backup.namespace);
  const [resources, setResources] = useState('');
  const [existing, setExisting] = useState<ExistingPolicy>('skip');
  const [volumes, setVolumes] = useState(true);
  const [problem, setProblem] = useState<string>();
  const planning = useOperation<RestorePreview>();
  const restoring = useOperation<RestoreNamespaceResult>();

  const request = (): RestoreRequest => {
    const filter = parseResourceFilter(resources);
    return {
      backup: backup.name,
      targetNamespace: target.trim(),
      includeResources: filter.include,
      excludeResources: filter.exclude,
      existing,
      volumes,
    };
  };
  const goto = (s: Step) => {
    setProblem(undefined);
    setStep(s);
  };
  const plan = (withVolumes: boolean) => {
    setVolumes(withVolumes);
    goto('plan');
    const r = { ...request(), volumes: withVolumes };
    planning.start((o) => service.planRestore(r, o.signal));
  };

  const running = restoring.state.status === 'running' || planning.state.status === 'running';
  const finished = step === 'restore' && restoring.state.status !== 'running';
  useKeys(
    (input, key) => {
      if (running) {
        if (key.escape || isCtrlC(input, key)) {
          restoring.cancel();
          planning.cancel();
          if (step === 'plan') goto('volumes');
        }
        return;
      }
      if (isCtrlC(input, key)) return props.onQuit();
      if (finished) {
        if (key.escape || key.return) props.onDone(true);
        return;
      }
      if (!key.escape) return;
      const i = STEPS.indexOf(step);
      if (i === 0) props.onDone(false);
      else goto(STEPS[i - 1]!);
    },
    { isActive: props.active },
  );

  const stepBar = (
    <Box flexDirection="column">
      <Text bold wrap="truncate">{`Restore ${backup.name} (namespace ${backup.namespace})`}</Text>
      <Text wrap="truncate">
        {STEPS.map((s, i) => (
          <Text key={s}>
            {i > 0 ? <Text color={theme.muted}> › </Text> : ''}
            <Text inverse={s === step} color={s === step ? undefined : theme.muted}>
              {s}
            </Text>
          </Text>
        ))}
      </Text>
    </Box>
  );
  const body = props.height - 3;
  let content;
  switch (step) {
    case 'target':
      content = (
        <Box flexDirection="column">
          <Text>Restore into which namespace? (it is created if missing)</Text>
          <Text>
            {'› '}
            <TextInput
              value={target}
              focus={props.active}
              onChange={setTarget}
              onSubmit={(v) => {
                if (NAMESPACE_RE.test(v.trim())) goto('resources');
                else
                  setProblem(
                    `"${v}" is not a valid namespace name (lower-case letters, digits, -)`,
                  );
              }}
            />
          </Text>
          <Text color={theme.muted}>{`the backup is of namespace ${backup.namespace}`}</Text>
        </Box>
      );
      break;
    case 'resources':
      content = (
        <Box flexDirection="column">
          <Text>
            Which resources? Empty: all. e.g. "deployments,services" or "-secrets" to leave out
          </Text>
          <Text>
            {'› '}
            <TextInput
              value={resources}
              focus={props.active}
              onChange={setResources}
              onSubmit={() => goto('existing')}
            />
          </Text>
        </Box>
      );
      break;
    case 'existing':
      content = (
        <Box flexDirection="column">
          <Text>Objects that exist already in {target}:</Text>
          <Choice<ExistingPolicy>
            active={props.active}
            initial={existing}
            items={[
              { label: 'skip', value: 'skip', hint: 'leave them as they are' },
              { label: 'update', value: 'update', hint: 'server-side apply the backup over them' },
              { label: 'recreate', value: 'recreate', hint: 'delete and create them' },
            ]}
            onSelect={(v) => {
              setExisting(v);
              goto('volumes');
            }}
          />
        </Box>
      );
      break;
    case 'volumes':
      content = (
        <Box flexDirection="column">
          <Text>{`Restore PVC data? (the backup has ${backup.volumes} volume(s))`}</Text>
          <Choice<'yes' | 'no'>
            active={props.active}
            initial={volumes ? 'yes' : 'no'}
            items={[
              { label: 'yes', value: 'yes', hint: 'objects and volume data' },
              { label: 'no', value: 'no', hint: 'objects only' },
            ]}
            onSelect={(v) => plan(v === 'yes')}
          />
        </Box>
      );
      break;
    case 'plan': {
      const s = planning.state;
      content =
        s.status === 'done' ? (
          <RestorePlanView
            preview={s.result}
            width={props.width}
            height={body}
            active={props.active}
            onConfirm={() => {
              goto('restore');
              const r = request();
              restoring.start((o) => service.restore(r, o));
            }}
          />
        ) : s.status === 'failed' ? (
          <Text color={theme.bad} wrap="wrap">
            the dry run failed: {describeError(s.error)} (Esc to go back)
          </Text>
        ) : (
          <Text color={theme.muted}>
            <Spinner /> planning the restore (dry run: nothing changes)…
          </Text>
        );
      break;
    }
    case 'restore': {
      const s = restoring.state;
      content =
        s.status === 'done' ? (
          <RestoreResultView
            result={s.result}
            width={props.width}
            height={body}
            active={props.active}
          />
        ) : s.status === 'failed' || s.status === 'canceled' ? (
          <Box flexDirection="column">
            <Text color={s.status === 'failed' ? theme.bad : theme.warn} wrap="wrap">
              {s.status === 'failed' ? 'the restore failed' : 'the restore was canceled'}:{' '}
              {describeError(s.error)}
            </Text>
            <Text color={theme.muted}>objects restored before the stop stay; Enter to go back</Text>
          </Box>
        ) : (
          <ProgressView
            title={`Restoring ${backup.name} into ${target}   (Esc cancels)`}
            state={restoring.progress}
            now={restoring.now}
            width={props.width}
            height={body}
            {...(s.status === 'running' && s.cancelling ? { status: 'cancelling…' } : {})}
          />
        );
      break;
    }
  }
  return (
    <Box flexDirection="column" height={props.height}>
      {stepBar}
      {problem ? <Text color={theme.bad}>{problem}</Text> : <Text> </Text>}
      {content}
    </Box>
  );
}
