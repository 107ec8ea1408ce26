/** The Linux runtime on its own: a hand-made busybox root, real namespaces, real cgroups. */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ExitInfo } from '../protocol/index.js';
import { favorDynamicModifications } from '../daemon/runtime/cgroups-v1.js';
import { unifiedCgroups } from '../daemon/runtime/cgroups-v2.js';
import { createLinuxRuntime } from '../daemon/runtime/linux.js';
import type { ContainerSpec, Process, ProcessSpec, Runtime } from '../daemon/runtime/runtime.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { dir: string; rootfs: string; rt: Runtime; n: number }

export function makeBusyboxRoot(dir: string): string {
  const r = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root']) mkdirSync(join(r, d), { recursive: true });
  cpSync('/bin/busybox', join(r, 'bin/busybox'));
  execFileSync('chroot', [r, '/bin/busybox', '--install', '-s', '/bin']);
  writeFileSync(join(r, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  return r;
}

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function specFor(ctx: Ctx, over: Partial<ContainerSpec> = {}): ContainerSpec {
  const id = `sbxtest${process.pid}x${++ctx.n}`;
  const stateDir = join(ctx.dir, id);
  mkdirSync(stateDir, { recursive: true });
  return { id, stateDir, rootfs: [{ type: 'bind', source: ctx.rootfs, options: ['rbind'] }], hostname: 'box', network: 'none', init: false, ...over };
}

function procFor(args: string[], over: Partial<ProcessSpec> = {}): ProcessSpec {
  return { args, env: [PATH_ENV], cwd: '/', user: { uid: 0, gid: 0, groups: [] }, tty: false, stdin: false, ...over };
}

function collect(p: Process): Promise<{ out: string; err: string; exit: ExitInfo }> {
  let out = '';
  let err = '';
  p.onData((s, d) => { if (s === 'stdout') out += d; else err += d; });
  return new Promise((resolve) => p.onExit((exit) => resolve({ out, err, exit })));
}

/** Collects like collect(), and `until(re)` resolves once stdout so far matches (the container ran that far). */
function watch(p: Process): { done: Promise<{ out: string; err: string; exit: ExitInfo }>; until(re: RegExp): Promise<void> } {
  let out = '';
  let err = '';
  let ended = false;
  const waiters: Array<() => void> = [];
  p.onData((s, d) => { if (s === 'stdout') out += d; else err += d; for (const w of waiters.splice(0)) w(); });
  const done = new Promise<{ out: string; err: string; exit: ExitInfo }>((resolve) => p.onExit((exit) => {
    ended = true; for (const w of waiters.splice(0)) w(); resolve({ out, err, exit });
  }));
  const until = async (re: RegExp): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!re.test(out)) {
      if (ended) throw new Error(`exited before output matched ${re}; got ${JSON.stringify(out)}`);
      if (Date.now() > deadline) throw new Error(`no output matching ${re} within 10 s; got ${JSON.stringify(out)}`);
      await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 100); });
    }
  };
  return { done, until };
}

async function run(ctx: Ctx, args: string[], over: Partial<ProcessSpec> = {}, spec: Partial<ContainerSpec> = {}) {
  const s = specFor(ctx, spec);
  const task = await ctx.rt.start(s, procFor(args, over));
  const r = await collect(task.process);
  await ctx.rt.cleanup(s.id);
  return r;
}

const rt = suite<Ctx>('runtime: linux', {} as Ctx);
rt.before(async (ctx) => {
  ctx.n = 0;
  if (process.getuid?.() !== 0) return;
  ctx.dir = await tmpdir('sbx-rt-');
  ctx.rootfs = makeBusyboxRoot(ctx.dir);
  ctx.rt = createLinuxRuntime();
});
rt.after(async (ctx) => { if (ctx.dir) await rmrf(ctx.dir); });

rt('exit codes: own, 127 not found, 126 cannot execute, 137 killed', privileged<Ctx>(async (ctx) => {
  assert.is((await run(ctx, ['sh', '-c', 'exit 3'])).exit.status, 3);
  const nf = await run(ctx, ['no-such-command']);
  assert.is(nf.exit.status, 127);
  assert.is(nf.exit.error?.code, 'command_not_found');
  const ce = await run(ctx, ['/etc/passwd']);
  assert.is(ce.exit.status, 126);
  assert.is(ce.exit.error?.code, 'cannot_execute');
  const own127 = await run(ctx, ['sh', '-c', 'exit 127']);
  assert.is(own127.exit.status, 127);
  assert.is(own127.exit.error, undefined);
  const s = specFor(ctx);
  const task = await ctx.rt.start(s, procFor(['sleep', '100']));
  const done = collect(task.process);
  process.kill(task.pid1, 'SIGKILL');
  const k = await done;
  assert.is(k.exit.status, 137);
  assert.is(k.exit.signal, 'SIGKILL');
  await ctx.rt.cleanup(s.id);
}));

