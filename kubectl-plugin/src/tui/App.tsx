/**
 * The full-screen app: header, the screen in front (namespaces, one namespace, or a task such
 * as a backup or the restore wizard), and the footer with the keys that work there.
 */
import type { BackupSummary } from '@kubectl-backup/k8s';
import { Box, useApp } from 'ink';
import { useEffect, useMemo, useState } from 'react';
import { BackupRun } from './BackupRun.js';
import { DeleteConfirm } from './DeleteConfirm.js';
import { Footer, type KeyHint } from './Footer.js';
import { Header } from './Header.js';
import { HelpOverlay } from './HelpOverlay.js';
import { useKeys, useLoader, useTerminalSize, type Size } from './hooks.js';
import { NamespaceList } from './NamespaceList.js';
import { NamespaceView } from './NamespaceView.js';
import { OperationContext, type OperationHost } from './operation.js';
import { RestoreWizard } from './RestoreWizard.js';
import type { TuiService } from './service.js';
import { ThemeContext, type Theme } from './theme.js';
import { VerifyRun } from './VerifyRun.js';

export interface AppProps {
  service: TuiService;
  /** The RPO as the user wrote it (the service applies it). */
  rpo: string;
  theme: Theme;
  /** Open this namespace first. */
  namespace?: string;
  /** Fixed size (tests); default: the terminal's, following resizes. */
  size?: Size;
  now?: () => number;
  /** The process's SIGINT/SIGTERM signal: cancel what runs, then quit. */
  signal?: AbortSignal;
}

type Task =
  | { kind: 'help' }
  | { kind: 'backup'; namespace: string }
  | { kind: 'restore'; backup: BackupSummary }
  | { kind: 'verify'; backup: BackupSummary }
  | { kind: 'delete'; backup: BackupSummary };

const HEADER_LINES = 3;

function footerKeys(
  task: Task | undefined,
  namespace: string | undefined,
  typing: boolean,
): KeyHint[] {
  switch (task?.kind) {
    case 'help':
      return [['Esc', 'close']];
    case 'backup':
      return [
        ['Esc', 'cancel / back'],
        ['Ctrl-C', 'cancel / quit'],
      ];
    case 'restore':
      return [
        ['Enter', 'next'],
        ['↑↓', 'choose'],
        ['Esc', 'back / cancel'],
        ['Ctrl-C', 'quit'],
      ];
    case 'verify':
      return [
        ['↑↓', 'choose'],
        ['Enter', 'start'],
        ['Esc', 'back / cancel'],
      ];
    case 'delete':
      return [
        ['y', 'delete'],
        ['n', 'keep'],
      ];
  }
  if (typing)
    return [
      ['Enter', 'open'],
      ['↑↓', 'move'],
      ['Esc', 'clear filter'],
    ];
  if (namespace)
    return [
      ['Esc', 'back'],
      ['Tab', 'pane'],
      ['b', 'backup'],
      ['r', 'restore'],
      ['v', 'verify'],
      ['d', 'delete'],
      ['?', 'help'],
      ['q', 'quit'],
    ];
  return [
    ['↑↓', 'move'],
    ['Enter', 'open'],
    ['/', 'filter'],
    ['b', 'back up'],
    ['?', 'help'],
    ['q', 'quit'],
  ];
}

