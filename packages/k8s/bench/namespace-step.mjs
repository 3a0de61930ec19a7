#!/usr/bin/env node
// One library operation in its own process, so the bench can time it and read its peak RSS:
//   node namespace-step.mjs backup REPO KUBECONFIG NAMESPACE NAME
//   node namespace-step.mjs restore REPO KUBECONFIG BACKUP TARGET_NAMESPACE
// The password is $BENCH_PASSWORD; $BENCH_RESTORE_QPS / $BENCH_RESTORE_CONCURRENCY override the
// restore's defaults when set. Prints one JSON line: the figures of the operation, `seconds`
// (the library call alone), `openSeconds` (opening the repository: key derivation), per-phase
// seconds (from the progress events), `cpuSeconds` and `maxRssBytes` of this process.
import { performance } from 'node:perf_hooks';
import { KubeConfig } from '@kubernetes/client-node';
import { LocalStorage, Repository } from '@kubectl-backup/engine';
import { backupNamespace, restoreNamespace } from '../dist/index.js';

const [step, repoDir, kubeconfig, a, b] = process.argv.slice(2);
if (!['backup', 'restore'].includes(step) || !b) {
  console.error(
    'usage: node namespace-step.mjs backup REPO KUBECONFIG NAMESPACE NAME | restore REPO KUBECONFIG BACKUP TARGET',
  );
  process.exit(2);
}
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);

const phases = [];
const onProgress = (e) => {
  // the restore's apply phase announces each stage: `restoring config (7000)`
  const stage = e.phase === 'apply' && /^restoring (\S+) \(\d+\)$/.exec(e.message)?.[1];
  const phase = stage ? `apply:${stage}` : e.phase === 'apply' ? phases.at(-1)?.phase : e.phase;
  if (phases.at(-1)?.phase !== phase) phases.push({ phase, at: performance.now() });
};
const phaseSeconds = (end) => {
  const out = {};
  phases.forEach(
    (p, i) => (out[p.phase] = (out[p.phase] ?? 0) + ((phases[i + 1]?.at ?? end) - p.at) / 1000),
  );
  return out;
};

const t0 = performance.now();
const repo = await Repository.open(new LocalStorage(repoDir), process.env.BENCH_PASSWORD ?? '');
const started = performance.now();
let result;
if (step === 'backup') {
  const r = await backupNamespace(repo, kc, { namespace: a, name: b, onProgress });
  const s = r.snapshot.stats;
  result = {
    objects: r.manifest.resources.total,
    byKind: r.manifest.resources.byKind,
    skipped: r.manifest.skipped.total,
    bytesTotal: s.bytesTotal,
    bytesAdded: s.bytesAdded,
    storedBytesAdded: s.storedBytesAdded,
    warnings: r.warnings,
  };
} else {
  const num = (name) => (process.env[name] ? Number(process.env[name]) : undefined);
  const r = await restoreNamespace(repo, kc, {
    backup: a,
    targetNamespace: b,
    onProgress,
    qps: num('BENCH_RESTORE_QPS'),
    concurrency: num('BENCH_RESTORE_CONCURRENCY'),
  });
  const rec = r.record;
  result = {
    objects: r.plan.items.length,
    counts: rec.counts,
    outcome: rec.outcome,
    waited: rec.options.wait,
    notReady: rec.readiness.filter((x) => !x.ready).length,
    warnings: r.warnings,
  };
}
const end = performance.now();
await repo.close();
const usage = process.resourceUsage();
console.log(
  JSON.stringify({
    step,
    ...result,
    seconds: (end - started) / 1000,
    openSeconds: (started - t0) / 1000,
    phases: phaseSeconds(end),
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    maxRssBytes: usage.maxRSS * 1024,
  }),
);
