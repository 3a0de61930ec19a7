/** Durations in config (`24h`, `PT1H`, `{ hours: 1 }`) → milliseconds. */
import { readDurationFromConfig, type Config } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';

/** Reads the duration at `key` of `config`, or `fallbackMs` when absent. Throws on a bad value. */
export function readDurationMs(config: Config, key: string, fallbackMs: number): number {
  if (!config.has(key)) return fallbackMs;
  const ms = durationToMilliseconds(readDurationFromConfig(config, { key }));
  if (!(ms > 0)) throw new Error(`${key} must be a positive duration`);
  return ms;
}
