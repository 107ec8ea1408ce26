/**
 * evaluate(): one instruction + the stage state → the Step the executor runs, with docker's config
 * semantics, history text, ARG scoping and expansion exactly where docker expands.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ContainerConfig } from '../protocol/index.js';
import { SbxError } from '../protocol/index.js';
import { applyChanges } from '../daemon/dockerfile/config-changes.js';
import { copyCreatedBy, evaluate, goDuration, initialState } from '../daemon/dockerfile/evaluate.js';
import { parseDockerfile } from '../daemon/dockerfile/parse.js';
import type { StageState, Step } from '../daemon/dockerfile/types.js';

/** Evaluate every instruction of the last stage, threading the state as the executor does. */
function walk(text: string, opts: { base?: ContainerConfig; buildArgs?: Record<string, string>; globals?: Record<string, string | undefined> } = {}): { steps: Step[]; state: StageState } {
  const df = parseDockerfile(text);
  const stage = df.stages[df.stages.length - 1]!;
  const state = initialState(opts.base, opts.globals ?? {}, opts.buildArgs ?? {}, df.directives.escape);
  const steps: Step[] = [];
  for (const i of stage.instructions) {
    const s = evaluate(i, state);
    steps.push(s);
    if (s.kind === 'config') { state.config = s.config; if (s.cmdSet) state.cmdSet = true; }
    if (s.kind === 'arg') state.args = s.args;
  }
  return { steps, state };
}

function throwsAt(fn: () => unknown, re: RegExp): void {
  try { fn(); } catch (e) { assert.instance(e, SbxError); assert.match((e as Error).message, re); return; }
  assert.unreachable(String(re));
}

test('web-ping: ENV with continuations, WORKDIR, COPY app.js ., CMD give docker\'s config and history text', () => {
  const { steps, state } = walk([
    'FROM busybox',
    'ENV TARGET="blog.sixeyed.com" \\',
    '    METHOD="HEAD" \\',
    '    INTERVAL="3000"',
    'WORKDIR /web-ping',
    'COPY app.js .',
    'CMD ["node", "/web-ping/app.js"]',
  ].join('\n'), { base: { Env: ['PATH=/bin'], Cmd: ['sh'] } });
  assert.equal(state.config, {
    Env: ['PATH=/bin', 'TARGET=blog.sixeyed.com', 'METHOD=HEAD', 'INTERVAL=3000'],
    Cmd: ['node', '/web-ping/app.js'], WorkingDir: '/web-ping',
  });
  assert.equal(steps.map((s) => s.kind === 'copy' ? s.cacheText : s.createdBy), [
    '/bin/sh -c #(nop)  ENV TARGET=blog.sixeyed.com METHOD=HEAD INTERVAL=3000',
    '/bin/sh -c #(nop) WORKDIR /web-ping',
    'COPY app.js .',
    '/bin/sh -c #(nop)  CMD ["node" "/web-ping/app.js"]',
  ]);
  const wd = steps[1]!;
  assert.is(wd.kind === 'config' && wd.mkdir, '/web-ping');
  const copy = steps[2]!;
  assert.ok(copy.kind === 'copy');
  if (copy.kind !== 'copy') return;
  assert.equal([copy.sources, copy.dest], [['app.js'], '/web-ping/']);
  assert.is(copyCreatedBy(copy, { kind: 'file', hex: 'sha256:ab12' }), '/bin/sh -c #(nop) COPY file:ab12 in . ');
});

test('config instructions agree with commit -c (one set of dispatchers)', () => {
  const lines = ['ENTRYPOINT ["/e"]', 'EXPOSE 80 53/udp', 'LABEL a=b', 'USER app', 'VOLUME /data', 'STOPSIGNAL SIGINT', 'HEALTHCHECK --interval=5s CMD true', 'WORKDIR sub'];
  const base: ContainerConfig = { Cmd: ['sh'], WorkingDir: '/srv', Env: ['A=1'] };
  const built = walk(`FROM x\n${lines.join('\n')}`, { base }).state.config;
  assert.equal(built, applyChanges(base, lines));
  assert.is(built.Cmd, null); // ENTRYPOINT resets the base image's CMD
});

