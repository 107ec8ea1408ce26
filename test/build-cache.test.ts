/**
 * The build cache through `sbx build`, where BuildKit is known to be wrong: COPY --chmod ignores
 * the source mode (moby/buildkit#4374, #3821); a copied directory's own mode busts the cache
 * (#7176); any one of several COPY sources busts it (#853). Reordering as docker (the seed's
 * web-ping variants), --no-cache, the cache across a daemon restart, `sbx image build --tag`.
 */
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { buildSuite } from './_helpers/build.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';

const s = buildSuite('build: the cache');

async function build(d: TestDaemon, ctx: string, args: string[] = []) {
  const r = await sbx(d.root, ['build', '--progress', 'plain', '-t', 'img', ...args, ctx], { timeoutMs: 120000 });
  assert.is(r.code, 0, r.stderr);
  return r.stderr;
}

/** The step numbers a build printed as CACHED. */
const cachedSteps = (out: string): number[] => [...out.matchAll(/^#(\d+) CACHED$/gm)].map((m) => Number(m[1]));

const run = async (d: TestDaemon, cmd: string) => (await sbx(d.root, ['run', '--rm', 'img', 'sh', '-c', cmd])).stdout;

s('COPY --chmod: a change of the source file mode keeps the cache (buildkit#4374, #3821)', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY --chmod=0644 a.txt /a.txt\nRUN ls -ln /a.txt\n');
  await writeFile(join(ctx, 'a.txt'), 'a\n');
  await chmod(join(ctx, 'a.txt'), 0o600);
  assert.equal(cachedSteps(await build(d, ctx)), []);
  await chmod(join(ctx, 'a.txt'), 0o755);
  assert.equal(cachedSteps(await build(d, ctx)), [2, 3], 'COPY and the RUN after it are cached');
  assert.is(await run(d, 'stat -c %a /a.txt'), '644\n');
  // without --chmod the source mode ends up in the layer, so it must bust
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY a.txt /a.txt\n');
  await build(d, ctx);
  await chmod(join(ctx, 'a.txt'), 0o700);
  assert.equal(cachedSteps(await build(d, ctx)), []);
  assert.is(await run(d, 'stat -c %a /a.txt'), '700\n');
}));

s('a copied directory\'s own mode busts the cache, the source owner does not reach the layer (buildkit#7176)', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY common /common\nRUN echo after\n');
  await mkdir(join(ctx, 'common', 'sub'), { recursive: true, mode: 0o755 });
  await chmod(join(ctx, 'common', 'sub'), 0o755);
  await writeFile(join(ctx, 'common', 'sub', 'f'), 'unchanged source\n');
  await build(d, ctx);
  assert.equal(cachedSteps(await build(d, ctx)), [2, 3]);
  await chmod(join(ctx, 'common', 'sub'), 0o700);
  assert.equal(cachedSteps(await build(d, ctx)), [], 'the sub-directory mode changed');
  assert.is(await run(d, 'stat -c %a /common/sub'), '700\n');
  await chmod(join(ctx, 'common'), 0o750);
  assert.equal(cachedSteps(await build(d, ctx)), [], 'the copied directory\'s own mode changed');
  // docker gives copied files 0:0 without --chown: the source owner never reaches the image
  await chown(join(ctx, 'common', 'sub'), 1234, 1234);
  assert.equal(cachedSteps(await build(d, ctx)), [2, 3]);
  assert.is(await run(d, 'stat -c %u:%g /common/sub'), '0:0\n');
  // with --chown the owner is in the layer: a different one busts
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY --chown=7:7 common /common\n');
  await build(d, ctx);
  assert.is(await run(d, 'stat -c %u:%g /common/sub'), '7:7\n');
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY --chown=8:8 common /common\n');
  assert.equal(cachedSteps(await build(d, ctx)), []);
}));

