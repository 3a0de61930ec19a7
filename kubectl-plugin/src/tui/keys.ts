/**
 * Key by key input for Ink 5. Ink hands each chunk read from the terminal to the key handlers
 * as one "key", so keys that arrive together (a held Backspace, fast typing, tmux send-keys)
 * would be taken as pasted text ("\x7f\x7f" inserted, not two deletions). This stdin splits
 * chunks into key sequences and hands them over one at a time, a few milliseconds apart, so
 * that React has committed each key's update (and Ink re-subscribed the handlers) before the
 * next key arrives.
 */
import { EventEmitter } from 'node:events';

const ESC = '\u001B';
/** Control sequences: `ESC [ params intermediates final` (arrows, F-keys…) and `ESC O x`. */
const CSI = new RegExp(`^${ESC}\\[[0-?]*[ -/]*[@-~]`);
const SS3 = new RegExp(`^${ESC}O.`);

/** Splits terminal input into keys: CSI/SS3 sequences, Alt+key, and single characters. */
export function splitKeys(chunk: string): string[] {
  const keys: string[] = [];
  let rest = chunk;
  while (rest.length) {
    let key: string;
    if (rest.startsWith('\u001B')) {
      const seq = CSI.exec(rest) ?? SS3.exec(rest);
      if (seq) key = seq[0];
      else if (rest.length > 1 && rest[1] !== '\u001B')
        key = rest.slice(0, 1 + [...rest.slice(1)][0]!.length);
      else key = '\u001B';
    } else key = [...rest][0]!;
    keys.push(key);
    rest = rest.slice(key.length);
  }
  return keys;
}

/** The part of a terminal's stdin that Ink uses. */
export interface TerminalInput extends NodeJS.EventEmitter {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  read(): string | Buffer | null;
  ref?(): unknown;
  unref?(): unknown;
  pause?(): unknown;
}

/** A stdin for Ink that delivers one key per `readable` event, `gapMs` apart. */
export class KeyByKeyInput extends EventEmitter {
  readonly isTTY: boolean;
  private readonly queue: string[] = [];
  private current: string | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly input: TerminalInput,
    private readonly gapMs = 5,
  ) {
    super();
    this.isTTY = Boolean(input.isTTY);
    input.on('readable', this.onReadable);
  }

  private readonly onReadable = () => {
    let chunk: string | Buffer | null;
    while ((chunk = this.input.read()) !== null) this.queue.push(...splitKeys(String(chunk)));
    this.schedule(0);
  };

  private schedule(delay: number): void {
    if (this.timer || !this.queue.length) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.current = this.queue.shift() ?? null;
      this.emit('readable');
      this.current = null;
      this.schedule(this.gapMs);
    }, delay);
  }

  read(): string | null {
    const key = this.current;
    this.current = null;
    return key;
  }

  setEncoding(encoding: BufferEncoding): this {
    this.input.setEncoding(encoding);
    return this;
  }

  setRawMode(mode: boolean): this {
    this.input.setRawMode?.(mode);
    return this;
  }

  ref(): this {
    this.input.ref?.();
    return this;
  }

  unref(): this {
    this.input.unref?.();
    return this;
  }

  /** Stops listening to the terminal. */
  close(): void {
    clearTimeout(this.timer);
    this.input.off('readable', this.onReadable);
    this.input.pause?.();
  }
}
