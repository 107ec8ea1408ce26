/** docker's image routes through the real docker CLI and dockerode: images, tag, inspect, history, rmi. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import Docker from 'dockerode';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { docker } from './_helpers/docker-cli.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon; sock: string }
const test = suite<Ctx>('docker api: images', {} as Ctx);
test.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  ctx.sock = ctx.d.daemon.services.config.socket;
});
test.after(async (ctx) => { await ctx.d?.close(); });

test('docker images, tag, image inspect, history, rmi', privileged<Ctx>(async ({ sock }) => {
  const ls = await docker(sock, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.is(ls.code, 0, ls.stderr);
  assert.is(ls.stdout, 'busybox:latest\n');
  const tag = await docker(sock, ['tag', 'busybox', '127.0.0.1:5000/me/bb:v1']);
  assert.is(tag.code, 0, tag.stderr);
  const ins = await docker(sock, ['image', 'inspect', '-f', '{{json .RepoTags}}', '127.0.0.1:5000/me/bb:v1']);
  assert.is(ins.code, 0, ins.stderr);
  assert.equal(JSON.parse(ins.stdout), ['127.0.0.1:5000/me/bb:v1', 'busybox:latest']);
  const id = (await docker(sock, ['images', '-q', '--no-trunc', 'busybox'])).stdout.split('\n')[0];
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  const h = await docker(sock, ['history', '--no-trunc', '--format', '{{.ID}}', '127.0.0.1:5000/me/bb:v1']);
  assert.is(h.code, 0, h.stderr);
  assert.is(h.stdout.split('\n')[0], id, 'the top history row carries the image ID');
  const rmi = await docker(sock, ['rmi', '127.0.0.1:5000/me/bb:v1']);
  assert.is(rmi.code, 0, rmi.stderr);
  assert.is(rmi.stdout, 'Untagged: 127.0.0.1:5000/me/bb:v1\n');
  const nf = await docker(sock, ['image', 'inspect', 'nope']);
  assert.is(nf.code, 1);
  assert.match(nf.stderr, /No such image: nope/);
}));

test('docker commit -m -c: a new image with the change and the container\'s file', privileged<Ctx>(async ({ sock }) => {
  assert.is((await docker(sock, ['run', '--name', 'ed', 'busybox', 'sh', '-c', 'echo edited > /note'])).code, 0);
  const c = await docker(sock, ['commit', '-m', 'edited', '-c', 'CMD ["cat", "/note"]', 'ed', 'me/noted:v1']);
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const cmd = await docker(sock, ['image', 'inspect', '-f', '{{json .Config.Cmd}}', 'me/noted:v1']);
  assert.equal(JSON.parse(cmd.stdout), ['cat', '/note']);
  const run = await docker(sock, ['run', '--rm', 'me/noted:v1']);
  assert.is(run.stdout, 'edited\n', run.stderr);
  const h = await docker(sock, ['history', '--format', '{{.Comment}}', 'me/noted:v1']);
  assert.is(h.stdout.split('\n')[0], 'edited');
  assert.is((await docker(sock, ['rm', 'ed'])).code, 0);
  assert.is((await docker(sock, ['rmi', 'me/noted:v1'])).code, 0);
}));

test('dockerode: listImages, getImage inspect/tag/remove', privileged<Ctx>(async ({ sock }) => {
  const dk = new Docker({ socketPath: sock });
  const list = await dk.listImages();
  assert.equal(list.map((i) => i.RepoTags), [['busybox:latest']]);
  await dk.getImage('busybox').tag({ repo: 'me/dode', tag: 't1' });
  assert.equal((await dk.getImage('me/dode:t1').inspect()).Id, list[0]!.Id);
  const removed = await dk.getImage('me/dode:t1').remove();
  assert.equal(removed, [{ Untagged: 'me/dode:t1' }]);
  assert.is((await dk.listImages()).length, 1);
}));

test.run();
