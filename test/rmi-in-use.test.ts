/**
 * `rmi` of an image a container uses (issue 12 "Cleanup"): refused without -f with docker's
 * message and exit 1, whether the container runs or not; by ID a running user refuses even -f;
 * -f by tag untags and leaves the image for the container.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon; image: string }
const s = suite<Ctx>('rmi: an image in use', {} as Ctx);
s.before.each(async (ctx) => {
  ctx.d = await startTestDaemon();
  if (process.getuid?.() !== 0) return;
  const r = await sbx(ctx.d.root, ['import', '--busybox', 'busybox']);
  assert.is(r.code, 0, r.stderr);
  ctx.image = r.stdout.trim().replace(/^sha256:/, '');
});
s.after.each(async (ctx) => {
  await sbx(ctx.d.root, ['rm', '-f', 'up']).catch(() => undefined);
  await ctx.d.close();
});

async function ok(root: string, args: string[]): Promise<string> {
  const r = await sbx(root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const tags = async (root: string): Promise<string> => ok(root, ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);

s('a stopped container: rmi by tag and by ID refused, exit 1; -f by tag untags, the container still runs', privileged(async ({ d, image }) => {
  const cid = (await ok(d.root, ['create', '--name', 'made', 'busybox', 'echo', 'still here'])).trim();
  const byTag = await sbx(d.root, ['rmi', 'busybox']);
  assert.is(byTag.code, 1);
  assert.is(byTag.stdout, '');
  assert.is(byTag.stderr, `Error response from daemon: conflict: unable to remove repository reference "busybox" (must force) - container ${cid.slice(0, 12)} is using its referenced image ${image.slice(0, 12)}\n`);
  const byId = await sbx(d.root, ['rmi', image.slice(0, 12)]);
  assert.is(byId.code, 1);
  assert.is(byId.stderr, `Error response from daemon: conflict: unable to delete ${image.slice(0, 12)} (must be forced) - image is being used by stopped container ${cid.slice(0, 12)}\n`);
  assert.is(await tags(d.root), `busybox:latest ${image.slice(0, 12)}\n`);

  assert.is(await ok(d.root, ['rmi', '-f', 'busybox']), 'Untagged: busybox:latest\n');
  assert.is(await tags(d.root), `<none>:<none> ${image.slice(0, 12)}\n`);
  const run = await sbx(d.root, ['start', '-a', 'made']);
  assert.is(run.stdout, 'still here\n', run.stderr);
}));

s('a running container: refused by tag without -f, by ID even with -f; other images in the same call still go', privileged(async ({ d, image }) => {
  const cid = (await ok(d.root, ['run', '-d', '--name', 'up', 'busybox', 'sleep', '60'])).trim();
  await ok(d.root, ['tag', 'busybox', 'spare:1']);
  await ok(d.root, ['rmi', 'spare:1']); // one of two tags: untagging is no conflict
  const r = await sbx(d.root, ['rmi', 'busybox']);
  assert.is(r.code, 1);
  assert.match(r.stderr, new RegExp(`^Error response from daemon: conflict: unable to remove repository reference "busybox" \\(must force\\) - container ${cid.slice(0, 12)} is using`));

  const forced = await sbx(d.root, ['rmi', '-f', image]);
  assert.is(forced.code, 1);
  assert.is(forced.stderr, `Error response from daemon: conflict: unable to delete ${image.slice(0, 12)} (cannot be forced) - image is being used by running container ${cid.slice(0, 12)}\n`);
  assert.is(await tags(d.root), `busybox:latest ${image.slice(0, 12)}\n`);

  await ok(d.root, ['run', '--name', 'work', 'busybox', 'sh', '-c', 'echo x > /f']);
  await ok(d.root, ['commit', 'work', 'other:1']);
  await ok(d.root, ['rm', 'work']);
  const mixed = await sbx(d.root, ['rmi', 'busybox', 'other:1']);
  assert.is(mixed.code, 1);
  assert.match(mixed.stdout, /^Untagged: other:1\nDeleted: sha256:[0-9a-f]{64}\n$/);
  assert.match(mixed.stderr, /^Error response from daemon: conflict: unable to remove repository reference "busybox"/);
  assert.is((await sbx(d.root, ['exec', 'up', 'true'])).code, 0, 'the container is untouched');
}));

s.run();
