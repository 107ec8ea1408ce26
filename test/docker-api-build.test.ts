/**
 * docker build through the real docker CLI (the classic builder's API): the seed's web-ping
 * Dockerfile builds with docker's Step lines, tags several names, runs; a rebuild is served from
 * the cache; build args, labels, target and -q; a failing RUN exits 1 and tags nothing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { docker } from './_helpers/docker-cli.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon; sock: string; dir: string }
const test = suite<Ctx>('docker api: build', {} as Ctx);
test.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  ctx.sock = ctx.d.daemon.services.config.socket;
  ctx.dir = join(ctx.d.root, 'ctx');
  await mkdir(ctx.dir);
});
test.after(async (ctx) => { await ctx.d?.close(); });

const WEB_PING = `FROM busybox
ENV TARGET="example.com" \\
    METHOD="HEAD" \\
    INTERVAL="3000"
WORKDIR /web-ping
COPY app.js .
CMD ["sh", "/web-ping/app.js"]
`;

test('docker build -t web-ping -t second: Step lines, Successfully built/tagged, runs; rebuild uses the cache', privileged<Ctx>(async ({ sock, dir }) => {
  await writeFile(join(dir, 'Dockerfile'), WEB_PING);
  await writeFile(join(dir, 'app.js'), 'echo "pinging $TARGET with $METHOD every $INTERVAL"\n');
  const b = await docker(sock, ['build', '-t', 'web-ping', '-t', 'me/second:v2', dir], { timeoutMs: 180000 });
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stdout, /^Sending build context to Docker daemon/);
  assert.match(b.stdout, /Step 1\/5 : FROM busybox\n ---> [0-9a-f]{12}\n/);
  assert.match(b.stdout, /Step 4\/5 : COPY app\.js \.\n ---> [0-9a-f]{12}\n/);
  const built = /Successfully built ([0-9a-f]{12})\n/.exec(b.stdout);
  assert.ok(built, b.stdout);
  assert.match(b.stdout, /Successfully tagged web-ping:latest\nSuccessfully tagged me\/second:v2\n/);
  const id = (await docker(sock, ['image', 'inspect', '-f', '{{.Id}}', 'me/second:v2'])).stdout.trim();
  assert.is(id.slice('sha256:'.length, 'sha256:'.length + 12), built[1]);
  const run = await docker(sock, ['run', '--rm', 'web-ping'], { timeoutMs: 60000 });
  assert.is(run.stdout, 'pinging example.com with HEAD every 3000\n', run.stderr);

  const again = await docker(sock, ['build', '-q', '-t', 'web-ping', dir], { timeoutMs: 180000 });
  assert.is(again.code, 0, again.stderr);
  assert.is(again.stdout, `${id}\n`, 'docker build -q prints the image ID (aux), same image from the cache');
  const cached = await docker(sock, ['build', '-t', 'web-ping', dir], { timeoutMs: 180000 });
  assert.is((cached.stdout.match(/ ---> Using cache\n/g) ?? []).length, 4, cached.stdout);
  assert.is((await docker(sock, ['rmi', 'me/second:v2'])).code, 0);
}));

test('docker build: --build-arg, --label, --target, -f; a failing RUN exits 1 and tags nothing', privileged<Ctx>(async ({ sock, dir }) => {
  await writeFile(join(dir, 'Other.dockerfile'), [
    'FROM busybox AS base', 'ARG WHO=nobody', 'RUN echo "hello $WHO" > /hello',
    'FROM base AS final', 'RUN false', '',
  ].join('\n'));
  const b = await docker(sock, ['build', '-f', join(dir, 'Other.dockerfile'), '--target', 'base', '--build-arg', 'WHO=docker', '--label', 'team=sbx', '-t', 'me/args', dir], { timeoutMs: 180000 });
  assert.is(b.code, 0, b.stderr);
  const run = await docker(sock, ['run', '--rm', 'me/args', 'cat', '/hello'], { timeoutMs: 60000 });
  assert.is(run.stdout, 'hello docker\n', run.stderr);
  const label = await docker(sock, ['image', 'inspect', '-f', '{{index .Config.Labels "team"}}', 'me/args']);
  assert.is(label.stdout, 'sbx\n');

  const bad = await docker(sock, ['build', '-f', join(dir, 'Other.dockerfile'), '-t', 'me/broken', dir], { timeoutMs: 180000 });
  assert.is(bad.code, 1, bad.stdout);
  assert.match(bad.stdout + bad.stderr, /RUN false/);
  assert.match(bad.stderr, /exit code: 1|returned a non-zero code: 1/, bad.stderr);
  assert.is((await docker(sock, ['image', 'inspect', 'me/broken'])).code, 1, 'nothing tagged');

  const kit = await docker(sock, ['build', '--cpu-shares', '5', dir]);
  assert.is(kit.code, 1);
  assert.match(kit.stderr, /build: cpushares is not supported by sbx/);
}));

test.run();
