import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { familiarString, normalizeReference, parseReference } from '../protocol/index.js';
import { nameFromRefName, refNameFor } from '../daemon/images/store.js';

const D = 'sha256:' + 'a'.repeat(64);
const GOOD: [string, string][] = [
  ['busybox', 'docker.io/library/busybox:latest'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36'],
  ['me/app', 'docker.io/me/app:latest'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest'],
  ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1'],
  ['localhost/app', 'localhost/app:latest'],
  ['localhost:5000/app:dev', 'localhost:5000/app:dev'],
  ['127.0.0.1:5000/me/mysite:1', '127.0.0.1:5000/me/mysite:1'],
  ['ghcr.io/o/r@' + D, 'ghcr.io/o/r@' + D],
  ['ghcr.io/o/r:v1@' + D, 'ghcr.io/o/r:v1@' + D],
  ['[::1]:5000/app', '[::1]:5000/app:latest'],
  ['a.b-c.d/x__y/z-0.9:TAG_1.x', 'a.b-c.d/x__y/z-0.9:TAG_1.x'],
  ['mysite:1', 'docker.io/library/mysite:1'],
];
for (const [input, want] of GOOD) test(`normalise ${input}`, () => assert.is(normalizeReference(input), want));

const BAD: [string, RegExp][] = [
  ['', /empty/],
  ['Busybox', /lowercase/],
  ['busybox:', /tag/],
  ['busybox:-x', /tag/],
  ['bu$ybox', /repository/],
  ['a//b', /repository/],
  ['busybox@sha256:abc', /64/],
  ['busybox@nope', /digest/],
  [' busybox', /whitespace/],
  ['host:5000/', /repository|missing/],
  ['x:' + 'a'.repeat(129), /tag/],
  ['-leading', /repository/],
];
for (const [input, why] of BAD) {
  test(`reject ${JSON.stringify(input)}`, () => {
    try { parseReference(input); } catch (e) { assert.match((e as Error).message, why); assert.match((e as Error).message, /invalid reference format/); return; }
    assert.unreachable('accepted');
  });
}

const FAMILIAR: [string, string][] = [
  ['docker.io/library/busybox:latest', 'busybox:latest'],
  ['docker.io/me/app:1', 'me/app:1'],
  ['127.0.0.1:5000/me/app:1', '127.0.0.1:5000/me/app:1'],
];
for (const [input, want] of FAMILIAR) test(`familiar ${input}`, () => assert.is(familiarString(parseReference(input)), want));

test('ref.name annotations drop :latest and round-trip', () => {
  assert.is(refNameFor('docker.io/library/busybox:latest'), 'busybox');
  assert.is(refNameFor('docker.io/library/mysite:1'), 'mysite:1');
  assert.is(nameFromRefName('busybox'), 'docker.io/library/busybox:latest');
  assert.is(nameFromRefName('mysite:1'), 'docker.io/library/mysite:1');
  assert.is(nameFromRefName('v1.0'), 'docker.io/library/v1.0:latest');
});

test.run();
