/**
 * The parser of kube-sim's `sh -c`: simple commands joined by `;`, `&&`, `||`, newlines and
 * pipes, with quoting ('…', "…", \), variables ($VAR, ${VAR}, $?) and redirections
 * (`<`, `>`, `>>`, `2>`, `2>>`, `2>&1`, `>&2`, here-documents), and the compound commands if/elif/else, for,
 * while/until, case, `{ …; }`, `!` pipelines, command substitution (`$(…)`, backquotes) and
 * `$((…))` arithmetic. Subshells and functions are refused with a syntax error.
 */

/** A piece of a word; variables are expanded when the command runs (for `$?`). */
export type Segment =
  | { kind: 'text'; text: string; quoted: boolean }
  | { kind: 'var'; name: string; quoted: boolean }
  /** `$(…)` or backquotes: the script's output, run when the word is expanded. */
  | { kind: 'cmd'; script: string; quoted: boolean }
  /** `$((…))`: integer arithmetic. */
  | { kind: 'arith'; expr: string; quoted: boolean };
export type Word = Segment[];

export interface Redirect {
  fd: number;
  op: '<' | '>' | '>>' | '>&' | '<<';
  target: Word;
}

export interface SimpleCommand {
  kind: 'simple';
  words: Word[];
  redirects: Redirect[];
}

export interface IfCommand {
  kind: 'if';
  branches: Array<{ cond: AndOr[]; body: AndOr[] }>;
  otherwise?: AndOr[];
  redirects: Redirect[];
}

export interface ForCommand {
  kind: 'for';
  name: string;
  /** Undefined: the positional parameters. */
  items?: Word[];
  body: AndOr[];
  redirects: Redirect[];
}

export interface LoopCommand {
  kind: 'while' | 'until';
  cond: AndOr[];
  body: AndOr[];
  redirects: Redirect[];
}

export interface GroupCommand {
  kind: 'group';
  body: AndOr[];
  redirects: Redirect[];
}

export interface CaseCommand {
  kind: 'case';
  subject: Word;
  items: Array<{ patterns: Word[]; body: AndOr[] }>;
  redirects: Redirect[];
}

export type Command = SimpleCommand | IfCommand | ForCommand | LoopCommand | GroupCommand | CaseCommand;

export interface Pipeline {
  commands: Command[];
  /** `! pipeline` */
  negate: boolean;
}

export interface AndOr {
  /** How this pipeline joins the previous one. */
  op: ';' | '&&' | '||';
  pipeline: Pipeline;
}

export class ShellSyntaxError extends Error {}

type Token = { type: 'word'; word: Word } | { type: 'op'; op: string };

const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'for', 'in', 'while', 'until', 'do', 'done', 'case', 'esac', 'function', 'select', '{', '}', '!']);

function isNameChar(c: string | undefined, first: boolean): boolean {
  if (c === undefined) return false;
  return first ? /[A-Za-z_]/.test(c) : /[A-Za-z0-9_]/.test(c);
}

