/**
 * sbx build, ARG and --build-arg as docker has them: defaults, --build-arg overriding them, a
 * stage sees only its own ARGs (and a global one only after re-declaring it), global ARGs in
 * FROM, ENV winning over ARG, the RUN history's `|N K=V` prefix, a changed value busting the
 * cache, and docker's warning for a --build-arg nothing declares.
 */
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { buildSuite } from './_helpers/build.js';
import { build } from './_helpers/build-cli.js';
import { privileged } from './_helpers/root.js';

const s = buildSuite('build: ARG and --build-arg');

const ARGS = `ARG BASE=busybox
ARG GLOBAL=from-global
FROM \${BASE} AS first
ARG WHO=default-who
ARG GLOBAL
RUN echo "first: who=$WHO global=$GLOBAL base=[$BASE]"

FROM \${BASE}
ARG WHO
ENV FIXED=env-value
ARG FIXED=arg-value
RUN echo "second: who=[$WHO] global=[$GLOBAL] fixed=$FIXED" > /said && cat /said
`;

s('defaults, --build-arg, scope per stage, global ARG in FROM, ENV over ARG; history and cache', privileged(async (c) => {
  const b = await build(c, ['--target', 'first', c.ctx], ARGS);
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stderr, /first: who=default-who global=from-global base=\[\]/, 'a global ARG is seen in a stage only after ARG NAME');
  assert.not.match(b.stderr, /Warning/);

  const o = await build(c, ['--target', 'first', '--build-arg', 'WHO=given', '--build-arg', 'GLOBAL=given-global', c.ctx]);
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stderr, /first: who=given global=given-global base=\[\]/);
  assert.match(o.stderr, /#3 CACHED/, o.stderr);
  assert.not.match(o.stderr, /#4 CACHED/, 'a changed build arg busts the RUN that sees it');

  const all = await build(c, ['-t', 'args', '--build-arg', 'WHO=second-who', '--build-arg', 'FIXED=ignored', c.ctx]);
  assert.is(all.code, 0, all.stderr);
  assert.match(all.stderr, /second: who=\[second-who\] global=\[\] fixed=env-value/, 'ARG WHO without a default takes --build-arg; ENV wins over ARG');
  const hist = await sbx(c.d.root, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'args']);
  assert.is(hist.stdout.split('\n')[0], '|1 WHO=second-who /bin/sh -c echo "second: who=[$WHO] global=[$GLOBAL] fixed=$FIXED" > /said && cat /said', hist.stdout);
  const env = await sbx(c.d.root, ['run', '--rm', 'args', 'sh', '-c', 'echo "[$WHO] $FIXED"']);
  assert.is(env.stdout, '[] env-value\n', 'a build arg is not in the image\'s environment');

  // (a registry on loopback that is not there: the missing base is pulled, and that fails)
  const base = await build(c, ['--target', 'first', '--build-arg', 'BASE=127.0.0.1:1/nosuch', c.ctx]);
  assert.is(base.code, 1, 'a global ARG chooses the FROM image');
  assert.match(base.stderr, /Dockerfile:3: 127\.0\.0\.1:1\/nosuch: failed to pull/);
}));

s('a --build-arg nothing declares: docker\'s warning, and the build goes on', privileged(async (c) => {
  const b = await build(c, ['--build-arg', 'NOPE=1', '--build-arg', 'ALSO=2', '--build-arg', 'WHO=x', '--build-arg', 'HTTP_PROXY=http://127.0.0.1:9', '-t', 'warned', c.ctx], ARGS);
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stderr, /\[Warning\] One or more build-args \[ALSO NOPE\] were not consumed/);
  assert.match(b.stderr, /naming to docker\.io\/library\/warned:latest done/);
}));

s.run();