s('a change to any one of several COPY sources busts the cache (buildkit#853)', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nWORKDIR /app\nCOPY Gemfile Gemfile.lock ./\nRUN cat Gemfile.lock\n');
  await writeFile(join(ctx, 'Gemfile'), 'gem "rack"\n');
  await writeFile(join(ctx, 'Gemfile.lock'), 'rack (2.0.0)\n');
  await build(d, ctx);
  await writeFile(join(ctx, 'Gemfile.lock'), 'rack (2.2.0)\n');
  const out = await build(d, ctx);
  assert.equal(cachedSteps(out), [2], 'only WORKDIR stays cached');
  assert.match(out, /rack \(2\.2\.0\)/);
  await writeFile(join(ctx, 'Gemfile'), 'gem "rack", "2.2.0"\n');
  assert.equal(cachedSteps(await build(d, ctx)), [2]);
  assert.is(await run(d, 'cat /app/Gemfile /app/Gemfile.lock'), 'gem "rack", "2.2.0"\nrack (2.2.0)\n');
}));

// The seed's web-ping (Learn Docker in a Month of Lunches, ch. 4) and its reordered variant: CMD
// and ENV moved before COPY, so an edit of app.js rebuilds only the COPY.
const WEB_PING = 'FROM busybox\nENV TARGET="example.com" \\\n    METHOD="HEAD" \\\n    INTERVAL="3000"\nWORKDIR /web-ping\nCOPY app.js .\nCMD ["sh", "/web-ping/app.js"]\n';
const REORDERED = 'FROM busybox\nCMD ["sh", "/web-ping/app.js"]\nENV TARGET="example.com" \\\n    METHOD="HEAD" \\\n    INTERVAL="3000"\nWORKDIR /web-ping\nCOPY app.js .\n';

s('reordering as docker: web-ping rebuilds COPY and CMD after an edit, the reordered variant only COPY', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'app.js'), 'echo one\n');
  await writeFile(join(ctx, 'Dockerfile'), WEB_PING);
  await build(d, ctx);
  await writeFile(join(ctx, 'app.js'), 'echo two\n');
  assert.equal(cachedSteps(await build(d, ctx)), [2, 3], 'ENV, WORKDIR cached; COPY, CMD run');

  await writeFile(join(ctx, 'Dockerfile'), REORDERED);
  const first = await build(d, ctx);
  assert.equal(cachedSteps(first), [], 'a new order is a new chain: nothing from the other order is reused');
  await writeFile(join(ctx, 'app.js'), 'echo three\n');
  assert.equal(cachedSteps(await build(d, ctx)), [2, 3, 4], 'CMD, ENV, WORKDIR cached; only COPY runs');
  assert.is((await sbx(d.root, ['run', '--rm', 'img'])).stdout, 'three\n');
}));

s('--no-cache runs every step and leaves the cache for the next build', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nENV A=1\nRUN echo ran\n');
  await build(d, ctx);
  const nc = await build(d, ctx, ['--no-cache']);
  assert.equal(cachedSteps(nc), []);
  assert.match(nc, /#3 [0-9.]+ ran/);
  assert.equal(cachedSteps(await build(d, ctx)), [2, 3]);
}));

s('the cache survives a daemon restart; `sbx image build --tag` is the same verb', privileged(async (c) => {
  await writeFile(join(c.ctx, 'Dockerfile'), WEB_PING);
  await writeFile(join(c.ctx, 'app.js'), 'echo one\n');
  const id = (await sbx(c.d.root, ['build', '-q', '-t', 'img', c.ctx], { timeoutMs: 120000 })).stdout.trim();
  await c.d.daemon.close();
  c.d = await startTestDaemon({ root: c.d.root });
  const r = await sbx(c.d.root, ['image', 'build', '--progress', 'plain', '--tag', 'again', c.ctx], { timeoutMs: 120000 });
  assert.is(r.code, 0, r.stderr);
  assert.equal(cachedSteps(r.stderr), [2, 3, 4, 5], 'every step after FROM is CACHED');
  assert.is(JSON.parse((await sbx(c.d.root, ['image', 'inspect', 'again'])).stdout)[0].Id, id);
}));

s.run();