/** The index of the `)` closing the `$(` whose body starts at `from` (quotes and nesting aware). */
function closingParen(src: string, from: number): number {
  let depth = 1;
  for (let j = from; j < src.length; j++) {
    const c = src[j];
    if (c === '\\') j++;
    else if (c === "'") {
      const end = src.indexOf("'", j + 1);
      if (end < 0) break;
      j = end;
    } else if (c === '"') {
      for (j++; j < src.length && src[j] !== '"'; j++) if (src[j] === '\\') j++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return j;
  }
  throw new ShellSyntaxError('unterminated command substitution: unexpected end of file');
}

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let word: Word | null = null;
  const pushText = (text: string, quoted: boolean) => {
    word ??= [];
    const last = word[word.length - 1];
    if (last && last.kind === 'text' && last.quoted === quoted) last.text += text;
    else word.push({ kind: 'text', text, quoted });
  };
  const endWord = () => {
    if (word) tokens.push({ type: 'word', word });
    word = null;
  };
  const readVar = (quoted: boolean): boolean => {
    // at src[i] === '$'
    const next = src[i + 1];
    if (next === '?' || next === '$' || next === '#' || next === '@' || next === '*' || (next !== undefined && /[0-9]/.test(next))) {
      word ??= [];
      word.push({ kind: 'var', name: next, quoted });
      i += 2;
      return true;
    }
    if (next === '{') {
      const end = src.indexOf('}', i + 2);
      if (end < 0) throw new ShellSyntaxError('bad substitution');
      const name = src.slice(i + 2, end);
      if (!/^([A-Za-z_][A-Za-z0-9_]*|[?$#@*]|[0-9]+)$/.test(name)) throw new ShellSyntaxError(`\${${name}}: bad substitution`);
      word ??= [];
      word.push({ kind: 'var', name, quoted });
      i = end + 1;
      return true;
    }
    if (next === '(') {
      if (src[i + 2] === '(') {
        const end = closingParen(src, i + 3);
        if (src[end + 1] !== ')') throw new ShellSyntaxError('syntax error: missing "))"');
        word ??= [];
        word.push({ kind: 'arith', expr: src.slice(i + 3, end), quoted });
        i = end + 2;
        return true;
      }
      const end = closingParen(src, i + 2);
      word ??= [];
      word.push({ kind: 'cmd', script: src.slice(i + 2, end), quoted });
      i = end + 1;
      return true;
    }
    if (isNameChar(next, true)) {
      let j = i + 1;
      while (isNameChar(src[j], false)) j++;
      word ??= [];
      word.push({ kind: 'var', name: src.slice(i + 1, j), quoted });
      i = j;
      return true;
    }
    return false;
  };

  const readBackquote = (quoted: boolean) => {
    // at src[i] === '`'
    let j = i + 1;
    let script = '';
    for (; j < src.length && src[j] !== '`'; j++) {
      if (src[j] === '\\' && '`$\\'.includes(src[j + 1] ?? '')) j++;
      script += src[j];
    }
    if (j >= src.length) throw new ShellSyntaxError('unterminated command substitution: unexpected end of file');
    word ??= [];
    word.push({ kind: 'cmd', script, quoted });
    i = j + 1;
  };

  const hereDocs: Array<{ token: Token; delim: string; strip: boolean; quoted: boolean }> = [];
  const readHereDocs = () => {
    for (const doc of hereDocs.splice(0)) {
      let body = '';
      for (;;) {
        if (i >= src.length) throw new ShellSyntaxError(`here-document delimited by end of file (wanted "${doc.delim}")`);
        const nl = src.indexOf('\n', i);
        let line = nl < 0 ? src.slice(i) : src.slice(i, nl);
        i = nl < 0 ? src.length : nl + 1;
        if (doc.strip) line = line.replace(/^\t+/, '');
        if (line === doc.delim) break;
        body += `${line}\n`;
      }
      const target = doc.token as { type: 'word'; word: Word };
      if (doc.quoted) target.word = [{ kind: 'text', text: body, quoted: true }];
      else {
        // expanded like a double-quoted string, where `"` is an ordinary character
        const inner = tokenize(`"${body.replace(/\\(?=")/g, '\\\\').replace(/"/g, '\\"')}"`)[0];
        target.word = inner?.type === 'word' ? inner.word : [{ kind: 'text', text: body, quoted: true }];
      }
    }
  };

  while (i < src.length) {
    const c = src[i] as string;
    if (c === ' ' || c === '\t') {
      endWord();
      i++;
    } else if (c === '\n') {
      endWord();
      tokens.push({ type: 'op', op: ';' });
      i++;
      readHereDocs();
    } else if (c === '#' && word === null) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '\\') {
      if (src[i + 1] === '\n') i += 2;
      else {
        if (i + 1 >= src.length) throw new ShellSyntaxError('unexpected end of input');
        pushText(src[i + 1] as string, true);
        i += 2;
      }
    } else if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError('unterminated quoted string');
      pushText(src.slice(i + 1, end), true);
      i = end + 1;
    } else if (c === '"') {
      i++;
      pushText('', true);
      for (;;) {
        if (i >= src.length) throw new ShellSyntaxError('unterminated quoted string');
        const d = src[i] as string;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < src.length && '$`"\\\n'.includes(src[i + 1] as string)) {
          if (src[i + 1] !== '\n') pushText(src[i + 1] as string, true);
          i += 2;
        } else if (d === '$' && readVar(true)) {
          // consumed
        } else if (d === '`') {
          readBackquote(true);
        } else {
          pushText(d, true);
          i++;
        }
      }
    } else if (c === '$') {
      if (!readVar(false)) {
        pushText('$', false);
        i++;
      }
    } else if (c === '`') {
      readBackquote(false);
    } else if (c === '(' || c === ')') {
      // only `case` patterns use them; the parser refuses them anywhere else
      endWord();
      tokens.push({ type: 'op', op: c });
      i++;
    } else if (c === ';' || c === '&' || c === '|') {
      endWord();
      const two = src.slice(i, i + 2);
      if (two === '&&' || two === '||' || two === ';;') {
        tokens.push({ type: 'op', op: two });
        i += 2;
      } else {
        if (c === '&') throw new ShellSyntaxError('background jobs (&) are not supported');
        tokens.push({ type: 'op', op: c });
        i++;
      }
    } else if (c === '>' || c === '<') {
      // an all-digit word right before is the fd
      let fd: number | undefined;
      const w = word as Word | null;
      const only = w && w.length === 1 ? w[0] : undefined;
      if (only && only.kind === 'text' && !only.quoted && /^[0-9]$/.test(only.text)) {
        fd = Number(only.text);
        word = null;
      } else endWord();
      let op = c as string;
      i++;
      if (c === '<' && src[i] === '<') {
        // a here-document: its body follows the end of this line
        i++;
        const strip = src[i] === '-';
        if (strip) i++;
        while (src[i] === ' ' || src[i] === '\t') i++;
        let delim = '';
        let quotedDelim = false;
        while (i < src.length && !' \t\n;&|<>()'.includes(src[i] as string)) {
          const d = src[i] as string;
          if (d === "'" || d === '"') {
            const end = src.indexOf(d, i + 1);
            if (end < 0) throw new ShellSyntaxError('unterminated quoted string');
            delim += src.slice(i + 1, end);
            quotedDelim = true;
            i = end + 1;
          } else if (d === '\\') {
            delim += src[i + 1] ?? '';
            quotedDelim = true;
            i += 2;
          } else {
            delim += d;
            i++;
          }
        }
        if (!delim) throw new ShellSyntaxError('syntax error: unexpected redirection');
        tokens.push({ type: 'op', op: `${fd ?? 0}<<` });
        const body: Token = { type: 'word', word: [] };
        tokens.push(body);
        hereDocs.push({ token: body, delim, strip, quoted: quotedDelim });
        continue;
      }
      if (c === '>' && src[i] === '>') {
        op = '>>';
        i++;
      } else if (src[i] === '&') {
        op = `${c}&`;
        i++;
      }
      tokens.push({ type: 'op', op: `${fd ?? (c === '<' ? 0 : 1)}${op}` });
    } else {
      pushText(c, false);
      i++;
    }
  }
  endWord();
  if (hereDocs.length) throw new ShellSyntaxError(`here-document delimited by end of file (wanted "${hereDocs[0]?.delim}")`);
  return tokens;
}