export function App(props: AppProps) {
  const { service } = props;
  const { exit } = useApp();
  const size = useTerminalSize(props.size);
  const now = (props.now ?? Date.now)();
  const [namespace, setNamespace] = useState(props.namespace);
  const [task, setTask] = useState<Task>();
  const [typing, setTyping] = useState(false);
  const [busy, setBusy] = useState(false);
  const [aborted, setAborted] = useState(props.signal?.aborted ?? false);
  const [generation, setGeneration] = useState(0);

  const [header] = useLoader((signal) => service.header(signal), `header/${generation}`);
  const [listing] = useLoader((signal) => service.namespaces(signal), `list/${generation}`);
  const [details] = useLoader(
    (signal) => (namespace ? service.namespace(namespace, signal) : Promise.resolve(undefined)),
    `${namespace ?? ''}/${generation}`,
  );

  useEffect(() => {
    const signal = props.signal;
    if (!signal || signal.aborted) return;
    const onAbort = () => setAborted(true);
    signal.addEventListener('abort', onAbort);
    return () => signal.removeEventListener('abort', onAbort);
  }, [props.signal]);
  useEffect(() => {
    if (aborted && !busy) exit();
  }, [aborted, busy, exit]);

  const host = useMemo<OperationHost>(
    () => ({ signal: props.signal, setBusy, now: props.now ?? Date.now }),
    [props.signal, props.now],
  );

  useKeys(
    (input, key) => {
      if (task?.kind === 'help') {
        if (key.escape || input === '?' || input === 'q') setTask(undefined);
        else if (key.ctrl && input === 'c') exit();
        return;
      }
      if (input === 'q' || (key.ctrl && input === 'c')) exit();
      else if (input === '?') setTask({ kind: 'help' });
      else if (input === 'R') setGeneration((g) => g + 1);
    },
    { isActive: !typing && (!task || task.kind === 'help') },
  );

  const bodyHeight = Math.max(4, size.rows - 1 - HEADER_LINES - 1);
  const width = size.columns;
  const done = (changed: boolean) => {
    setTask(undefined);
    if (changed) setGeneration((g) => g + 1);
  };
  const taskProps = {
    service,
    width,
    height: bodyHeight,
    active: true,
    onDone: done,
    onQuit: exit,
  };
  const row = listing.data?.rows.find((r) => r.name === namespace);

  // the list stays mounted (hidden) under the other screens: its filter and selection stay
  const list = (
    <Box display={task || namespace ? 'none' : 'flex'} flexDirection="column">
      <NamespaceList
        listing={listing}
        width={width}
        height={bodyHeight}
        active={!task && !namespace}
        now={now}
        onOpen={setNamespace}
        onBackup={(r) => setTask({ kind: 'backup', namespace: r.name })}
        onTyping={setTyping}
      />
    </Box>
  );
  // so does the namespace's screen under a task (its pane and selection stay)
  const view = namespace && (
    <Box display={task ? 'none' : 'flex'} flexDirection="column">
      <NamespaceView
        key={namespace}
        namespace={namespace}
        {...(row ? { row } : {})}
        details={details}
        describe={(b) => service.describe(b)}
        width={width}
        height={bodyHeight}
        active={!task}
        onBack={() => setNamespace(undefined)}
        onBackup={() => setTask({ kind: 'backup', namespace })}
        onRestore={(backup) => setTask({ kind: 'restore', backup })}
        onVerify={(backup) => setTask({ kind: 'verify', backup })}
        onDelete={(backup) => setTask({ kind: 'delete', backup })}
      />
    </Box>
  );
  let body;
  if (task?.kind === 'help') body = <HelpOverlay height={bodyHeight} rpo={props.rpo} />;
  else if (task?.kind === 'backup') body = <BackupRun {...taskProps} namespace={task.namespace} />;
  else if (task?.kind === 'restore') body = <RestoreWizard {...taskProps} backup={task.backup} />;
  else if (task?.kind === 'verify') body = <VerifyRun {...taskProps} backup={task.backup} />;
  else if (task?.kind === 'delete') body = <DeleteConfirm {...taskProps} backup={task.backup} />;
  return (
    <ThemeContext.Provider value={props.theme}>
      <OperationContext.Provider value={host}>
        <Box flexDirection="column" width={width} height={size.rows - 1}>
          <Header info={header} width={width} rpo={props.rpo} />
          <Box height={bodyHeight} flexDirection="column">
            {list}
            {view}
            {body}
          </Box>
          <Footer
            keys={footerKeys(task, namespace, typing)}
            width={width}
            {...(aborted && busy
              ? { message: 'stopping: waiting for the operation to clean up…' }
              : {})}
          />
        </Box>
      </OperationContext.Provider>
    </ThemeContext.Provider>
  );
}
