/**
 * Paths from an image or a request are resolved inside the container root, never on the host:
 * an image whose /work and /etc are absolute symlinks to host directories, `-w` with ../, and
 * `exec -w` with ../, through the real CLI and daemon.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { d: TestDaemon; host: string }

const s = suite<Ctx>('security: paths', {} as Ctx);
s.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  ctx.host = await tmpdir('sbx-hostdir-');
});
s.after(async (ctx) => { await ctx.d?.close(); if (ctx.host) await rmrf(ctx.host); });

s('an image whose /work and /etc are symlinks to host directories creates nothing on the host', privileged<Ctx>(async ({ d, host }) => {
  const work = join(host, 'work');
  const etc = join(host, 'etc');
  mkdirSync(work);
  mkdirSync(etc);
  const rootfs = join(host, 'rootfs');
  for (const dir of ['bin', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(rootfs, dir), { recursive: true });
  cpSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  execFileSync('chroot', [rootfs, '/bin/busybox', '--install', '-s', '/bin']);
  symlinkSync(work, join(rootfs, 'work'));
  symlinkSync(etc, join(rootfs, 'etc'));
  const imp = await sbx(d.root, ['import', '-c', 'WORKDIR /work/created-by-image', '-c', 'CMD ["sh"]', rootfs, 'evil:1']);
  assert.is(imp.code, 0, imp.stderr);
  await rmrf(rootfs);

  const r = await sbx(d.root, ['run', '--rm', '--hostname', 'evilbox', 'evil:1', 'sh', '-c', 'pwd; cat /etc/hostname; readlink /work']);
  assert.equal(readdirSync(work), [], `nothing created in the host directory /work points at`);
  assert.equal(readdirSync(etc), [], `no hosts, resolv.conf or hostname in the host directory /etc points at`);
  // as runc's securejoin does: the symlinks are followed inside the root, where the container gets them
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `${work}/created-by-image\nevilbox\n${work}\n`, 'the workdir and /etc files exist inside the container');
}));

s('-w /../../../../../tmp/x creates nothing on the host and works inside', privileged<Ctx>(async ({ d, host }) => {
  const name = `sbx-escape-${process.pid}-${Date.now()}`;
  const target = join('/tmp', name);
  const r = await sbx(d.root, ['run', '--rm', '-w', `/../../../../../tmp/${name}`, 'busybox', 'sh', '-c', 'pwd; touch made-here; ls']);
  const escaped = existsSync(target);
  if (escaped) await rmrf(target);
  assert.not.ok(escaped, `${target} was created on the host`);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `/tmp/${name}\nmade-here\n`);
  // a workdir through a symlink the container itself made: still inside
  writeFileSync(join(host, 'marker'), '');
  const l = await sbx(d.root, ['run', '--rm', '-w', `/hop/../../..${host}/sub`, 'busybox', 'sh', '-c', 'pwd']);
  assert.is(l.code, 0, l.stderr);
  assert.not.ok(existsSync(join(host, 'sub')), 'a ../ workdir naming a host directory stays inside');
}));

s('exec -w with ../ resolves inside the container', privileged<Ctx>(async ({ d }) => {
  const c = await sbx(d.root, ['run', '-d', '--name', 'pathbox', '--hostname', 'pathbox', 'busybox', 'sleep', '60']);
  assert.is(c.code, 0, c.stderr);
  const r = await sbx(d.root, ['exec', '-w', '/../../../../etc', 'pathbox', 'sh', '-c', 'pwd; cat hostname']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '/etc\npathbox\n');
  await sbx(d.root, ['rm', '-f', 'pathbox']);
}));

s.run();