/** Parses a script into a list of and-or lists of pipelines. */
export function parse(src: string): AndOr[] {
  return new Parser(tokenize(src)).script();
}

class Parser {
  private i = 0;

  constructor(private readonly tokens: Token[]) {}

  script(): AndOr[] {
    const list = this.list([]);
    const t = this.tokens[this.i];
    if (t) throw new ShellSyntaxError(`syntax error: unexpected "${t.type === 'word' ? this.text(t) : t.op}"`);
    return list;
  }

  /** The unquoted text of a one-segment word (to recognise reserved words). */
  private text(t: Token | undefined): string | undefined {
    if (!t || t.type !== 'word' || t.word.length !== 1) return undefined;
    const seg = t.word[0];
    return seg && seg.kind === 'text' && !seg.quoted ? seg.text : undefined;
  }

  private reserved(): string | undefined {
    const w = this.text(this.tokens[this.i]);
    return w !== undefined && RESERVED.has(w) ? w : undefined;
  }

  private isOp(op: string): boolean {
    const t = this.tokens[this.i];
    return t?.type === 'op' && t.op === op;
  }

  private skipSeparators(): void {
    while (this.isOp(';')) this.i++;
  }

  private expect(word: string): void {
    if (this.reserved() !== word) {
      const t = this.tokens[this.i];
      throw new ShellSyntaxError(t ? `syntax error: unexpected "${t.type === 'word' ? this.text(t) ?? 'word' : t.op}" (expecting "${word}")` : `syntax error: unexpected end of file (expecting "${word}")`);
    }
    this.i++;
  }

  /** Pipelines joined by ; && || and newlines, up to one of the `stops` reserved words. */
  private list(stops: string[]): AndOr[] {
    const list: AndOr[] = [];
    let op: AndOr['op'] = ';';
    for (;;) {
      if (op === ';') this.skipSeparators();
      const t = this.tokens[this.i];
      if (!t) {
        if (op !== ';') throw new ShellSyntaxError('syntax error: unexpected end of file');
        break;
      }
      if (stops.includes('esac') && this.isOp(';;')) break;
      const w = this.reserved();
      if (w && stops.includes(w)) {
        if (op !== ';') throw new ShellSyntaxError(`syntax error: unexpected "${w}"`);
        break;
      }
      list.push({ op, pipeline: this.pipeline() });
      if (this.isOp('&&') || this.isOp('||')) {
        op = (this.tokens[this.i++] as { op: AndOr['op'] }).op;
        this.skipSeparators(); // a newline may follow && and ||
      } else if (this.isOp(';')) {
        op = ';';
      } else {
        const next = this.tokens[this.i];
        if (!next) break;
        const nw = this.reserved();
        if (nw && stops.includes(nw)) break;
        if (stops.includes('esac') && this.isOp(';;')) break;
        throw new ShellSyntaxError(`syntax error: unexpected "${next.type === 'word' ? this.text(next) ?? 'word' : next.op}"`);
      }
    }
    return list;
  }

