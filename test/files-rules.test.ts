/** docker cp's path rules (protocol/files.ts), as table tests: argument split and copy plans. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyPlan, endsWithDot, splitCpArg, type CopyDest, type CopySource, type CopyVerdict } from '../protocol/files.js';

const SPLIT: [string, { container?: string; path: string }][] = [
  ['c1:/etc/motd', { container: 'c1', path: '/etc/motd' }],
  ['c1:etc', { container: 'c1', path: 'etc' }],
  ['/abs/with:colon', { path: '/abs/with:colon' }],
  ['./rel:x', { path: './rel:x' }],
  ['dir/a:b', { path: 'dir/a:b' }],
  ['-', { path: '-' }],
  ['plain', { path: 'plain' }],
];
for (const [arg, want] of SPLIT) test(`splitCpArg ${arg}`, () => assert.equal(splitCpArg(arg), want));

const file = (name: string): CopySource => ({ isDir: false, name, contentsOnly: false });
const dir = (name: string, contentsOnly = false): CopySource => ({ isDir: true, name, contentsOnly });
const missing = (path: string): CopyDest => ({ path, exists: false, isDir: false });
const isFile = (path: string): CopyDest => ({ path, exists: true, isDir: false });
const isDir = (path: string): CopyDest => ({ path, exists: true, isDir: true });

// The table in `docker cp --help`'s documentation, row by row.
const PLANS: [string, CopySource, CopyDest, CopyVerdict][] = [
  ['file → missing: created as DEST', file('a.txt'), missing('/tmp/b.txt'), { plan: { dir: '/tmp', from: 'a.txt', to: 'b.txt' } }],
  ['file → missing/ : error', file('a.txt'), missing('/tmp/new/'), { error: 'no such directory' }],
  ['file → existing file: overwritten', file('a.txt'), isFile('/tmp/b.txt'), { plan: { dir: '/tmp', from: 'a.txt', to: 'b.txt' } }],
  ['file → existing dir: inside it', file('a.txt'), isDir('/tmp/d'), { plan: { dir: '/tmp/d', from: 'a.txt', to: 'a.txt' } }],
  ['dir → missing: created with its contents', dir('src'), missing('/tmp/dst'), { plan: { dir: '/tmp', from: 'src', to: 'dst' } }],
  ['dir → existing file: error', dir('src'), isFile('/tmp/f'), { error: 'cannot copy a directory to a file' }],
  ['dir → existing dir: inside it', dir('src'), isDir('/tmp/d/'), { plan: { dir: '/tmp/d', from: 'src', to: 'src' } }],
  ['dir/. → existing dir: its contents', dir('src', true), isDir('/tmp/d'), { plan: { dir: '/tmp/d', from: 'src', to: '' } }],
  ['file → the root', file('a'), isDir('/'), { plan: { dir: '/', from: 'a', to: 'a' } }],
  ['file → relative missing', file('a'), missing('out'), { plan: { dir: '.', from: 'a', to: 'out' } }],
];
for (const [name, src, dst, want] of PLANS) test(`copyPlan: ${name}`, () => assert.equal(copyPlan(src, dst), want));

test('endsWithDot', () => {
  assert.ok(endsWithDot('/a/.'));
  assert.ok(endsWithDot('/a/./'));
  assert.ok(endsWithDot('.'));
  assert.not.ok(endsWithDot('/a/.b'));
  assert.not.ok(endsWithDot('/a/'));
});

test.run();
