/**
 * sbx build: FROM (and COPY --from=IMAGE) of an image that is not here is pulled from its
 * registry, with the pull shown in the step's progress; --pull pulls even when the image is here.
 * The registry is the embedded one on loopback, with its own store.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalContentStore } from '../daemon/content/local.js';
import { startRegistry, type RegistryServer } from '../daemon/registry/server.js';
import { silentLogger } from '../daemon/util/log.js';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { d: TestDaemon; ctx: string; regDir: string; reg: RegistryServer }
const s = suite<Ctx>('build: FROM pulls', {} as Ctx);
s.before.each(async (c) => {
  c.d = await startTestDaemon();
  c.ctx = await tmpdir();
  c.regDir = await tmpdir('sbx-reg-');
  const content = await openLocalContentStore(join(c.regDir, 'oci'), join(c.regDir, 'ingest'));
  c.reg = await startRegistry({ content, root: join(c.regDir, 'registry'), log: silentLogger }, '127.0.0.1:0');
  if (process.getuid?.() !== 0) return;
  const r = await sbx(c.d.root, ['import', '--busybox', 'busybox']);
  assert.is(r.code, 0, r.stderr);
});
s.after.each(async (c) => {
  await c.reg.close();
  await c.d.close();
  await rmrf(c.ctx);
  await rmrf(c.regDir);
});

async function build(d: TestDaemon, args: string[]) {
  return sbx(d.root, ['build', '--progress', 'plain', ...args], { timeoutMs: 120000 });
}

/** Put the local image `image` into the registry as `ref`, leaving no local tag `ref`. */
async function publish(d: TestDaemon, image: string, ref: string): Promise<void> {
  for (const args of [['tag', image, ref], ['push', ref], ['rmi', ref]]) {
    const r = await sbx(d.root, args);
    assert.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
}

s('FROM an image not here pulls it (progress shows the pull); COPY --from=IMAGE too; a missing one names the line', privileged(async ({ d, ctx, reg }) => {
  const ref = `${reg.host}/lib/bb:1`;
  await publish(d, 'busybox', ref);
  assert.is.not((await sbx(d.root, ['image', 'inspect', ref])).code, 0, 'not here before the build');
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${ref}\nRUN echo built on the pulled base\n`);
  const b = await build(d, ['-t', 'on-pulled', ctx]);
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stderr, /#1 \[0 1\/2\] FROM 127\.0\.0\.1:\d+\/lib\/bb:1/);
  assert.match(b.stderr, /#1 [0-9.]+ 1: Pulling from 127\.0\.0\.1:\d+\/lib\/bb\n/, b.stderr);
  assert.match(b.stderr, /#1 [0-9.]+ [0-9a-f]{12}: Already exists/, 'its layers were pushed from here');
  assert.match(b.stderr, /#2 [0-9.]+ built on the pulled base/);
  const pulled = await sbx(d.root, ['image', 'inspect', '--format', '{{.Id}}', ref]);
  assert.is(pulled.code, 0, 'the base is tagged here after the pull, as docker pull would');
  const bb = await sbx(d.root, ['image', 'inspect', '--format', '{{.Id}}', 'busybox']);
  assert.is(pulled.stdout, bb.stdout, 'it is the image that was pushed');

  // a second build finds it here: no pull
  const again = await build(d, [ctx]);
  assert.is(again.code, 0, again.stderr);
  assert.not.match(again.stderr, /Pulling from/);

  // COPY --from=IMAGE pulls too
  const other = `${reg.host}/lib/other:2`;
  await publish(d, 'busybox', other);
  await writeFile(join(ctx, 'Dockerfile'), `FROM scratch\nCOPY --from=${other} /bin/busybox /bb\n`);
  const c = await build(d, ['-t', 'copied', ctx]);
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stderr, /#2 [0-9.]+ 2: Pulling from 127\.0\.0\.1:\d+\/lib\/other/, c.stderr);
  assert.is((await sbx(d.root, ['image', 'inspect', '--format', '{{.Id}}', other])).code, 0);

  await writeFile(join(ctx, 'Dockerfile'), `FROM busybox\nRUN true\nFROM ${reg.host}/lib/nothere:1\n`);
  const m = await build(d, ['-t', 'never', ctx]);
  assert.is(m.code, 1, m.stderr);
  assert.match(m.stderr, /Dockerfile:3: 127\.0\.0\.1:\d+\/lib\/nothere:1: failed to pull: /);
  assert.is.not((await sbx(d.root, ['image', 'inspect', 'never'])).code, 0, 'nothing tagged');
}));

s('--pull pulls a base that is here, and the build uses the registry\'s newer image', privileged(async ({ d, ctx, reg }) => {
  const ref = `${reg.host}/lib/bb:latest`;
  // the registry has v2 (busybox + /v), the local tag still names the plain busybox
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo v2 > /v\n');
  assert.is((await build(d, ['-t', 'v2', ctx])).code, 0);
  await publish(d, 'v2', ref);
  assert.is((await sbx(d.root, ['tag', 'busybox', ref])).code, 0);
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${ref}\nRUN cat /v 2>/dev/null || echo no v here\n`);

  const stale = await build(d, [ctx]);
  assert.is(stale.code, 0, stale.stderr);
  assert.not.match(stale.stderr, /Pulling from/);
  assert.match(stale.stderr, /#2 [0-9.]+ no v here/, 'without --pull the local image is used');

  const fresh = await build(d, ['--pull', '-t', 'fresh', ctx]);
  assert.is(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stderr, /#1 [0-9.]+ latest: Pulling from 127\.0\.0\.1:\d+\/lib\/bb/, fresh.stderr);
  assert.match(fresh.stderr, /#2 [0-9.]+ v2/);
  const v2 = await sbx(d.root, ['image', 'inspect', '--format', '{{.Id}}', 'v2']);
  assert.is((await sbx(d.root, ['image', 'inspect', '--format', '{{.Id}}', ref])).stdout, v2.stdout, 'the local tag now names the pulled image');
}));

s.run();
