/** Durations in config (`24h`, `PT1H`, `{ hours: 1 }`) → milliseconds. */
import { readDurationFromConfig, type Config } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';

/**
 * Reads the duration at `key` of `config`, or `fallbackMs` when absent. Throws on a bad value.
 * With `allowZero`, `0` (or `0s`, `{ seconds: 0 }`) is accepted and gives 0.
 */
export function readDurationMs(
  config: Config,
  key: string,
  fallbackMs: number,
  options: { allowZero?: boolean } = {},
): number {
  if (!config.has(key)) return fallbackMs;
  const raw = config.getOptional(key);
  if (options.allowZero && raw === 0) return 0;
  if (typeof raw === 'number')
    throw new Error(`${key} needs a unit, e.g. '${raw}s' or { seconds: ${raw} }`);
  const ms = durationToMilliseconds(readDurationFromConfig(config, { key }));
  if (options.allowZero ? !(ms >= 0) : !(ms > 0))
    throw new Error(`${key} must be a ${options.allowZero ? 'non-negative' : 'positive'} duration`);
  return ms;
}