test('ENTRYPOINT keeps a CMD set earlier in the same stage; shell form uses SHELL', () => {
  const { state, steps } = walk('FROM x\nSHELL ["/bin/bash", "-xc"]\nCMD echo hi\nENTRYPOINT exec top', { base: { Cmd: ['sh'] } });
  assert.equal(state.config.Cmd, ['/bin/bash', '-xc', 'echo hi']);
  assert.equal(state.config.Entrypoint, ['/bin/bash', '-xc', 'exec top']);
  assert.is(steps[0]!.kind === 'config' && steps[0].createdBy, '/bin/sh -c #(nop)  SHELL [/bin/bash -xc]');
});

test('expansion only where docker expands: ENV/WORKDIR/COPY/EXPOSE yes, RUN/CMD no', () => {
  const { steps, state } = walk('FROM x\nARG P="80 443"\nENV D=/app N=web\nWORKDIR $D/${N}\nEXPOSE $P\nCOPY ${N}.js ./\nRUN echo $D\nCMD echo $D');
  assert.is(state.config.WorkingDir, '/app/web');
  assert.equal(state.config.ExposedPorts, { '80/tcp': {}, '443/tcp': {} });
  const copy = steps[4]!;
  assert.equal(copy.kind === 'copy' && [copy.sources, copy.dest], [['web.js'], '/app/web/']);
  const run = steps[5]!;
  assert.equal(run.kind === 'run' && run.argv, ['/bin/sh', '-c', 'echo $D']);
  assert.equal(state.config.Cmd, ['/bin/sh', '-c', 'echo $D']);
});

test('ARG: default, --build-arg wins, a bare ARG inherits the global, ENV overrides ARG', () => {
  const { state } = walk('FROM x\nARG A=def\nARG B=def\nARG G\nARG U\nENV B=env\nLABEL a=$A b=$B g=$G u=$U', {
    buildArgs: { B: 'cli' }, globals: { G: 'global' },
  });
  assert.equal(state.config.Labels, { a: 'def', b: 'env', g: 'global', u: '' });
  assert.equal(state.args, { A: 'def', B: 'cli', G: 'global', U: undefined });
});

test('ENV pairs of one instruction expand with the values from before it; WORKDIR history names the resolved dir', () => {
  const { state, steps } = walk('FROM x\nENV A=old\nENV A=new B=$A\nWORKDIR /a\nWORKDIR b/../c');
  assert.equal(state.config.Env, ['A=new', 'B=old']);
  assert.is(steps[3]!.kind === 'config' && steps[3].createdBy, '/bin/sh -c #(nop) WORKDIR /a/c');
});

test('a build arg is invisible until the stage declares it', () => {
  const { state } = walk('FROM x\nLABEL before=$V\nARG V\nLABEL after=$V', { buildArgs: { V: '1' } });
  assert.equal(state.config.Labels, { before: '', after: '1' });
});

test('RUN: build args reach the env and the |N history prefix; proxies reach the env only; ENV shadows', () => {
  const { steps } = walk('FROM x\nARG B=2\nARG A=1\nARG E=x\nENV E=env\nUSER u\nRUN --network=none make', {
    base: { Env: ['PATH=/bin'], WorkingDir: '/w' }, buildArgs: { http_proxy: 'http://127.0.0.1:3128', OTHER: 'z' },
  });
  const run = steps[steps.length - 1]!;
  assert.ok(run.kind === 'run');
  if (run.kind !== 'run') return;
  assert.is(run.createdBy, '|2 A=1 B=2 /bin/sh -c make');
  assert.equal(run.env, ['PATH=/bin', 'E=env', 'A=1', 'B=2', 'http_proxy=http://127.0.0.1:3128']);
  assert.equal([run.user, run.workdir, run.network], ['u', '/w', 'none']);
});

