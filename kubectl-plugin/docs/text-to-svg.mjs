/**
 * A tiny terminal-screen → SVG writer for the README's screenshots: takes what
 * `tmux capture-pane -p -e` printed (text with SGR colour escapes) and draws it as a terminal
 * window, one <text> row per line, one <tspan> per run of equal style. Understands the SGR
 * codes Ink emits: reset, bold, dim, inverse, 16 foreground/background colours (and their
 * bright variants), 256-colour and true-colour foregrounds.
 *
 * Usage: node docs/text-to-svg.mjs capture.txt > screen.svg   (or import { textToSvg })
 */
import { readFileSync } from 'node:fs';

const FG = ['#1e1e1e', '#e06c75', '#98c379', '#e5c07b', '#61afef', '#c678dd', '#56b6c2', '#dcdfe4'];
const BRIGHT = [
  '#7f848e',
  '#ff7a85',
  '#b5e890',
  '#ffd68a',
  '#8cc8ff',
  '#e0a3ff',
  '#7fdbe6',
  '#ffffff',
];
const DEFAULT_FG = '#dcdfe4';
const DEFAULT_BG = '#1e1e1e';
const CELL_W = 8.4;
const CELL_H = 18;
const PAD = 16;
const BAR = 28;

const ESC = '\u001B';
const SGR = new RegExp(`${ESC}\\[([0-9;]*)m`, 'g');
const OTHER_ESCAPES = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g');

function color256(n) {
  if (n < 8) return FG[n];
  if (n < 16) return BRIGHT[n - 8];
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const c = (x) => (x ? 55 + x * 40 : 0);
  return `rgb(${c(Math.floor(i / 36))},${c(Math.floor(i / 6) % 6)},${c(i % 6)})`;
}

/** Applies one SGR parameter list to a style. */
function applySgr(style, params) {
  const codes = params === '' ? [0] : params.split(';').map(Number);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === 0)
      Object.assign(style, {
        fg: undefined,
        bg: undefined,
        bold: false,
        dim: false,
        inverse: false,
      });
    else if (c === 1) style.bold = true;
    else if (c === 2) style.dim = true;
    else if (c === 22) Object.assign(style, { bold: false, dim: false });
    else if (c === 7) style.inverse = true;
    else if (c === 27) style.inverse = false;
    else if (c >= 30 && c <= 37) style.fg = FG[c - 30];
    else if (c >= 90 && c <= 97) style.fg = BRIGHT[c - 90];
    else if (c === 39) style.fg = undefined;
    else if (c >= 40 && c <= 47) style.bg = FG[c - 40];
    else if (c >= 100 && c <= 107) style.bg = BRIGHT[c - 100];
    else if (c === 49) style.bg = undefined;
    else if ((c === 38 || c === 48) && codes[i + 1] === 5) {
      style[c === 38 ? 'fg' : 'bg'] = color256(codes[i + 2]);
      i += 2;
    } else if ((c === 38 || c === 48) && codes[i + 1] === 2) {
      style[c === 38 ? 'fg' : 'bg'] = `rgb(${codes[i + 2]},${codes[i + 3]},${codes[i + 4]})`;
      i += 4;
    }
  }
}

/** Splits one captured line into runs of text with the style in force. */
export function styledRuns(line, style = {}) {
  const runs = [];
  let last = 0;
  const text = line.replace(OTHER_ESCAPES, (m) => (m.endsWith('m') ? m : ''));
  for (const m of text.matchAll(SGR)) {
    if (m.index > last) runs.push({ text: text.slice(last, m.index), style: { ...style } });
    applySgr(style, m[1]);
    last = m.index + m[0].length;
  }
  if (last < text.length) runs.push({ text: text.slice(last), style: { ...style } });
  return runs;
}

const escapeXml = (s) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The SVG of a terminal screen.
 * @param {string} capture text as `tmux capture-pane -p [-e]` printed it
 * @param {{ columns?: number, title?: string }} [options]
 * @returns {string}
 */
export function textToSvg(capture, options = {}) {
  const lines = capture.replace(/\n$/, '').split('\n');
  const plain = (l) => [...l.replace(OTHER_ESCAPES, '')];
  const columns = options.columns ?? Math.max(...lines.map((l) => plain(l).length), 20);
  const width = Math.ceil(columns * CELL_W + 2 * PAD);
  const height = Math.ceil(lines.length * CELL_H + 2 * PAD + BAR);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="'DejaVu Sans Mono', Menlo, Consolas, monospace" font-size="14">`,
    `<rect width="${width}" height="${height}" rx="8" fill="${DEFAULT_BG}"/>`,
    ...['#ff5f56', '#ffbd2e', '#27c93f'].map(
      (c, i) => `<circle cx="${PAD + 6 + i * 20}" cy="${BAR / 2 + 2}" r="6" fill="${c}"/>`,
    ),
    options.title
      ? `<text x="${width / 2}" y="${BAR / 2 + 6}" fill="#9da5b4" text-anchor="middle" font-size="12">${escapeXml(options.title)}</text>`
      : '',
  ];
  const style = {};
  lines.forEach((line, row) => {
    const y = PAD + BAR + row * CELL_H;
    let col = 0;
    const spans = [];
    for (const run of styledRuns(line, style)) {
      const chars = [...run.text];
      const s = run.style;
      const fg = s.inverse ? (s.bg ?? DEFAULT_BG) : (s.fg ?? DEFAULT_FG);
      const bg = s.inverse ? (s.fg ?? DEFAULT_FG) : s.bg;
      if (bg)
        out.push(
          `<rect x="${(PAD + col * CELL_W).toFixed(1)}" y="${y - 1}" width="${(chars.length * CELL_W).toFixed(1)}" height="${CELL_H}" fill="${bg}"/>`,
        );
      const attrs = [`x="${(PAD + col * CELL_W).toFixed(1)}"`, `fill="${fg}"`];
      if (s.bold) attrs.push('font-weight="bold"');
      if (s.dim) attrs.push('opacity="0.6"');
      if (run.text.trim()) spans.push(`<tspan ${attrs.join(' ')}>${escapeXml(run.text)}</tspan>`);
      col += chars.length;
    }
    if (spans.length)
      out.push(`<text y="${y + CELL_H - 5}" xml:space="preserve">${spans.join('')}</text>`);
  });
  out.push('</svg>');
  return `${out.filter(Boolean).join('\n')}\n`;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.stdout.write(textToSvg(readFileSync(process.argv[2] ?? 0, 'utf8')));
}