rt('stdout and stderr stay apart; env, cwd and user apply', privileged<Ctx>(async (ctx) => {
  const r = await run(ctx, ['sh', '-c', 'echo out; echo err >&2; echo "$GREETING $(pwd) $(id -u):$(id -g)"'],
    { env: [PATH_ENV, 'GREETING=hi'], cwd: '/tmp', user: { uid: 65534, gid: 65534, groups: [] } });
  assert.is(r.out, 'out\nhi /tmp 65534:65534\n');
  assert.is(r.err, 'err\n');
}));

rt('isolation: pid 1, own hostname, no mount, read-only /proc/sys, no host files, docker caps', privileged<Ctx>(async (ctx) => {
  const marker = join(ctx.dir, 'host-only-file');
  writeFileSync(marker, 'secret');
  const script = [
    'echo pid=$$', 'ps -o pid,comm | wc -l', 'hostname',
    'mount -t tmpfs none /tmp 2>/dev/null && echo mounted || echo nomount',
    '(echo 1 > /proc/sys/vm/drop_caches) 2>/dev/null && echo sysw || echo sysro',
    `cat ${marker} 2>/dev/null || echo nohost`,
    'grep CapBnd /proc/self/status', 'grep NoNewPrivs /proc/self/status',
    'ls /dev | tr "\\n" " "; echo', 'cat /etc/hosts | grep -c box',
  ].join('; ');
  const r = await run(ctx, ['sh', '-c', script]);
  const lines = r.out.trim().split('\n');
  assert.is(lines[0], 'pid=1');
  assert.ok(['3', '4'].includes(lines[1]!), `ps should list only its header, sh, ps (and wc): ${r.out}`);
  assert.is(lines[2], 'box');
  assert.is(lines[3], 'nomount');
  assert.is(lines[4], 'sysro');
  assert.is(lines[5], 'nohost');
  assert.match(lines[6]!, /CapBnd:\s+00000000a80425fb/);
  assert.match(lines[7]!, /NoNewPrivs:\s+1/);
  for (const d of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'ptmx', 'pts']) assert.ok(lines[8]!.split(' ').includes(d), `/dev/${d}: ${lines[8]}`);
  assert.is(lines[9], '1');
  assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), ctx.dir, 'no container mount is visible on the host');
}));

