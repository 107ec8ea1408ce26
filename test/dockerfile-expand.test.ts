/**
 * Variable expansion against buildkit's shell lexer (frontend/dockerfile/shell/lex.go and the
 * cases of its envVarTest/wordsTest files): quoting, escapes, the ${} modifiers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expand, expandWords } from '../daemon/dockerfile/expand.js';
import { SbxError } from '../protocol/index.js';

const V = { PWD: '/home', SHELL: 'bash', EMPTY: '', SPACE: 'a b', BAR: 'bar' };

const CASES: [string, string][] = [
  ['hello', 'hello'],
  ['he\'llo\'', 'hello'],
  ['he"llo"', 'hello'],
  ['$PWD', '/home'],
  ['${PWD}', '/home'],
  ['x${PWD}x', 'x/homex'],
  ['$PWD/x', '/home/x'],
  ['\\$PWD', '$PWD'],
  ["'$PWD'", '$PWD'],
  ['"$PWD"', '/home'],
  ['"\\$PWD"', '$PWD'],
  ['"a\\b"', 'a\\b'],          // inside "…" only " $ and \ are escapable; other escapes stay
  ['"a\\\\b"', 'a\\b'],
  ['"a\\"b"', 'a"b'],
  ['a\\ b', 'a b'],
  ['\\a', 'a'],
  ['abc\\', 'abc'],           // a trailing lone escape disappears
  ['$', '$'],
  ['$/x', '$/x'],
  ['$UNSET', ''],
  ['${UNSET:-def}', 'def'],
  ['${EMPTY:-def}', 'def'],
  ['${EMPTY-def}', ''],
  ['${UNSET-def}', 'def'],
  ['${PWD:-def}', '/home'],
  ['${PWD:+alt}', 'alt'],
  ['${EMPTY:+alt}', ''],
  ['${EMPTY+alt}', 'alt'],
  ['${UNSET+alt}', ''],
  ['${UNSET:-$BAR/x}', 'bar/x'],      // the default is expanded itself
  ['${UNSET:-"a b"}', 'a b'],
  ['${PWD:?must be set}', '/home'],
  ['$SPACE', 'a b'],
];

for (const [input, want] of CASES) {
  test(`expand ${JSON.stringify(input)} → ${JSON.stringify(want)}`, () => {
    assert.is(expand(input, V), want);
  });
}

test('the ` escape token replaces \\', () => {
  assert.is(expand('a`$PWD\\x', V, '`'), 'a$PWD\\x');
  assert.is(expand('"`"x"', V, '`'), '"x');
});

test('words: split on blanks outside quotes, also inside an unquoted value (ProcessWords)', () => {
  assert.equal(expandWords('a  "b c" d\\ e', V), ['a', 'b c', 'd e']);
  assert.equal(expandWords('$SPACE x', V), ['a', 'b', 'x']);
  assert.equal(expandWords('"$SPACE" x$SPACE', V), ['a b', 'xa', 'b']);
  assert.equal(expandWords('  ', V), []);
});

test('errors: unterminated quotes, missing }, bad substitution, ${X:?msg} when unset', () => {
  const err = (s: string, re: RegExp): void => {
    try { expand(s, V); } catch (e) { assert.instance(e, SbxError); assert.match((e as Error).message, re); return; }
    assert.unreachable(s);
  };
  err("'abc", /matching single-quote/);
  err('"abc', /matching double-quote/);
  err('${PWD', /missing '}'/);
  err('${}', /bad substitution/);
  err('${UNSET:?need it}', /UNSET: need it/);
  err('${EMPTY:?}', /EMPTY: is not allowed to be empty/);
  err('${UNSET?}', /UNSET: is not allowed to be unset/);
});

test.run();