test('RUN heredocs: `RUN <<EOF` runs the body; `RUN cmd <<EOF` hands the heredoc to the shell', () => {
  const { steps } = walk('FROM x\nRUN <<EOF\necho a\necho b\nEOF\nRUN cat > /f <<EOT\nhi\nEOT');
  assert.equal(steps[0]!.kind === 'run' && steps[0].argv, ['/bin/sh', '-c', 'echo a\necho b\n']);
  assert.equal(steps[1]!.kind === 'run' && steps[1].argv, ['/bin/sh', '-c', 'cat > /f <<EOT\nhi\nEOT']);
});

test('RUN <<EOF with a #! body runs it as a script file, as buildkit does', () => {
  const { steps } = walk('FROM x\nRUN <<PY\n#!/usr/bin/env python3\nprint(1)\nPY');
  const run = steps[0]!;
  assert.ok(run.kind === 'run');
  if (run.kind !== 'run') return;
  assert.equal(run.argv, ['/dev/pipes/PY']);
  assert.equal(run.files, [{ path: '/dev/pipes/PY', content: '#!/usr/bin/env python3\nprint(1)\n', mode: 0o755 }]);
  assert.is(run.createdBy, '/dev/pipes/PY');
});

test('RUN --mount values are expanded; a cache mount is writable', () => {
  const { steps } = walk('FROM x\nARG ID=pip\nRUN --mount=type=cache,id=$ID,target=/c true');
  const run = steps[1]!;
  assert.equal(run.kind === 'run' && run.mounts, [{ type: 'cache', readonly: false, id: 'pip', target: '/c', sharing: 'shared' }]);
});

test('COPY: heredoc sources expand unless quoted; several sources need a directory destination', () => {
  const { steps } = walk('FROM x\nENV W=world\nCOPY <<a <<"b" /d/\nhello $W\na\nhello $W\nb');
  const c = steps[1]!;
  assert.equal(c.kind === 'copy' && c.heredocs.map((h) => h.content), ['hello world\n', 'hello $W\n']);
  assert.equal(c.kind === 'copy' && c.sources, []);
  throwsAt(() => walk('FROM x\n\nCOPY a b /dest'), /^Dockerfile:3: When using COPY with more than one source file, the destination must be a directory and end with a \//);
  throwsAt(() => walk('FROM x\nCOPY --chmod=abc a /b'), /^Dockerfile:2: invalid chmod parameter/);
  throwsAt(() => walk('FROM x\nCOPY http://127.0.0.1/x /b'), /^Dockerfile:2: COPY does not support URLs/);
});

test('COPY destinations: relative to WORKDIR, trailing slash kept, --chown/--from expanded', () => {
  const { steps } = walk('FROM x\nARG U=1:1\nWORKDIR /w\nCOPY --from=build --chown=$U a sub/\nCOPY a b\nCOPY a /abs');
  const [c1, c2, c3] = steps.slice(2);
  assert.equal(c1!.kind === 'copy' && [c1.dest, c1.chown, c1.from], ['/w/sub/', '1:1', 'build']);
  assert.is(c2!.kind === 'copy' && c2.dest, '/w/b');
  assert.is(c3!.kind === 'copy' && c3.dest, '/abs');
  if (c1!.kind === 'copy') assert.is(copyCreatedBy(c1, { kind: 'dir', hex: 'ff' }), '/bin/sh -c #(nop) COPY --chown=1:1 dir:ff in sub/ ');
});

test('expansion errors name the line', () => {
  throwsAt(() => walk('FROM x\nENV A=${B:?needed}'), /^Dockerfile:2: .*B: needed/);
});

test('Go durations as docker prints them in HEALTHCHECK history', () => {
  assert.equal([0, 5e8, 1.5e9, 90e9, 3600e9].map(goDuration), ['0s', '500ms', '1.5s', '1m30s', '1h0m0s']);
});

test.run();
