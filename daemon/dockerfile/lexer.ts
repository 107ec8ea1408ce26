/**
 * The Dockerfile line lexer: text → directives + logical instruction lines, each with its source
 * range, its leading `--flags` and its heredoc bodies. A port of moby/buildkit
 * frontend/dockerfile/parser/parser.go (Parse, processLine, trimContinuationCharacter,
 * extractBuilderFlags, heredoc collection), not a general shell parser.
 *
 * Why our own and not `dockerfile-ast` (the VS Code language server's parser): that library is
 * built for an editor, so it is error-tolerant (it builds a tree for text docker rejects and leaves
 * the verdict to a separate linter), works in character ranges of a TextDocument and brings two
 * vscode-languageserver packages; the flag typing, JSON-form detection and variable expansion we
 * need would still be ours. docker's own parser is a few hundred lines of line rules, which this
 * file follows rule by rule (cited below), so no dependency is added.
 */
import { SbxError } from '../../protocol/index.js';
import type { Directives, Heredoc, SourceRange } from './types.js';

export interface LexedLine {
  keyword: string;          // upper-case
  rest: string;             // after the keyword and flags, continuations joined
  flags: Record<string, string | true>;
  multi: Record<string, string[]>; // flags that may repeat (--mount, --exclude), in order
  heredocs: Heredoc[];
  src: SourceRange;
  original: string;
}

export function fail(src: { file: string; line: number }, why: string): SbxError {
  return new SbxError('invalid_argument', `${src.file}:${src.line}: ${why}`);
}

// parser/directives.go: `# key=value`, only before anything else; an unknown key ends the block.
const DIRECTIVE_RE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(['escape', 'syntax', 'check']);
const HEREDOC_COMMANDS = new Set(['RUN', 'COPY', 'ADD']);
const REPEATABLE = new Set(['mount', 'exclude']);

/** Split into directives and logical lines. Comments and blank lines vanish, also inside continuations. */
export function lex(text: string, file: string): { directives: Directives; lines: LexedLine[] } {
  const raw = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const directives: Directives = { escape: '\\' };
  const seen = new Set<string>();
  let i = 0;
  for (; i < raw.length; i++) {
    const m = DIRECTIVE_RE.exec(raw[i]!);
    if (!m || !KNOWN_DIRECTIVES.has(m[1]!.toLowerCase())) break;
    const key = m[1]!.toLowerCase() as keyof Directives;
    if (seen.has(key)) throw fail({ file, line: i + 1 }, `only one ${key} parser directive can be used`);
    seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw fail({ file, line: i + 1 }, `invalid escape token '${m[2]}' does not match \` or \\`);
      directives.escape = m[2];
    } else directives[key] = m[2]!;
  }
  const esc = directives.escape === '`' ? '`' : '\\\\';
  const continuation = new RegExp(`${esc}[ \\t]*$`);
  const isComment = (l: string): boolean => /^\s*#/.test(l);
  const lines: LexedLine[] = [];
  for (; i < raw.length; i++) {
    const first = raw[i]!.replace(/^\s+/, '');
    if (first === '' || isComment(first)) continue;
    const start = i + 1;
    let line = first;
    // parser.go: while the line ends in the escape token, append the next line as is (its leading
    // blanks kept), skipping comment lines and empty continuation lines in between.
    while (continuation.test(line)) {
      line = line.replace(continuation, '');
      let next: string | undefined;
      while (i + 1 < raw.length) {
        const cand = raw[++i]!;
        if (isComment(cand) || cand.trim() === '') continue;
        next = cand;
        break;
      }
      if (next === undefined) break;
      line += next;
    }
    const src: SourceRange = { file, line: start, endLine: i + 1 };
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line.trim())!;
    const keyword = m[1]!.toUpperCase();
    const { flags, multi, rest } = extractFlags(m[2]!, src);
    const heredocs: Heredoc[] = [];
    if (HEREDOC_COMMANDS.has(keyword)) {
      for (const h of heredocNames(rest, directives.escape)) {
        const body: string[] = [];
        for (;;) {
          if (i + 1 >= raw.length) throw fail(src, `unterminated heredoc ${h.name}`);
          const l = raw[++i]!;
          const cmp = h.chomp ? l.replace(/^\t+/, '') : l;
          if (cmp === h.name) break;
          body.push(cmp);
        }
        heredocs.push({ ...h, content: body.map((l) => l + '\n').join('') });
      }
      src.endLine = i + 1;
    }
    lines.push({ keyword, rest, flags, multi, heredocs, src, original: line.trim() });
  }
  return { directives, lines };
}

/**
 * parser/line_parsers.go extractBuilderFlags: leading words `--name[=value]` (quotes allowed in
 * the value); `--` alone ends the flags. Values stay raw; evaluate expands them.
 */
function extractFlags(s: string, src: SourceRange): { flags: Record<string, string | true>; multi: Record<string, string[]>; rest: string } {
  const flags: Record<string, string | true> = {};
  const multi: Record<string, string[]> = {};
  let rest = s;
  for (;;) {
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|\S*))?(?:\s+|$)/.exec(rest);
    if (!m) break;
    rest = rest.slice(m[0].length);
    const name = m[1]!.toLowerCase();
    let value: string | true = m[2] === undefined ? true : m[2];
    if (typeof value === 'string' && /^(["']).*\1$/s.test(value)) value = value.slice(1, -1);
    if (REPEATABLE.has(name)) (multi[name] ??= []).push(value === true ? '' : value);
    else if (name in flags) throw fail(src, `duplicate flag specified: --${name}`);
    flags[name] = value;
  }
  return { flags, multi, rest: rest.trim() };
}

/** buildkit parser.go heredoc detection: shell words `[n]<<[-]NAME`, NAME optionally quoted. */
function heredocNames(rest: string, escape: string): Omit<Heredoc, 'content'>[] {
  const out: Omit<Heredoc, 'content'>[] = [];
  for (const w of shellWords(rest, escape)) {
    const m = /^\d*<<(-?)(["']?)([^<"']+)\2$/.exec(w);
    if (!m) continue;
    out.push({ name: m[3]!, chomp: m[1] === '-', expand: m[2] === '' });
  }
  return out;
}

/**
 * parser/line_parsers.go parseWords: split on blanks outside quotes, keeping the quotes and the
 * escape token in the words (expansion removes them later); an escape token escapes the next char.
 */
export function shellWords(s: string, escape: string): string[] {
  const out: string[] = [];
  let word = '';
  let quote = '';
  let inWord = false;
  for (let p = 0; p < s.length; p++) {
    let ch = s[p]!;
    if (!inWord) {
      if (/\s/.test(ch)) continue;
      inWord = true;
    }
    if (/\s/.test(ch) && quote === '') {
      out.push(word);
      word = '';
      inWord = false;
      continue;
    }
    if (quote === '' && (ch === '"' || ch === "'")) quote = ch;
    else if (ch === quote) quote = '';
    else if (ch === escape && quote !== "'") {
      if (p + 1 === s.length) continue;
      word += ch;
      ch = s[++p]!;
    }
    word += ch;
  }
  if (inWord) out.push(word);
  return out;
}
