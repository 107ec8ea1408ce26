/**
 * plan(): only the stages the target needs, dependencies first; global ARGs in FROM; cycles and
 * bad references as errors naming the line; docker's warning for unused build args.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SbxError } from '../protocol/index.js';
import { onbuildInstructions, plan } from '../daemon/dockerfile/plan.js';
import { parseDockerfile } from '../daemon/dockerfile/parse.js';

const MULTI = [
  'ARG GO=1.22',                              // 1
  'FROM golang:${GO} AS build',               // 2
  'RUN make',                                 // 3
  'FROM alpine AS unused',                    // 4
  'RUN exit 1',                               // 5
  'FROM build AS test',                       // 6
  'RUN make test',                            // 7
  'FROM scratch',                             // 8
  'COPY --from=build /out/app /app',          // 9
  'COPY --from=1 /etc/os-release /x',         // 10
  'RUN --mount=type=bind,from=busybox:1,target=/b true', // 11
].join('\n');

function throwsAt(fn: () => unknown, re: RegExp): void {
  try { fn(); } catch (e) { assert.instance(e, SbxError); assert.match((e as Error).message, re); return; }
  assert.unreachable(String(re));
}

test('the default target builds only the stages it needs, dependencies first', () => {
  const p = plan(parseDockerfile(MULTI));
  assert.equal(p.stages.map((s) => s.stage.index), [0, 1, 3]);
  const last = p.stages[2]!;
  assert.equal(last.base, { image: 'scratch' });
  assert.equal(last.froms, { build: { stage: 0 }, 1: { stage: 1 }, 'busybox:1': { image: 'busybox:1' } });
  assert.equal(p.stages[0]!.base, { image: 'golang:1.22' });
  assert.equal(p.warnings, []);
});

test('--target picks a stage by name (case-insensitive); FROM a stage name depends on it', () => {
  const p = plan(parseDockerfile(MULTI), { target: 'TEST', buildArgs: { GO: '1.23' } });
  assert.equal(p.stages.map((s) => s.stage.index), [0, 2]);
  assert.equal(p.stages[0]!.base, { image: 'golang:1.23' });
  assert.equal(p.stages[1]!.base, { stage: 0 });
  assert.is(p.stages[1]!.globals.GO, '1.23');
  throwsAt(() => plan(parseDockerfile(MULTI), { target: 'nope' }), /target stage "nope" could not be found/);
});

test('a cycle of stages is an error naming the line that closes it', () => {
  const df = parseDockerfile('FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\nCOPY --from=a /y /y');
  throwsAt(() => plan(df), /^Dockerfile:(2|4): circular dependency detected on stage: (a|b)/);
  throwsAt(() => plan(parseDockerfile('FROM alpine AS a\n\nCOPY --from=a /x /x')), /^Dockerfile:3: circular dependency detected on stage: a/);
});

test('a stage index past the last stage is an error naming the line', () => {
  throwsAt(() => plan(parseDockerfile('FROM a\nFROM b\n\nCOPY --from=7 /x /x')), /^Dockerfile:4: invalid stage index 7/);
});

test('a build arg no ARG declares is a docker-style warning; the proxies are predefined', () => {
  const p = plan(parseDockerfile('ARG A\nFROM x\nARG B\nFROM y AS other\nARG C'), { target: undefined, buildArgs: { A: '1', B: '2', C: '3', Z: '4', HTTP_PROXY: 'p' } });
  // the last stage is the target, so stage 0's ARG B is not consumed
  assert.equal(p.stages.map((s) => s.stage.index), [1]);
  assert.equal(p.warnings, ['[Warning] One or more build-args [B Z] were not consumed']);
});

test('a global ARG in FROM; an empty base name is an error', () => {
  const p = plan(parseDockerfile('ARG IMG=busybox\nARG TAG\nFROM ${IMG}:${TAG:-latest}'));
  assert.equal(p.stages[0]!.base, { image: 'busybox:latest' });
  throwsAt(() => plan(parseDockerfile('ARG IMG\nFROM $IMG')), /^Dockerfile:2: base name \(\$IMG\) should not be blank/);
});

test('FROM a later stage\'s name is an image, not a stage', () => {
  const p = plan(parseDockerfile('FROM later\nFROM alpine AS later'), { target: undefined });
  assert.equal(p.stages.map((s) => s.stage.index), [1]);
  assert.equal(plan(parseDockerfile('FROM later\nRUN x\nFROM alpine AS later\nCOPY --from=0 /a /a')).stages[0]!.base, { image: 'later' });
});

test('platform ARGs: automatic in FROM and for a bare ARG; --platform other than the host is refused', () => {
  const df = parseDockerfile('ARG TARGETARCH\nFROM --platform=$BUILDPLATFORM img-$TARGETARCH:$TARGETOS');
  const p = plan(df, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
  assert.equal(p.stages[0]!.base, { image: 'img-arm64:linux' });
  assert.is(p.stages[0]!.platform, 'linux/arm64/v8');
  assert.is(p.stages[0]!.globals.TARGETARCH, 'arm64');
  try {
    plan(parseDockerfile('FROM --platform=linux/s390x x'), { platform: { os: 'linux', architecture: 'amd64' } });
    assert.unreachable();
  } catch (e) {
    assert.is((e as SbxError).code, 'not_implemented');
    assert.match((e as Error).message, /^Dockerfile:1: FROM --platform=linux\/s390x: sbx builds for the host platform only \(linux\/amd64\)/);
  }
});

test('ONBUILD triggers of a base image become instructions at the FROM line', () => {
  const ins = onbuildInstructions(['COPY . /app', 'RUN make'], { file: 'Dockerfile', line: 3, endLine: 3 });
  assert.equal(ins.map((i) => [i.kind, i.src.line]), [['COPY', 3], ['RUN', 3]]);
  throwsAt(() => onbuildInstructions(['FROM x'], { file: 'Dockerfile', line: 3, endLine: 3 }), /^Dockerfile:3: FROM isn't allowed as an ONBUILD trigger/);
});

test.run();
