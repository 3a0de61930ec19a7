/** What the demo prints at the end: the lines a person needs to go on by hand. */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { DEMO_PASSWORD, type DemoPaths } from './paths.js';
import { say } from './say.js';

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir || '.', command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function printHints(paths: DemoPaths, options: { wait: boolean }): void {
  say(
    options.wait
      ? '\nThe cluster keeps running until Ctrl-C. Go on by hand in another terminal:\n'
      : '\nWithout --no-wait the cluster keeps running until Ctrl-C, to go on by hand in another terminal:\n',
  );
  say(`  export KUBECONFIG=${paths.kubeconfig}`);
  say(
    `  export KUBECTL_BACKUP_REPOSITORY=${paths.repository} KUBECTL_BACKUP_PASSWORD=${DEMO_PASSWORD}`,
  );
  say(`  export PATH=${paths.binDir}:$PATH`);
  say('  kubectl get ns');
  say('  kubectl backup list -A');
  say('  kubectl backup tui            # the terminal UI (plain `kubectl backup` on a terminal)');
  say();
  if (!onPath('kubectl'))
    say(
      'kubectl is not on your PATH: `kubectl-backup …` is the same command as `kubectl backup …`.',
    );
  say(
    'Against a real cluster the same commands work with your own kubeconfig and repository (and a real password).',
  );
}
