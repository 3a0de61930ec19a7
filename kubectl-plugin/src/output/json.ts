/** JSON output: pretty documents for `-o json`, compact lines for event streams. */
import type { OutStream } from '../io.js';

export function writeJson(out: OutStream, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function writeJsonLine(out: OutStream, value: unknown): void {
  out.write(`${JSON.stringify(value)}\n`);
}
