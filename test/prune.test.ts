/**
 * The three prunes through the CLI (issue 12 "Cleanup"): what goes, what stays (running
 * containers, images in use, tagged images without -a, volumes without --volumes), docker's
 * WARNING prompt, "Total reclaimed space", -f skipping the prompt, "n" removing nothing.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';

const s = suite<{ d: TestDaemon }>('prune: container, image, system', {} as { d: TestDaemon });
s.before.each(async (ctx) => {
  ctx.d = await startTestDaemon();
  if (process.getuid?.() !== 0) return;
  const r = await sbx(ctx.d.root, ['import', '--busybox', 'busybox']);
  assert.is(r.code, 0, r.stderr);
});
s.after.each(async (ctx) => {
  await sbx(ctx.d.root, ['rm', '-f', 'up']).catch(() => undefined);
  await ctx.d.close();
});

async function ok(root: string, args: string[], input?: string): Promise<string> {
  const r = await sbx(root, args, input === undefined ? {} : { input });
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const names = async (root: string): Promise<string[]> =>
  (await ok(root, ['ps', '-a', '--format', 'json'])).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { Names: string }).Names).sort();
const repos = async (root: string): Promise<string[]> =>
  (await ok(root, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n').filter(Boolean).sort();

s('container prune: asks, "n" keeps everything, -f removes only stopped containers', privileged(async ({ d }) => {
  await ok(d.root, ['run', '--name', 'done', 'busybox', 'sh', '-c', 'echo hello > /big']);
  await ok(d.root, ['create', '--name', 'made', 'busybox', 'true']);
  await ok(d.root, ['run', '-d', '--name', 'up', 'busybox', 'sleep', '60']);
  const doneId = (await ok(d.root, ['inspect', '--format', '{{.Id}}', 'done'])).trim();

  const no = await sbx(d.root, ['container', 'prune'], { input: 'n\n' });
  assert.is(no.stdout, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
  assert.is(no.stderr, 'container prune has been cancelled\n');
  assert.is(no.code, 1);
  assert.equal(await names(d.root), ['done', 'made', 'up']);

  const yes = await sbx(d.root, ['container', 'prune'], { input: 'y\n' });
  assert.is(yes.code, 0, yes.stderr);
  assert.ok(yes.stdout.startsWith('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] Deleted Containers:\n'), yes.stdout);
  assert.ok(yes.stdout.includes(`${doneId}\n`), yes.stdout);
  // "hello\n" in the writable layer is what was reclaimed from "done".
  assert.match(yes.stdout, /\n\nTotal reclaimed space: [1-9][0-9.]*k?B\n$/);
  assert.equal(await names(d.root), ['up']);

  const again = await sbx(d.root, ['container', 'prune', '-f']);
  assert.is(again.code, 0, again.stderr);
  assert.is(again.stdout, 'Total reclaimed space: 0B\n');
  assert.equal(await names(d.root), ['up']);
}));

s('container prune --filter until= keeps newer containers; a bad filter is an error', privileged(async ({ d }) => {
  await ok(d.root, ['create', '--name', 'old', 'busybox', 'true']);
  const bad = await sbx(d.root, ['container', 'prune', '-f', '--filter', 'colour=red']);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /invalid filter 'colour'/);
  assert.is(await ok(d.root, ['container', 'prune', '-f', '--filter', 'until=2001-01-01T00:00:00Z']), 'Total reclaimed space: 0B\n');
  assert.equal(await names(d.root), ['old']);
  await ok(d.root, ['container', 'prune', '-f', '--filter', 'until=2100-01-01T00:00:00Z']);
  assert.equal(await names(d.root), []);
}));

s('image prune: dangling only; -a every image no container uses; "n" keeps all', privileged(async ({ d }) => {
  await ok(d.root, ['run', '--name', 'w1', 'busybox', 'sh', '-c', 'echo 1 > /f']);
  await ok(d.root, ['commit', 'w1', 'site:1']);
  await ok(d.root, ['run', '--name', 'w2', 'busybox', 'sh', '-c', 'echo 2 > /f']);
  await ok(d.root, ['commit', 'w2', 'site:1']); // the first site:1 is now dangling
  await ok(d.root, ['commit', 'w2', 'other:1']);
  await ok(d.root, ['rm', 'w1', 'w2']);
  await ok(d.root, ['create', '--name', 'user', 'other:1', 'true']); // a stopped container keeps other:1
  assert.equal(await repos(d.root), ['<none>:<none>', 'busybox:latest', 'other:1', 'site:1']);

  const no = await sbx(d.root, ['image', 'prune'], { input: 'n\n' });
  assert.is(no.stdout, 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ');
  assert.is(no.code, 1);
  assert.equal((await repos(d.root)).length, 4);

  const dangling = await sbx(d.root, ['image', 'prune', '-f']);
  assert.is(dangling.code, 0, dangling.stderr);
  assert.match(dangling.stdout, /^Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: [1-9][0-9.]*k?B\n$/);
  assert.equal(await repos(d.root), ['busybox:latest', 'other:1', 'site:1']);

  const all = await sbx(d.root, ['image', 'prune', '-a'], { input: 'y\n' });
  assert.is(all.code, 0, all.stderr);
  assert.ok(all.stdout.startsWith('WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] Deleted Images:\n'), all.stdout);
  assert.match(all.stdout, /untagged: site:1\n/);
  assert.match(all.stdout, /untagged: busybox:latest\n/);
  // other:1 is used by "user"; busybox is other:1's base but no container names it: it goes (docker's rule).
  assert.equal(await repos(d.root), ['other:1']);
  const run = await sbx(d.root, ['run', '--rm', 'other:1', 'cat', '/f']);
  assert.is(run.stdout, '2\n', run.stderr);
}));

s('system prune: containers, networks, dangling images, build cache; volumes only with --volumes', privileged(async ({ d }) => {
  await ok(d.root, ['run', '--name', 'done', '-v', '/data', 'busybox', 'true']); // an anonymous volume
  await ok(d.root, ['volume', 'create', 'keep']);
  await ok(d.root, ['run', '-d', '--name', 'up', 'busybox', 'sleep', '60']);
  await ok(d.root, ['network', 'create', 'spare']);

  const no = await sbx(d.root, ['system', 'prune'], { input: '\n' });
  assert.is(no.stdout, 'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n'
    + '  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue? [y/N] ');
  assert.is(no.code, 1);
  assert.equal(await names(d.root), ['done', 'up']);

  const r = await sbx(d.root, ['system', 'prune', '-f']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Networks:\nspare\n\nTotal reclaimed space: /);
  assert.equal(await names(d.root), ['up']);
  assert.equal(await repos(d.root), ['busybox:latest']); // tagged: stays without -a
  const vols = (await ok(d.root, ['volume', 'ls', '-q'])).split('\n').filter(Boolean);
  assert.is(vols.length, 2, 'without --volumes both volumes stay');

  const withVolumes = await sbx(d.root, ['system', 'prune', '--volumes'], { input: 'y\n' });
  assert.is(withVolumes.code, 0, withVolumes.stderr);
  assert.match(withVolumes.stdout, /  - all anonymous volumes not used by at least one container\n/);
  assert.match(withVolumes.stdout, /Deleted Volumes:\n[0-9a-f]{64}\n\n/);
  assert.equal((await ok(d.root, ['volume', 'ls', '-q'])).trim(), 'keep');

  // -a: images no container uses go; the running container keeps busybox.
  const a = await sbx(d.root, ['system', 'prune', '-a', '-f']);
  assert.is(a.code, 0, a.stderr);
  assert.equal(await repos(d.root), ['busybox:latest']);
  assert.equal(await names(d.root), ['up']);
}));

s.run();
