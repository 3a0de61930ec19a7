/**
 * The progress scan of a backup: it goes through the tree ahead of the backup's walk, in the
 * walk's order (directories depth first, names sorted), and counts files and bytes so progress has
 * totals early. What it read — each directory's names and each entry's lstat — it keeps for the
 * walk behind it, up to `limit` entries at a time, so the walk lists and stats nothing twice.
 * Synchronous metadata calls (cheap on a local or cached file system), with a yield every few
 * hundred entries. It can start before the backup does (startBackupScan, backup.ts), counting
 * into totals of its own until the backup's progress takes them over (`reportTo`).
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

export interface ScanTotals {
  filesTotal: number;
  bytesTotal: number;
}

export class ScanAhead {
  private readonly listings = new Map<string, string[]>();
  private readonly stats = new Map<string, Stats>();
  private started?: { root: string; done: Promise<void> };
  private halted = false;

  constructor(
    private totals: ScanTotals,
    private readonly signal?: AbortSignal,
    private readonly limit = 16_384,
  ) {}

  /** The directory the scan was started on, if it was. */
  get root(): string | undefined {
    return this.started?.root;
  }

  /** Starts the scan of `root` unless it was started already; resolves when it ends. */
  start(root: string): Promise<void> {
    this.started ??= { root, done: this.run(root) };
    return this.started.done;
  }

  /** From now on the scan counts into `totals`, which take over what it counted so far. */
  reportTo(totals: ScanTotals): void {
    totals.filesTotal = this.totals.filesTotal;
    totals.bytesTotal = this.totals.bytesTotal;
    this.totals = totals;
  }

  /** Ends the scan at its next step. */
  stop(): void {
    this.halted = true;
  }

  /** Whether `stop` was called. */
  get stopped(): boolean {
    return this.halted;
  }

  async run(root: string): Promise<void> {
    // Directories still to list, the next one last.
    const stack = [root];
    let sinceYield = 0;
    while (stack.length && !this.halted && !this.signal?.aborted) {
      const dir = stack.pop()!;
      let names: string[];
      try {
        names = readdirSync(dir).sort();
      } catch {
        continue; // the walk reports unreadable directories
      }
      if (this.room()) this.listings.set(dir, names);
      const subdirs: string[] = [];
      for (const name of names) {
        const path = join(dir, name);
        let st: Stats;
        try {
          st = lstatSync(path);
        } catch {
          continue; // and entries it cannot stat
        }
        if (st.isDirectory()) subdirs.push(path);
        else if (st.isFile()) {
          this.totals.filesTotal++;
          this.totals.bytesTotal += st.size;
        }
        if (this.room()) this.stats.set(path, st);
        if (++sinceYield >= 256) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (this.halted || this.signal?.aborted) return;
        }
      }
      for (let k = subdirs.length - 1; k >= 0; k--) stack.push(subdirs[k]!);
    }
  }

  /** The names the scan read in `dir` (sorted), if it kept them; each is handed out once. */
  takeListing(dir: string): string[] | undefined {
    const names = this.listings.get(dir);
    this.listings.delete(dir);
    return names;
  }

  /** The scan's lstat of `path`, if it kept it; each is handed out once. */
  takeStat(path: string): Stats | undefined {
    const st = this.stats.get(path);
    this.stats.delete(path);
    return st;
  }

  private room(): boolean {
    return this.listings.size + this.stats.size < this.limit;
  }
}