rt('a pty: tty answers, resize reaches stty, exit code passes', privileged<Ctx>(async (ctx) => {
  const s = specFor(ctx);
  const task = await ctx.rt.start(s, procFor(['sh'], { tty: true, stdin: true, size: { cols: 80, rows: 24 }, env: [PATH_ENV, 'TERM=xterm', 'PS1=# '] }));
  let out = '';
  task.process.onData((_s, d) => { out += d; });
  const exited = new Promise<ExitInfo>((r) => task.process.onExit(r));
  const until = async (re: RegExp): Promise<void> => {
    for (let i = 0; i < 500 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(out, re);
  };
  await task.process.write(Buffer.from('tty; stty size\r'));
  await until(/24 80/);
  assert.match(out, /\/dev\/pts\/0\r\n/, "a pty of the container's own devpts");
  task.process.resize({ cols: 132, rows: 50 });
  await task.process.write(Buffer.from('stty size\r'));
  await until(/50 132/);
  await task.process.write(Buffer.from('exit 7\r'));
  assert.is((await exited).status, 7);
  await ctx.rt.cleanup(s.id);
}));

rt('exec joins the namespaces; freeze/thaw; pids limit holds a fork bomb', privileged<Ctx>(async (ctx) => {
  const s = specFor(ctx, { pidsLimit: 64 });
  const task = await ctx.rt.start(s, procFor(['sh', '-c', 'echo hello > /tmp/x; echo ready; sleep 60']));
  const w = watch(task.process);
  const main = w.done;
  try {
    await w.until(/ready/);
    const ex = await ctx.rt.exec(s, task.pid1, procFor(['sh', '-c', 'while [ ! -s /tmp/x ]; do sleep 0.05; done; cat /tmp/x; echo $$; ps -o comm | grep -c sleep; hostname']));
    const r = await collect(ex);
    assert.is(r.exit.status, 0, r.err);
    const [x, , sleeps, host] = r.out.trim().split('\n');
    assert.is(x, 'hello');
    assert.is(sleeps, '1');
    assert.is(host, 'box');
    await ctx.rt.freeze(s.id);
    assert.is(readFileSync(`/sys/fs/cgroup/freezer/sbx/${s.id}/freezer.state`, 'utf8').trim(), 'FROZEN');
    await ctx.rt.thaw(s.id);
    const bomb = await ctx.rt.exec(s, task.pid1, procFor(['sh', '-c', 'for i in $(seq 200); do sleep 5 & done 2>/dev/null; ps | wc -l']));
    const b = await collect(bomb);
    assert.ok(Number(b.out.trim()) <= 66, `pids limit: ${b.out}`);
  } finally {
    await ctx.rt.thaw(s.id).catch(() => undefined);
    process.kill(task.pid1, 'SIGKILL');
  }
  assert.is((await main).exit.status, 137);
  await ctx.rt.cleanup(s.id);
}));

rt('cgroup migrations are made cheap: a favordynmods hierarchy is mounted, and limits still hold', privileged<Ctx>(async (ctx) => {
  const r = await favorDynamicModifications();
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  if (Number(kernel.split('.')[0]) < 6) {
    assert.is(r, 'unsupported', `kernel ${kernel} predates favordynmods`);
  } else {
    assert.ok(r === 'mounted' || r === 'already', `favordynmods: ${r} (kernel ${kernel})`);
    assert.match(readFileSync('/proc/self/mountinfo', 'utf8'), /- cgroup2? \S+ \S*favordynmods/);
    assert.is(await favorDynamicModifications(), 'already', 'a second daemon mounts nothing more');
  }
  const limited = await run(ctx, ['sh', '-c', 'cat /proc/self/cgroup'], {}, { pidsLimit: 64 });
  assert.match(limited.out, /pids:\/sbx\/sbxtest/, 'the process still joined its own pids group');
}));

rt('cgroup v2 (a unified hierarchy, as on Debian 12): the process joins sbx/<id>, freeze/thaw, limits only where delegated', privileged<Ctx>(async (ctx) => {
  const mnt = join(ctx.dir, 'cgroup2');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'cgroup2', 'none', mnt]);
  // the runtime on a private cgroup2 mount, as it runs on a host whose /sys/fs/cgroup is cgroup2
  const v2 = { ...ctx, rt: createLinuxRuntime(unifiedCgroups(mnt)) };
  try {
    const s = specFor(ctx);
    const task = await v2.rt.start(s, procFor(['sh', '-c', 'cat /proc/self/cgroup; sleep 60']));
    const w = watch(task.process);
    const main = w.done;
    const group = join(mnt, 'sbx', s.id);
    try {
      // freeze only once the shell has run cat: a frozen-then-killed shell prints nothing
      await w.until(/^0::\/sbx\//m);
      assert.ok(readFileSync(join(group, 'cgroup.procs'), 'utf8').split('\n').includes(String(task.pid1)), 'PID 1 is in sbx/<id>');
      await v2.rt.freeze(s.id);
      assert.match(readFileSync(join(group, 'cgroup.events'), 'utf8'), /^frozen 1$/m);
      await v2.rt.thaw(s.id);
      assert.match(readFileSync(join(group, 'cgroup.events'), 'utf8'), /^frozen 0$/m);
    } finally {
      process.kill(task.pid1, 'SIGKILL');
    }
    const r = await main;
    assert.match(r.out, new RegExp(`^0::/sbx/${s.id}$`, 'm'));
    assert.is(r.exit.status, 137);
    await v2.rt.cleanup(s.id);
    assert.not.ok(existsSync(group), 'cleanup removes the group');
    const limited = specFor(ctx, { pidsLimit: 64 });
    const offered = readFileSync(join(mnt, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('pids');
    if (offered) {
      const lr = await run(v2, ['cat', '/sys/fs/cgroup/pids.max'], {}, { pidsLimit: 64 });
      assert.is(lr.exit.status, 0);
    } else {
      const e = await v2.rt.start(limited, procFor(['true'])).then(() => undefined, (err: Error) => err);
      assert.match(String(e?.message), /pids limit for container .*does not delegate the pids controller/);
      assert.not.ok(existsSync(join(mnt, 'sbx', limited.id)), 'no half-made group is left');
    }
  } finally {
    try { rmdirSync(join(mnt, 'sbx')); } catch { /* still busy: the umount below detaches it */ }
    execFileSync('umount', ['-l', mnt]);
  }
}));

rt.run();
