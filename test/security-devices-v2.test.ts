/**
 * Host devices on a unified (cgroup v2) host, where sbx sets no device rules: the runtime on a
 * private cgroup2 mount (as runtime.test.ts does), so the container's processes sit in no
 * restricting devices cgroup and only the nodev /dev and root hold. A node made with mknod must
 * still not open; a --device node must.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { unifiedCgroups } from '../daemon/runtime/cgroups-v2.js';
import { createLinuxRuntime } from '../daemon/runtime/linux.js';
import type { ContainerSpec, Runtime } from '../daemon/runtime/runtime.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

function makeBusyboxRoot(dir: string): string {
  const r = join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(r, d), { recursive: true });
  cpSync('/bin/busybox', join(r, 'bin/busybox'));
  execFileSync('chroot', [r, '/bin/busybox', '--install', '-s', '/bin']);
  return r;
}

interface Ctx { dir: string; rootfs: string; mnt: string; rt: Runtime; n: number }

const s = suite<Ctx>('security: devices without a devices cgroup (v2)', {} as Ctx);
s.before(async (ctx) => {
  ctx.n = 0;
  if (process.getuid?.() !== 0) return;
  ctx.dir = await tmpdir('sbx-dev2-');
  ctx.rootfs = makeBusyboxRoot(ctx.dir);
  ctx.mnt = join(ctx.dir, 'cgroup2');
  mkdirSync(ctx.mnt);
  execFileSync('mount', ['-t', 'cgroup2', 'none', ctx.mnt]);
  ctx.rt = createLinuxRuntime(unifiedCgroups(ctx.mnt));
});
s.after(async (ctx) => {
  if (!ctx.dir) return;
  try { rmdirSync(join(ctx.mnt, 'sbx')); } catch { /* still busy: the umount below detaches it */ }
  execFileSync('umount', ['-l', ctx.mnt]);
  await rmrf(ctx.dir);
});

async function sh(ctx: Ctx, script: string, over: Partial<ContainerSpec> = {}): Promise<{ out: string; status: number }> {
  const id = `sbxdev2${process.pid}x${++ctx.n}`;
  const stateDir = join(ctx.dir, id);
  mkdirSync(stateDir);
  const spec: ContainerSpec = { id, stateDir, rootfs: [{ type: 'bind', source: ctx.rootfs, options: ['rbind'] }], hostname: 'box', network: 'none', init: false, ...over };
  const task = await ctx.rt.start(spec, { args: ['sh', '-c', script], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0, groups: [] }, tty: false, stdin: false });
  let out = '';
  task.process.onData((_, d) => { out += d; });
  const exit = await new Promise<{ status: number }>((r) => task.process.onExit(r));
  await ctx.rt.cleanup(id);
  return { out, status: exit.status };
}

s('no devices cgroup restricts the container, yet a node made with mknod opens nowhere; --device opens', privileged<Ctx>(async (ctx) => {
  const r = await sh(ctx, `cat /proc/self/cgroup | grep devices; for d in /dev /tmp /dev/shm /; do
    for n in "b 7 0" "c 10 237"; do
      f=$d/probe-$(echo $n | tr ' ' -); mknod $f $n || echo MKNOD-FAILED
      if (exec 3<>$f) 2>/dev/null; then echo "OPENED $f"; else echo "refused $f"; fi; rm -f $f
    done
  done; (exec 3<>/dev/lc) && echo device-opened`, { devices: [{ pathOnHost: '/dev/loop-control', pathInContainer: '/dev/lc', cgroupPermissions: 'rwm' }] });
  assert.is(r.status, 0, r.out);
  assert.not.match(r.out, /devices:\/sbx\//, 'the process is in no sbx devices group: only nodev holds here');
  assert.not.match(r.out, /OPENED|MKNOD-FAILED/, r.out);
  assert.is(r.out.match(/refused/g)?.length, 8, r.out);
  assert.match(r.out, /device-opened/);
}));

s.run();