  private pipeline(): Pipeline {
    let negate = false;
    if (this.reserved() === '!') {
      negate = true;
      this.i++;
    }
    const commands = [this.command()];
    while (this.isOp('|')) {
      this.i++;
      this.skipSeparators();
      commands.push(this.command());
    }
    return { commands, negate };
  }

  private redirects(): Redirect[] {
    const out: Redirect[] = [];
    for (;;) {
      const t = this.tokens[this.i];
      const m = t?.type === 'op' ? /^(\d)(<<|<|>>|>&|<&|>)$/.exec(t.op) : null;
      if (!m) return out;
      const target = this.tokens[this.i + 1];
      if (!target || target.type !== 'word') throw new ShellSyntaxError('syntax error: unexpected redirection');
      out.push({ fd: Number(m[1]), op: m[2] === '<&' ? '>&' : (m[2] as Redirect['op']), target: target.word });
      this.i += 2;
    }
  }

  private command(): Command {
    const w = this.reserved();
    if (w === 'if') {
      this.i++;
      const branches: IfCommand['branches'] = [];
      let otherwise: AndOr[] | undefined;
      const cond = this.nonEmpty(this.list(['then']), 'then');
      this.expect('then');
      branches.push({ cond, body: this.nonEmpty(this.list(['elif', 'else', 'fi']), 'fi') });
      for (;;) {
        const next = this.reserved();
        if (next === 'elif') {
          this.i++;
          const c = this.nonEmpty(this.list(['then']), 'then');
          this.expect('then');
          branches.push({ cond: c, body: this.nonEmpty(this.list(['elif', 'else', 'fi']), 'fi') });
        } else if (next === 'else') {
          this.i++;
          otherwise = this.nonEmpty(this.list(['fi']), 'fi');
        } else break;
      }
      this.expect('fi');
      return { kind: 'if', branches, otherwise, redirects: this.redirects() };
    }
    if (w === 'for') {
      this.i++;
      const name = this.text(this.tokens[this.i]);
      if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ShellSyntaxError('syntax error: bad for loop variable');
      this.i++;
      let items: Word[] | undefined;
      this.skipSeparators();
      if (this.reserved() === 'in') {
        this.i++;
        items = [];
        while (this.tokens[this.i]?.type === 'word' && this.reserved() !== 'do') {
          items.push((this.tokens[this.i++] as { word: Word }).word);
        }
      }
      this.skipSeparators();
      this.expect('do');
      const body = this.nonEmpty(this.list(['done']), 'done');
      this.expect('done');
      return { kind: 'for', name, items, body, redirects: this.redirects() };
    }
    if (w === 'while' || w === 'until') {
      this.i++;
      const cond = this.nonEmpty(this.list(['do']), 'do');
      this.expect('do');
      const body = this.nonEmpty(this.list(['done']), 'done');
      this.expect('done');
      return { kind: w, cond, body, redirects: this.redirects() };
    }
    if (w === 'case') {
      this.i++;
      const subject = this.tokens[this.i];
      if (!subject || subject.type !== 'word') throw new ShellSyntaxError('syntax error: bad case subject');
      this.i++;
      this.skipSeparators();
      this.expect('in');
      const items: CaseCommand['items'] = [];
      for (;;) {
        this.skipSeparators();
        if (this.reserved() === 'esac') break;
        if (this.isOp('(')) this.i++;
        const patterns: Word[] = [];
        for (;;) {
          const t = this.tokens[this.i];
          if (!t || t.type !== 'word') throw new ShellSyntaxError('syntax error: bad case pattern');
          patterns.push(t.word);
          this.i++;
          if (this.isOp('|')) {
            this.i++;
            continue;
          }
          break;
        }
        if (!this.isOp(')')) throw new ShellSyntaxError('syntax error: expecting ")" in case');
        this.i++;
        const body = this.list(['esac']);
        items.push({ patterns, body });
        if (this.isOp(';;')) this.i++;
        else break;
      }
      this.skipSeparators();
      this.expect('esac');
      return { kind: 'case', subject: subject.word, items, redirects: this.redirects() };
    }
    if (w === '{') {
      this.i++;
      const body = this.nonEmpty(this.list(['}']), '}');
      this.expect('}');
      return { kind: 'group', body, redirects: this.redirects() };
    }
    if (w !== undefined) throw new ShellSyntaxError(`syntax error: unexpected "${w}"`);
    const cmd: SimpleCommand = { kind: 'simple', words: [], redirects: [] };
    for (;;) {
      const t = this.tokens[this.i];
      if (!t) break;
      if (t.type === 'word') {
        cmd.words.push(t.word);
        this.i++;
        continue;
      }
      const r = this.redirects();
      if (r.length) {
        cmd.redirects.push(...r);
        continue;
      }
      break;
    }
    if (cmd.words.length === 0 && cmd.redirects.length === 0) {
      const t = this.tokens[this.i];
      throw new ShellSyntaxError(t ? `syntax error: unexpected "${t.type === 'op' ? t.op : 'word'}"` : 'syntax error: unexpected end of file');
    }
    return cmd;
  }

