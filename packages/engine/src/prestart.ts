/**
 * `@kubectl-backup/engine/prestart`: starts the chunk worker threads of a backup or restore
 * before the rest of the engine is loaded. Import it (and call `prestartWorkers()`) first, then
 * load the engine with a dynamic `import()`: the threads boot on the CPU the main thread leaves
 * idle while it loads, and the repository opened next takes them over. Light on purpose.
 */
export { prestartWorkers } from './pipeline/spare-threads.js';
