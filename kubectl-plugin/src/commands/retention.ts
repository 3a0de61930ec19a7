/** The retention flags `repo forget` and `forget` share, and the policy they make. */
import { parseDuration, type RetentionPolicy } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import { usageError } from '../output/errors.js';
import { parseCount } from './options.js';

const COUNTS = ['Last', 'Hourly', 'Daily', 'Weekly', 'Monthly', 'Yearly'] as const;

export type RetentionFlags = Partial<Record<`keep${(typeof COUNTS)[number]}`, number>> & {
  keepWithin?: string;
  keepTag?: string[];
};

/** `--keep-last` … `--keep-yearly` and `--keep-within`; `noun` is what is kept (snapshot, backup). */
export function addRetentionOptions(cmd: Command, noun: string): Command {
  for (const unit of COUNTS) {
    const period = unit === 'Daily' ? 'day' : unit.toLowerCase().replace(/ly$/, '');
    const what =
      unit === 'Last'
        ? `the N newest ${noun}s`
        : `the newest ${noun} of each of the last N ${period}s`;
    cmd.option(`--keep-${unit.toLowerCase()} <n>`, `keep ${what} (-1: unlimited)`, parseCount);
  }
  return cmd.option(
    '--keep-within <duration>',
    `keep every ${noun} newer than this before the newest one (e.g. 7d, 2w, 1y2m)`,
  );
}

/** The policy of the flags; none given is a usage error (an empty policy would remove all). */
export function retentionPolicy(opts: RetentionFlags, withKeepTag = false): RetentionPolicy {
  const policy: RetentionPolicy = {};
  for (const unit of COUNTS) {
    const value = opts[`keep${unit}`];
    if (value !== undefined) policy[`keep${unit}`] = value;
  }
  if (opts.keepWithin !== undefined) {
    parseDuration(opts.keepWithin);
    policy.keepWithin = opts.keepWithin;
  }
  if (opts.keepTag) policy.keepTags = opts.keepTag;
  if (Object.keys(policy).length === 0)
    throw usageError(
      `give a policy: at least one of ${[...COUNTS.map((u) => `--keep-${u.toLowerCase()}`), '--keep-within', ...(withKeepTag ? ['--keep-tag'] : [])].join(', ')}`,
    );
  return policy;
}
