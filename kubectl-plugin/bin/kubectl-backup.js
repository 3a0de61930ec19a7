#!/usr/bin/env node
// The installed command. It loads the built program, so npm can link it before the first build.
// The commands that chunk or restore data (`create`, `mover backup`, `mover restore`) start their
// worker threads first, so the threads boot while the program loads
// (@kubectl-backup/engine/prestart); only an optimisation, so nothing here may stop the program.
const args = process.argv.slice(2);
const at = (word) => args.indexOf(word);
const dataCommand =
  !args.includes('--help') &&
  !args.includes('-h') &&
  ((at('mover') >= 0 && ['backup', 'restore'].includes(args[at('mover') + 1])) ||
    (at('create') >= 0 && args[at('create') - 1] !== 'schedule'));
if (dataCommand) {
  try {
    const { prestartWorkers } = await import('@kubectl-backup/engine/prestart');
    prestartWorkers();
  } catch {
    // the program starts its threads itself
  }
}
await import('../dist/bin.js');
