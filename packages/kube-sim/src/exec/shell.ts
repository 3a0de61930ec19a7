/**
 * The parser of kube-sim's `sh -c`: simple commands joined by `;`, `&&`, `||`, newlines and
 * pipes, with quoting ('…', "…", \), variables ($VAR, ${VAR}, $?) and redirections
 * (`<`, `>`, `>>`, `2>`, `2>>`, `2>&1`, `>&2`). Compound commands (if/for/while/case, subshells,
 * functions) are refused with a syntax error.
 */

/** A piece of a word; variables are expanded when the command runs (for `$?`). */
export type Segment = { kind: 'text'; text: string; quoted: boolean } | { kind: 'var'; name: string; quoted: boolean };
export type Word = Segment[];

export interface Redirect {
  fd: number;
  op: '<' | '>' | '>>' | '>&';
  target: Word;
}

export interface SimpleCommand {
  words: Word[];
  redirects: Redirect[];
}

export type Pipeline = SimpleCommand[];

export interface AndOr {
  /** How this pipeline joins the previous one. */
  op: ';' | '&&' | '||';
  pipeline: Pipeline;
}

export class ShellSyntaxError extends Error {}

type Token = { type: 'word'; word: Word } | { type: 'op'; op: string };

const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'for', 'while', 'until', 'do', 'done', 'case', 'esac', 'function', '{', '}', '!']);

function isNameChar(c: string | undefined, first: boolean): boolean {
  if (c === undefined) return false;
  return first ? /[A-Za-z_]/.test(c) : /[A-Za-z0-9_]/.test(c);
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
    if (next === '(') throw new ShellSyntaxError('command substitution is not supported');
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

  while (i < src.length) {
    const c = src[i] as string;
    if (c === ' ' || c === '\t') {
      endWord();
      i++;
    } else if (c === '\n') {
      endWord();
      tokens.push({ type: 'op', op: ';' });
      i++;
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
          throw new ShellSyntaxError('command substitution is not supported');
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
      throw new ShellSyntaxError('command substitution is not supported');
    } else if (c === '(' || c === ')') {
      throw new ShellSyntaxError(`syntax error: unexpected "${c}"`);
    } else if (c === ';' || c === '&' || c === '|') {
      endWord();
      const two = src.slice(i, i + 2);
      if (two === '&&' || two === '||' || two === ';;') {
        if (two === ';;') throw new ShellSyntaxError('syntax error: unexpected ";;"');
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
  return tokens;
}

export function parse(src: string): AndOr[] {
  const tokens = tokenize(src);
  // a leading `;` after && / || is an error, a blank line is not
  const list: AndOr[] = [];
  let op: AndOr['op'] = ';';
  let pipeline: Pipeline = [];
  let cmd: SimpleCommand = { words: [], redirects: [] };
  const endCommand = (what: string) => {
    if (cmd.words.length === 0 && cmd.redirects.length === 0) throw new ShellSyntaxError(`syntax error: unexpected "${what}"`);
    pipeline.push(cmd);
    cmd = { words: [], redirects: [] };
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.type === 'word') {
      if (cmd.words.length === 0) {
        const only = t.word.length === 1 ? t.word[0] : undefined;
        if (only && only.kind === 'text' && !only.quoted && RESERVED.has(only.text)) {
          throw new ShellSyntaxError(`syntax error: "${only.text}" is not supported`);
        }
      }
      cmd.words.push(t.word);
      continue;
    }
    const m = /^(\d)(<|>>|>&|<&|>)$/.exec(t.op);
    if (m) {
      const next = tokens[++i];
      if (!next || next.type !== 'word') throw new ShellSyntaxError('syntax error: unexpected redirection');
      const kind = m[2] === '<&' ? '>&' : (m[2] as Redirect['op']);
      cmd.redirects.push({ fd: Number(m[1]), op: kind, target: next.word });
      continue;
    }
    if (t.op === '|') {
      endCommand('|');
      continue;
    }
    // ; && ||
    if (cmd.words.length === 0 && cmd.redirects.length === 0 && pipeline.length === 0) {
      const prev = tokens[i - 1];
      if (t.op === ';' && !(prev?.type === 'op' && (prev.op === '&&' || prev.op === '||'))) {
        continue; // an empty statement (blank line)
      }
      throw new ShellSyntaxError(`syntax error: unexpected "${t.op}"`);
    }
    endCommand(t.op);
    list.push({ op, pipeline });
    pipeline = [];
    op = t.op as AndOr['op'];
  }
  if (cmd.words.length > 0 || cmd.redirects.length > 0) pipeline.push(cmd);
  else if (pipeline.length > 0 || op !== ';') throw new ShellSyntaxError('syntax error: unexpected end of file');
  if (pipeline.length > 0) list.push({ op, pipeline });
  return list;
}
