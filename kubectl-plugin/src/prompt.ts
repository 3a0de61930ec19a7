/** A no-echo secret prompt on a terminal. Fails fast (never hangs) when there is none. */
import type { CliIO } from './io.js';
import { CliError } from './output/errors.js';

export function canPrompt(io: CliIO): boolean {
  return (
    Boolean(io.promptSecret) || Boolean(io.stdin.isTTY && io.stderr.isTTY && io.stdin.setRawMode)
  );
}

/** Reads one line from the terminal with echo off; the question goes to stderr. */
export function promptSecret(io: CliIO, question: string): Promise<string> {
  if (io.promptSecret) return io.promptSecret(question);
  const { stdin, stderr } = io;
  if (!canPrompt(io)) throw new CliError('cannot prompt for a password: no terminal');
  return new Promise((resolve, reject) => {
    let value = '';
    stderr.write(question);
    stdin.setRawMode!(true);
    stdin.resume();
    const finish = (err?: Error) => {
      stdin.setRawMode!(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new CliError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