  private nonEmpty(list: AndOr[], before: string): AndOr[] {
    if (list.length === 0) throw new ShellSyntaxError(`syntax error: unexpected "${before}"`);
    return list;
  }
}

/**
 * Evaluates a shell arithmetic expression: integers, variables (bare or `$x`), unary `- + !`,
 * `* / %`, `+ -`, comparisons, `== !=`, `&& ||` and parentheses.
 */
export function arithmetic(expr: string, lookup: (name: string) => string | undefined): number {
  const tokens = expr.match(/\s*(\d+|\$?[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_]*\}|&&|\|\||[<>=!]=|[-+*/%()<>!])/gy);
  const compact = expr.replace(/\s+/g, '');
  if (!tokens || tokens.join('').replace(/\s+/g, '') !== compact) throw new ShellSyntaxError(`arithmetic syntax error: ${expr}`);
  const list = tokens.map((t) => t.trim());
  let i = 0;
  const value = (name: string): number => {
    const v = lookup(name.replace(/^\$\{?|\}$/g, '')) ?? '0';
    const n = Number(v.trim() || '0');
    if (!Number.isInteger(n)) throw new ShellSyntaxError(`arithmetic syntax error: ${v}`);
    return n;
  };
  const primary = (): number => {
    const t = list[i++];
    if (t === undefined) throw new ShellSyntaxError(`arithmetic syntax error: ${expr}`);
    if (t === '(') {
      const v = or();
      if (list[i++] !== ')') throw new ShellSyntaxError(`arithmetic syntax error: ${expr}`);
      return v;
    }
    if (t === '-') return -primary();
    if (t === '+') return primary();
    if (t === '!') return primary() ? 0 : 1;
    if (/^\d+$/.test(t)) return Number(t);
    if (/^\$?\{?[A-Za-z_]/.test(t)) return value(t);
    throw new ShellSyntaxError(`arithmetic syntax error: ${expr}`);
  };
  const binary = (next: () => number, ops: Record<string, (a: number, b: number) => number>) => (): number => {
    let v = next();
    while (list[i] !== undefined && ops[list[i] as string]) {
      const op = ops[list[i++] as string] as (a: number, b: number) => number;
      v = op(v, next());
    }
    return v;
  };
  const div = (a: number, b: number, f: (x: number, y: number) => number) => {
    if (b === 0) throw new ShellSyntaxError('arithmetic: divide by zero');
    return Math.trunc(f(a, b));
  };
  const mul = binary(primary, { '*': (a, b) => a * b, '/': (a, b) => div(a, b, (x, y) => x / y), '%': (a, b) => div(a, b, (x, y) => x % y) });
  const add = binary(mul, { '+': (a, b) => a + b, '-': (a, b) => a - b });
  const cmp = binary(add, { '<': (a, b) => +(a < b), '<=': (a, b) => +(a <= b), '>': (a, b) => +(a > b), '>=': (a, b) => +(a >= b) });
  const eq = binary(cmp, { '==': (a, b) => +(a === b), '!=': (a, b) => +(a !== b) });
  const and = binary(eq, { '&&': (a, b) => +(a !== 0 && b !== 0) });
  const or = binary(and, { '||': (a, b) => +(a !== 0 || b !== 0) });
  const result = or();
  if (i !== list.length) throw new ShellSyntaxError(`arithmetic syntax error: ${expr}`);
  return result;
}
