/**
 * Variable expansion with docker's shell-lexer rules (moby/buildkit frontend/dockerfile/shell/
 * lex.go, ProcessWord/ProcessWords). Not a shell: no command substitution, no globbing.
 *
 *   'single'      literal up to the next ' (no escapes inside)
 *   "double"      $ expands; the escape token escapes only " $ and itself, else it stays
 *   \x            outside quotes: x literally (a trailing lone escape is dropped)
 *   $NAME ${NAME} unset → ''
 *   ${N:-w} ${N-w}  w when N is unset-or-empty / unset;  ${N:+w} ${N+w}  w when set-and-non-empty / set
 *   ${N:?msg} ${N?msg}  error when unset(-or-empty)
 *   $ followed by no name char stays a literal '$'
 * Words in the default/alternative (`w`) are expanded themselves. ProcessWords also splits on
 * blanks outside quotes, including blanks inside an unquoted variable's value (lex.go
 * wordsStruct.addString; that is how `EXPOSE $PORTS` with PORTS="80 443" gives two ports).
 */
import { SbxError } from '../../protocol/index.js';

export type Vars = Readonly<Record<string, string | undefined>>;

class Lexer {
  pos = 0;
  constructor(readonly s: string, readonly vars: Vars, readonly esc: string) {}
  peek(): string | undefined { return this.s[this.pos]; }
  next(): string | undefined { return this.s[this.pos++]; }

  /** Read up to (not including) `stop` outside quotes; returns the words (split only if `split`). */
  process(stop: string | undefined, split: boolean): string[] {
    const words: string[] = [];
    let word = '';
    let inWord = false;
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) {
        if (stop !== undefined) throw new SbxError('invalid_argument', `failed to process "${this.s}": missing '}'`);
        break;
      }
      if (ch === stop) { this.next(); break; }
      if (split && /\s/.test(ch)) {
        this.next();
        if (inWord) { words.push(word); word = ''; inWord = false; }
        continue;
      }
      inWord = true;
      if (ch === "'") { this.next(); word += this.single(); continue; }
      if (ch === '"') { this.next(); word += this.double(); continue; }
      if (ch === '$') {
        this.next();
        const value = this.dollar();
        if (!split) { word += value; continue; }
        // lex.go wordsStruct.addString: an unquoted value splits on its blanks
        for (const c of value) {
          if (!/\s/.test(c)) { word += c; continue; }
          if (word !== '') { words.push(word); word = ''; }
          inWord = false;
        }
        if (word !== '') inWord = true;
        continue;
      }
      this.next();
      if (ch === this.esc) {
        const n = this.next();
        if (n === undefined) break;
        word += n;
        continue;
      }
      word += ch;
    }
    if (inWord || !split) words.push(word);
    return words;
  }

  single(): string {
    const end = this.s.indexOf("'", this.pos);
    if (end < 0) throw new SbxError('invalid_argument', `failed to process "${this.s}": unexpected end of statement while looking for matching single-quote`);
    const out = this.s.slice(this.pos, end);
    this.pos = end + 1;
    return out;
  }

  double(): string {
    let out = '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new SbxError('invalid_argument', `failed to process "${this.s}": unexpected end of statement while looking for matching double-quote`);
      if (ch === '"') return out;
      if (ch === '$') { out += this.dollar(); continue; }
      if (ch === this.esc) {
        const n = this.peek();
        // lex.go processDoubleQuote: only " $ and the escape token can be escaped; other escapes stay as is
        if (n === '"' || n === '$' || n === this.esc) { out += n; this.next(); continue; }
      }
      out += ch;
    }
  }

  name(): string {
    const m = /^[A-Za-z0-9_]+/.exec(this.s.slice(this.pos));
    if (!m) return '';
    this.pos += m[0].length;
    return m[0];
  }

  dollar(): string {
    if (this.peek() !== '{') {
      const name = this.name();
      return name === '' ? '$' : this.vars[name] ?? '';
    }
    this.next();
    const name = this.name();
    if (name === '') throw new SbxError('invalid_argument', `failed to process "${this.s}": bad substitution`);
    const value = this.vars[name];
    let ch = this.next();
    if (ch === undefined) throw new SbxError('invalid_argument', `failed to process "${this.s}": missing '}'`);
    if (ch === '}') return value ?? '';
    const colon = ch === ':';
    if (colon) ch = this.next();
    const set = colon ? value !== undefined && value !== '' : value !== undefined;
    if (ch === '-' || ch === '+' || ch === '?') {
      const word = this.process('}', false)[0] ?? '';
      if (ch === '-') return set ? value! : word;
      if (ch === '+') return set ? word : '';
      if (!set) throw new SbxError('invalid_argument', `failed to process "${this.s}": ${name}: ${word || (colon ? 'is not allowed to be empty' : 'is not allowed to be unset')}`);
      return value!;
    }
    throw new SbxError('invalid_argument', `failed to process "${this.s}": unsupported modifier (${colon ? ':' : ''}${ch ?? ''}) in substitution`);
  }
}

/** ProcessWord: expand one word (no splitting), removing quotes and escapes. */
export function expand(word: string, vars: Vars, escape = '\\'): string {
  return new Lexer(word, vars, escape).process(undefined, false)[0] ?? '';
}

/** ProcessWords: split on blanks outside quotes, then expand each word. */
export function expandWords(text: string, vars: Vars, escape = '\\'): string[] {
  return new Lexer(text, vars, escape).process(undefined, true);
}

/** Env list (`K=V`) → variables; a later entry wins, as in the container. */
export function envVars(env: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i < 0) out[e] = ''; else out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}
