/**
 * sbx build, multi-stage: COPY --from=STAGE (by name and index) and --from=IMAGE, --target, only the
 * stages the target needs are built (an unneeded failing stage never runs), independent stages run
 * at the same time, and only the final stage's layers and history end up in the image.
 */
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { buildSuite } from './_helpers/build.js';
import { build, imageId } from './_helpers/build-cli.js';
import { freePort } from './_helpers/peers.js';
import { privileged } from './_helpers/root.js';

const s = buildSuite('build: multi-stage');

interface Inspect { RootFS: { Layers: string[] } }
async function layers(c: Parameters<typeof imageId>[0], ref: string): Promise<number> {
  return (JSON.parse((await sbx(c.d.root, ['image', 'inspect', ref])).stdout) as Inspect[])[0]!.RootFS.Layers.length;
}

const STAGES = `FROM busybox AS base
RUN echo base > /base

FROM base AS builder
RUN echo built > /artifact && echo builder stage ran

FROM busybox AS broken
RUN echo broken stage ran; exit 7

FROM scratch
COPY --from=builder /artifact /out/artifact
COPY --from=0 /base /out/base
COPY --from=busybox /bin/busybox /bin/busybox
`;

s('COPY --from stage/index/image; the unneeded failing stage never runs; only the final stage is in the image', privileged(async (c) => {
  const b = await build(c, ['-t', 'multi', c.ctx], STAGES);
  assert.is(b.code, 0, b.stderr);
  assert.not.match(b.stderr, /broken stage ran/);
  assert.not.match(b.stderr, /\[broken /, 'the broken stage is not even started');
  assert.match(b.stderr, /builder stage ran/);
  const cat = await sbx(c.d.root, ['run', '--rm', 'multi', '/bin/busybox', 'cat', '/out/artifact', '/out/base']);
  assert.is(cat.stdout, 'built\nbase\n', cat.stderr);
  assert.is(await layers(c, 'multi'), 3, 'three COPY layers on scratch: nothing of the other stages');
  const hist = await sbx(c.d.root, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'multi']);
  assert.is(hist.stdout.trim().split('\n').length, 3, hist.stdout);
  assert.not.match(hist.stdout, /echo/, 'no RUN of another stage in the history');
}));

s('--target builds the named stage and what it needs, nothing after it; an unknown target is an error', privileged(async (c) => {
  const b = await build(c, ['--target', 'builder', '-t', 'just-builder', c.ctx], STAGES);
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stderr, /\[base 1\/4\] FROM busybox/);
  assert.match(b.stderr, /\[builder 4\/4\] RUN echo built/);
  assert.not.match(b.stderr, /COPY --from/, 'the final stage is not built');
  assert.not.match(b.stderr, /broken stage ran/);
  const cat = await sbx(c.d.root, ['run', '--rm', 'just-builder', 'cat', '/artifact', '/base']);
  assert.is(cat.stdout, 'built\nbase\n', cat.stderr);
  assert.is(await layers(c, 'just-builder'), 3, 'busybox + two RUN layers');

  const bad = await build(c, ['--target', 'nosuch', '-t', 'never', c.ctx]);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /target stage "nosuch" could not be found/);
  assert.is(await imageId(c, 'never'), undefined);
  // the failing stage as the target fails the build, naming its line
  const broken = await build(c, ['--target', 'broken', '-t', 'never', c.ctx]);
  assert.is(broken.code, 1);
  assert.match(broken.stderr, /Dockerfile:8: process "\/bin\/sh -c echo broken stage ran; exit 7" did not complete successfully: exit code: 7/);
  assert.is(await imageId(c, 'never'), undefined);
}));

s('independent stages run at the same time', privileged(async (c) => {
  // each stage's RUN completes only while the other one runs: one listens, the other connects
  // (RUN shares the host's network by default). Built one after the other, the listener times out.
  // The listener reads the socket through -e: a plain `nc -l` half-closes at once (its stdin is at EOF),
  // and a caller whose echo had not yet written then saw that EOF and left without sending (seen under load).
  const port = await freePort();
  const b = await build(c, ['-t', 'both', c.ctx], `FROM busybox AS listener
RUN busybox timeout 30 busybox nc -l -p ${port} -e busybox sh -c 'cat > /got' && cat /got

FROM busybox AS caller
RUN i=0; until echo hello over loopback | busybox nc 127.0.0.1 ${port}; do i=$((i+1)); [ $i -lt 1500 ] || exit 9; busybox usleep 20000; done

FROM busybox
COPY --from=listener /got /got
COPY --from=caller /etc/passwd /caller-passwd
`);
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stderr, /hello over loopback/);
  const got = await sbx(c.d.root, ['run', '--rm', 'both', 'cat', '/got']);
  assert.is(got.stdout, 'hello over loopback\n', `run: code ${got.code} ${got.stderr}\nbuild: ${b.stderr}`);
}));

s.run();
