/**
 * Go text/template's lexer, for `--format`: the template becomes text pieces and actions, each
 * action a list of tokens. Trim markers (`{{- ` / ` -}}`) trim the neighbouring text's white
 * space as Go does; comments (`{{/* … *\/}}`) vanish. Errors read as Go's ("template: :LINE: …").
 */
import { SbxError } from '../../protocol/index.js';

export type Tok =
  | { t: 'field'; v: string[] }          // .A.B  ('.' alone: v = [])
  | { t: 'var'; v: string; fields: string[] } // $x.A  ('$' alone: v = '$')
  | { t: 'ident'; v: string }            // if, range, len, join, true, nil …
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'punct'; v: '|' | '(' | ')' | ':=' | '=' | ',' }
  | { t: 'chain'; v: string[] };         // .A.B directly after ')' : a field of the parenthesised value

export type Piece = { kind: 'text'; text: string } | { kind: 'action'; toks: Tok[]; line: number };

export function templateError(line: number, msg: string): SbxError {
  return new SbxError('invalid_argument', `template parsing error: template: :${line}: ${msg}`);
}

const SPACE = /[ \t\r\n]/;

export function lex(src: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  let line = 1;
  let trimNext = false;
  const count = (s: string): void => { for (const c of s) if (c === '\n') line++; };
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    count(text);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) { if (text) pieces.push({ kind: 'text', text }); break; }
    let j = open + 2;
    if (src[j] === '-' && SPACE.test(src[j + 1] ?? '')) { text = text.replace(/[ \t\r\n]+$/, ''); j += 2; }
    if (text) pieces.push({ kind: 'text', text });
    while (SPACE.test(src[j] ?? '')) j++;
    if (src.startsWith('/*', j)) {
      const end = src.indexOf('*/', j + 2);
      if (end < 0) throw templateError(line, 'unclosed comment');
      count(src.slice(j, end));
      j = end + 2;
      while (SPACE.test(src[j] ?? '')) j++;
      if (src.startsWith('-}}', j)) { trimNext = true; j += 3; } else if (src.startsWith('}}', j)) j += 2;
      else throw templateError(line, 'comment ends before closing delimiter');
      i = j;
      continue;
    }
    const startLine = line;
    const toks: Tok[] = [];
    for (;;) {
      while (SPACE.test(src[j] ?? '')) { if (src[j] === '\n') line++; j++; }
      if (j >= src.length) throw templateError(startLine, 'unclosed action');
      if (src.startsWith('}}', j)) { j += 2; break; }
      if (src.startsWith('-}}', j) && SPACE.test(src[j - 1] ?? '')) { trimNext = true; j += 3; break; }
      j = token(src, j, toks, startLine);
    }
    pieces.push({ kind: 'action', toks, line: startLine });
    i = j;
  }
  return pieces;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /[-+]?(0x[0-9a-fA-F]+|\d+(\.\d+)?([eE][-+]?\d+)?)/y;
const FIELDS = /(\.[A-Za-z_][A-Za-z0-9_]*)+/y;

function match(re: RegExp, src: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(src)?.[0];
}

/** One token at `j` into `toks`; returns the index after it. */
function token(src: string, j: number, toks: Tok[], line: number): number {
  const c = src[j]!;
  if (c === '|' || c === '(' || c === ')' || c === ',' || c === '=') { toks.push({ t: 'punct', v: c }); return j + 1; }
  if (c === ':' && src[j + 1] === '=') { toks.push({ t: 'punct', v: ':=' }); return j + 2; }
  if (c === '"') {
    let k = j + 1;
    while (k < src.length && src[k] !== '"') { if (src[k] === '\\') k++; if (src[k] === '\n') throw templateError(line, 'unterminated quoted string'); k++; }
    if (k >= src.length) throw templateError(line, 'unterminated quoted string');
    try { toks.push({ t: 'str', v: JSON.parse(src.slice(j, k + 1)) as string }); } catch { throw templateError(line, `bad string ${src.slice(j, k + 1)}`); }
    return k + 1;
  }
  if (c === '`') {
    const k = src.indexOf('`', j + 1);
    if (k < 0) throw templateError(line, 'unterminated raw quoted string');
    toks.push({ t: 'str', v: src.slice(j + 1, k) });
    return k + 1;
  }
  if (c === '.') {
    const f = match(FIELDS, src, j);
    const prev = toks[toks.length - 1];
    const chained = prev?.t === 'punct' && prev.v === ')' && src[j - 1] === ')';
    if (f) { toks.push(chained ? { t: 'chain', v: f.slice(1).split('.') } : { t: 'field', v: f.slice(1).split('.') }); return j + f.length; }
    if (/[0-9]/.test(src[j + 1] ?? '')) { /* a number such as .5 */ } else { toks.push({ t: 'field', v: [] }); return j + 1; }
  }
  if (c === '$') {
    const name = match(IDENT, src, j + 1) ?? '';
    const f = match(FIELDS, src, j + 1 + name.length) ?? '';
    toks.push({ t: 'var', v: `$${name}`, fields: f ? f.slice(1).split('.') : [] });
    return j + 1 + name.length + f.length;
  }
  const n = match(NUMBER, src, j);
  if (n && (c !== '-' && c !== '+' || /[0-9.]/.test(src[j + 1] ?? ''))) { toks.push({ t: 'num', v: Number(n) }); return j + n.length; }
  const id = match(IDENT, src, j);
  if (id) { toks.push({ t: 'ident', v: id }); return j + id.length; }
  throw templateError(line, `unexpected ${JSON.stringify(c)} in command`);
}
