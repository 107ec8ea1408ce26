/**
 * sbx build, RUN as docker runs it: exec form (no shell, nothing expanded), SHELL, USER, WORKDIR,
 * `--network=none` (loopback only) and the default (the host's interfaces, as sbx has no bridge),
 * heredocs (`RUN <<EOF` as the script, a `#!` body run as a script file, a heredoc fed to a
 * command), and the ONBUILD triggers of a base image run in the child build.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { buildSuite } from './_helpers/build.js';
import { build } from './_helpers/build-cli.js';
import { privileged } from './_helpers/root.js';

const s = buildSuite('build: RUN');

s('exec form, SHELL, USER, WORKDIR', privileged(async (c) => {
  const b = await build(c, ['-t', 'ran', c.ctx], `FROM busybox
WORKDIR /work
RUN pwd > /pwd1
WORKDIR sub
RUN ["/bin/sh", "-c", "pwd > /pwd2"]
RUN ["echo", "exec form: $HOME is not expanded"]
USER nobody
RUN echo "uid=$(id -u) gid=$(id -g)"
USER root
SHELL ["/bin/sh", "-xc"]
RUN echo traced by the new shell
`);
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stderr, /exec form: \$HOME is not expanded/);
  assert.match(b.stderr, /uid=65534 gid=65534/);
  assert.match(b.stderr, /#\d+ [0-9.]+ \+ echo traced by the new shell/, 'SHELL ["/bin/sh", "-xc"] runs the next RUN with -x');
  const r = await sbx(c.d.root, ['run', '--rm', 'ran', 'cat', '/pwd1', '/pwd2']);
  assert.is(r.stdout, '/work\n/work/sub\n', r.stderr);
  const hist = await sbx(c.d.root, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'ran']);
  const rows = hist.stdout.split('\n');
  assert.is(rows[0], '/bin/sh -xc echo traced by the new shell', hist.stdout);
  assert.ok(rows.includes('/bin/sh -c pwd > /pwd2'), hist.stdout);
  assert.ok(rows.includes('echo exec form: $HOME is not expanded'), hist.stdout);
}));

s('--network=none has loopback only; the default has the host\'s interfaces', privileged(async (c) => {
  const ifaces = (text: string) => text.split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean).sort();
  const host = ifaces(await readFile('/proc/net/dev', 'utf8'));
  const b = await build(c, ['-t', 'nets', c.ctx], `FROM busybox
RUN --network=none tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > /none
RUN tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > /default
`);
  assert.is(b.code, 0, b.stderr);
  const none = await sbx(c.d.root, ['run', '--rm', 'nets', 'cat', '/none']);
  assert.is(none.stdout, 'lo\n', none.stderr);
  const dflt = await sbx(c.d.root, ['run', '--rm', 'nets', 'cat', '/default']);
  assert.equal(ifaces(`\n\n${dflt.stdout}`), host);
}));

s('heredocs: RUN <<EOF, a #! script, a heredoc fed to a command', privileged(async (c) => {
  const b = await build(c, ['-t', 'docs', c.ctx], `FROM busybox
RUN <<EOF
echo heredoc line one
echo heredoc line two > /two
EOF
RUN <<EOF
#!/bin/sh
echo "script says $0"
EOF
RUN cat <<EOF > /fed
fed to cat
EOF
`);
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stderr, /#2 [0-9.]+ heredoc line one\n/);
  assert.match(b.stderr, /#3 [0-9.]+ script says \/dev\/pipes\/EOF\n/);
  const r = await sbx(c.d.root, ['run', '--rm', 'docs', 'cat', '/two', '/fed']);
  assert.is(r.stdout, 'heredoc line two\nfed to cat\n', r.stderr);
  const pipes = await sbx(c.d.root, ['run', '--rm', 'docs', 'ls', '/dev/pipes']);
  assert.is.not(pipes.code, 0, 'the script file is not in the image');
}));

s('ONBUILD triggers of the base run in the child build, and are not inherited further', privileged(async (c) => {
  await writeFile(join(c.ctx, 'app.txt'), 'the child\'s app\n');
  const p = await build(c, ['-t', 'parent', c.ctx], `FROM busybox
ONBUILD COPY app.txt /app.txt
ONBUILD RUN echo trigger ran in the child > /onbuild
RUN echo parent built
`);
  assert.is(p.code, 0, p.stderr);
  assert.is.not((await sbx(c.d.root, ['run', '--rm', 'parent', 'cat', '/onbuild'])).code, 0, 'triggers do not run in the image that declares them');
  const child = await build(c, ['-t', 'child', c.ctx], 'FROM parent\nRUN cat /onbuild /app.txt\n');
  assert.is(child.code, 0, child.stderr);
  assert.match(child.stderr, /trigger ran in the child\n/);
  assert.match(child.stderr, /the child's app\n/);
  assert.match(child.stderr, /#1 [0-9.]+ ONBUILD RUN echo trigger ran in the child > \/onbuild\n/, 'the FROM step shows the triggers it runs');
  const again = await build(c, ['-t', 'child', c.ctx]);
  assert.is((again.stderr.match(/CACHED/g) ?? []).length, 3, again.stderr);
  const insp = JSON.parse((await sbx(c.d.root, ['image', 'inspect', 'child'])).stdout)[0];
  assert.is(insp.Config.OnBuild ?? null, null, 'a grandchild does not run them again');
  const pinsp = JSON.parse((await sbx(c.d.root, ['image', 'inspect', 'parent'])).stdout)[0];
  assert.equal(pinsp.Config.OnBuild, ['COPY app.txt /app.txt', 'RUN echo trigger ran in the child > /onbuild']);
}));

s.run();
