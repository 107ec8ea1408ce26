/**
 * docker's registry and archive routes through the real docker CLI: login + push to an htpasswd
 * docker-registry on loopback (the CLI's X-Registry-Auth, sbxd stores nothing), pull back by
 * name after rmi, progress and errors in docker's words, save | load, image prune, search refused.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { docker } from './_helpers/docker-cli.js';
import { startDockerRegistry, type Registry } from './_helpers/peers.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon; sock: string; reg: Registry }
const test = suite<Ctx>('docker api: registry and archives', {} as Ctx);
test.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  ctx.sock = ctx.d.daemon.services.config.socket;
  ctx.reg = await startDockerRegistry({ auth: true });
});
test.after(async (ctx) => { await ctx.reg?.close(); await ctx.d?.close(); });

test('docker login, push with X-Registry-Auth, rmi, pull back; errors as docker prints them', privileged<Ctx>(async ({ sock, reg }) => {
  const name = `${reg.host}/me/bb:v1`;
  assert.is((await docker(sock, ['tag', 'busybox', name])).code, 0);
  const anon = await docker(sock, ['push', name], { timeoutMs: 120000 });
  assert.is(anon.code, 1, 'push without login is refused by the registry');
  assert.match(anon.stderr, /unauthorized|authentication required|401/i, anon.stderr);

  const bad = await docker(sock, ['login', '-u', reg.user!, '--password-stdin', reg.host], { input: 'wrong\n' });
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /wrong user name or password/);
  const login = await docker(sock, ['login', '-u', reg.user!, '--password-stdin', reg.host], { input: `${reg.password}\n` });
  assert.is(login.code, 0, login.stderr);
  assert.match(login.stdout, /Login Succeeded/);

  const push = await docker(sock, ['push', name], { timeoutMs: 120000 });
  assert.is(push.code, 0, push.stderr);
  assert.match(push.stdout, new RegExp(`The push refers to repository \\[${reg.host}/me/bb\\]`));
  assert.match(push.stdout, /[0-9a-f]{12}: Pushed/, push.stdout);
  const m = /v1: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(push.stdout);
  assert.ok(m, push.stdout);
  const res = await fetch(`http://${reg.host}/v2/me/bb/manifests/v1`, {
    method: 'HEAD', headers: { authorization: `Basic ${Buffer.from(`${reg.user}:${reg.password}`).toString('base64')}`, accept: 'application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json' },
  });
  assert.is(res.headers.get('docker-content-digest'), m[1], 'the registry holds what docker push printed');

  assert.is((await docker(sock, ['rmi', name])).code, 0);
  const pull = await docker(sock, ['pull', name], { timeoutMs: 120000 });
  assert.is(pull.code, 0, pull.stderr);
  // docker prints the path without the registry ("Pulling from me/bb"); sbx's pull service names the registry too
  assert.match(pull.stdout, /v1: Pulling from (\S+\/)?me\/bb\n/, pull.stdout);
  assert.match(pull.stdout, new RegExp(`Digest: ${m[1]}`));
  assert.match(pull.stdout, new RegExp(`Status: Downloaded newer image for ${reg.host}/me/bb:v1`));
  const again = await docker(sock, ['pull', name], { timeoutMs: 120000 });
  assert.match(again.stdout, new RegExp(`Status: Image is up to date for ${reg.host}/me/bb:v1`), again.stdout);
  const run = await docker(sock, ['run', '--rm', name, 'echo', 'pulled'], { timeoutMs: 60000 });
  assert.is(run.stdout, 'pulled\n', run.stderr);

  const missing = await docker(sock, ['pull', `${reg.host}/me/nothing:v1`], { timeoutMs: 60000 });
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /Error response from daemon: .*not found/, missing.stderr);
  const nolocal = await docker(sock, ['push', `${reg.host}/me/none:v1`]);
  assert.is(nolocal.code, 1);
  assert.match(nolocal.stderr, /Error response from daemon: .*an image does not exist locally with the tag/i, nolocal.stderr);
  assert.is((await docker(sock, ['rmi', name])).code, 0);
}));

test('docker save | docker load keeps the image ID and tag; image prune; search is refused', privileged<Ctx>(async ({ d, sock }) => {
  const id = (await docker(sock, ['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim();
  assert.is((await docker(sock, ['tag', 'busybox', 'me/saved:v1'])).code, 0);
  // docker images NAME: only the rows of that name, though both tags name one image
  const byName = await docker(sock, ['images', '--format', '{{.Repository}}:{{.Tag}}', 'busybox']);
  assert.is(byName.stdout, 'busybox:latest\n', byName.stderr);
  const byGlob = await docker(sock, ['images', '--format', '{{.Repository}}:{{.Tag}}', 'me/*']);
  assert.is(byGlob.stdout, 'me/saved:v1\n', byGlob.stderr);
  const save = await docker(sock, ['save', '-o', `${d.root}/saved.tar`, 'me/saved:v1']);
  assert.is(save.code, 0, save.stderr);
  assert.is((await docker(sock, ['rmi', 'me/saved:v1'])).code, 0);
  const load = await docker(sock, ['load', '-i', `${d.root}/saved.tar`]);
  assert.is(load.code, 0, load.stderr);
  assert.match(load.stdout, /Loaded image: me\/saved:v1/);
  const ins = await docker(sock, ['image', 'inspect', '-f', '{{.Id}}', 'me/saved:v1']);
  assert.is(ins.stdout.trim(), id);
  const broken = await docker(sock, ['load'], { input: 'not a tar archive at all' });
  assert.is(broken.code, 1);
  assert.match(broken.stderr, /Error response from daemon/);

  // an untagged image no container uses is dangling: image prune removes it, a tagged one stays
  const c = await docker(sock, ['run', '--name', 'pr', 'busybox', 'touch', '/x']);
  assert.is(c.code, 0, c.stderr);
  const inUse = await docker(sock, ['rmi', id]);
  assert.is(inUse.code, 1, 'an image a container uses is not removed');
  assert.match(inUse.stderr, /conflict: unable to delete/, inUse.stderr);
  const dangling = (await docker(sock, ['commit', 'pr'])).stdout.trim();
  assert.match(dangling, /^sha256:[0-9a-f]{64}$/);
  assert.is((await docker(sock, ['rm', 'pr'])).code, 0);
  const prune = await docker(sock, ['image', 'prune', '-f']);
  assert.is(prune.code, 0, prune.stderr);
  assert.match(prune.stdout, new RegExp(`deleted: ${dangling}`));
  assert.is((await docker(sock, ['image', 'inspect', dangling])).code, 1);
  assert.is((await docker(sock, ['image', 'inspect', 'me/saved:v1'])).code, 0);
  assert.is((await docker(sock, ['rmi', 'me/saved:v1'])).code, 0);

  const search = await docker(sock, ['search', 'busybox']);
  assert.is(search.code, 1);
  assert.match(search.stderr, /sbx does not search registries/);
}));

test.run();
