#!/usr/bin/env node
// The installed command. It loads the built program, so npm can link it before the first build.
// Commands that chunk or restore data start their worker threads first, so the threads boot
// while the program loads (@kubectl-backup/engine/prestart); elsewhere nothing is started.
const args = process.argv.slice(2);
const mover = args.indexOf('mover');
if ((mover >= 0 && ['backup', 'restore'].includes(args[mover + 1])) || args.includes('create')) {
  const { prestartWorkers } = await import('@kubectl-backup/engine/prestart');
  prestartWorkers();
}
await import('../dist/bin.js');
