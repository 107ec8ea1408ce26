/**
 * Conformance suite for any Runtime (daemon/runtime/runtime.ts): what a container's processes
 * see and report, through the interface only. A runtime under test brings a root holding a
 * static busybox (sh and its applets in /bin, /etc/passwd with root and nobody) and a place for
 * state directories; nothing here knows how the runtime isolates.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ExitInfo } from '../../protocol/index.js';
import type { ContainerSpec, Process, ProcessSpec, RootMount, Runtime } from '../../daemon/runtime/runtime.js';
import { rejects } from '../_helpers/assert.js';
import { privileged } from '../_helpers/root.js';
import { eventually } from '../_helpers/wait.js';

export interface RuntimeUnderTest {
  rt: Runtime;
  /** The busybox root, as the runtime mounts it. */
  rootfs: RootMount[];
  /** A directory for containers' state directories. */
  stateRoot: string;
  close(): Promise<void>;
}

/** A root under `dir` with the host's static busybox and its applets, root and nobody users. */
export function busyboxRoot(dir: string): string {
  const r = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root']) mkdirSync(join(r, d), { recursive: true });
  cpSync('/bin/busybox', join(r, 'bin/busybox'));
  execFileSync('chroot', [r, '/bin/busybox', '--install', '-s', '/bin']);
  writeFileSync(join(r, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  return r;
}

interface Ctx { ut?: RuntimeUnderTest; n: number; specs: ContainerSpec[] }

const PATH_ENV = 'PATH=/usr/sbin:/usr/bin:/sbin:/bin';

function specFor(ctx: Ctx, over: Partial<ContainerSpec> = {}): ContainerSpec {
  const id = `suite${process.pid}x${++ctx.n}`;
  const stateDir = join(ctx.ut!.stateRoot, id);
  mkdirSync(stateDir, { recursive: true });
  const s: ContainerSpec = { id, stateDir, rootfs: ctx.ut!.rootfs, hostname: 'suitebox', network: 'none', init: false, ...over };
  ctx.specs.push(s);
  return s;
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

async function run(ctx: Ctx, args: string[], over: Partial<ProcessSpec> = {}, spec: Partial<ContainerSpec> = {}) {
  const s = specFor(ctx, spec);
  const r = await collect((await ctx.ut!.rt.start(s, procFor(args, over))).process);
  await ctx.ut!.rt.cleanup(s.id);
  return r;
}

export function runtimeSuite(name: string, open: () => Promise<RuntimeUnderTest>): void {
  const s = suite<Ctx>(`runtime:${name}`, {} as Ctx);
  s.before(async (ctx) => { ctx.n = 0; ctx.specs = []; ctx.ut = process.getuid?.() === 0 ? await open() : undefined; });
  s.after(async (ctx) => {
    if (!ctx.ut) return;
    for (const sp of ctx.specs) await ctx.ut.rt.cleanup(sp.id).catch(() => undefined);
    await ctx.ut.close();
  });

  s('exit statuses: its own code, 127/126 with a reason, 128+N when killed by N', privileged<Ctx>(async (ctx) => {
    assert.is((await run(ctx, ['sh', '-c', 'exit 3'])).exit.status, 3);
    const nf = await run(ctx, ['no-such-command']);
    assert.is(nf.exit.status, 127);
    assert.is(nf.exit.error?.code, 'command_not_found');
    const ce = await run(ctx, ['/etc/passwd']);
    assert.is(ce.exit.status, 126);
    assert.is(ce.exit.error?.code, 'cannot_execute');
    const own = await run(ctx, ['sh', '-c', 'exit 127']);
    assert.is(own.exit.status, 127);
    assert.is(own.exit.error, undefined, 'the command\'s own 127 has no reason');
    const sp = specFor(ctx);
    const task = await ctx.ut!.rt.start(sp, procFor(['sleep', '100']));
    const done = collect(task.process);
    task.process.kill('SIGKILL');
    const k = await done;
    assert.is(k.exit.status, 137);
    assert.is(k.exit.signal, 'SIGKILL');
  }));

  s('stdout and stderr stay apart; env, cwd, user and hostname apply; all output comes before the exit', privileged<Ctx>(async (ctx) => {
    const r = await run(ctx, ['sh', '-c', 'echo out; echo err >&2; echo "$GREETING $(pwd) $(id -u):$(id -g) $(hostname)"; seq 1 20000 | tail -n 1'],
      { env: [PATH_ENV, 'GREETING=hi'], cwd: '/tmp', user: { uid: 65534, gid: 65534, groups: [] } });
    assert.is(r.out, 'out\nhi /tmp 65534:65534 suitebox\n20000\n');
    assert.is(r.err, 'err\n');
    assert.is(r.exit.status, 0);
  }));

  s('stdin: a pipe passes bytes and its end; a tty has the size asked for and follows resize', privileged<Ctx>(async (ctx) => {
    const sp = specFor(ctx);
    const cat = await ctx.ut!.rt.start(sp, procFor(['cat'], { stdin: true }));
    const done = collect(cat.process);
    await cat.process.write(Buffer.from('through the pipe\n'));
    cat.process.closeStdin();
    const r = await done;
    assert.is(r.out, 'through the pipe\n');
    assert.is(r.exit.status, 0);
    await ctx.ut!.rt.cleanup(sp.id);

    const tp = specFor(ctx);
    const sh = await ctx.ut!.rt.start(tp, procFor(['sh'], { tty: true, stdin: true, size: { cols: 80, rows: 24 }, env: [PATH_ENV, 'PS1=# '] }));
    let out = '';
    sh.process.onData((_s, d) => { out += d; });
    const exited = new Promise<ExitInfo>((res) => sh.process.onExit(res));
    assert.ok(sh.process.tty);
    await sh.process.write(Buffer.from('stty size\r'));
    await eventually('stty size 24 80', () => /24 80/.test(out));
    sh.process.resize({ cols: 100, rows: 30 });
    await sh.process.write(Buffer.from('stty size; exit 4\r'));
    assert.is((await exited).status, 4);
    assert.match(out, /30 100/);
  }));

  s('exec joins a running container; alive, pids, freeze/thaw, the recorded exit; exec into a dead one is refused', privileged<Ctx>(async (ctx) => {
    const rt = ctx.ut!.rt;
    const sp = specFor(ctx);
    const task = await rt.start(sp, procFor(['sh', '-c', 'echo ready > /tmp/mark; exec sleep 60']));
    const done = collect(task.process);
    assert.ok(rt.alive(task.pid1));
    const seen = await eventually('exec sees what PID 1 wrote', async () => {
      const r = await collect(await rt.exec(sp, task.pid1, procFor(['sh', '-c', 'cat /tmp/mark; hostname'])));
      return r.out === 'ready\nsuitebox\n' && r;
    });
    assert.is(seen.exit.status, 0);
    assert.equal(await rt.pids(sp.id), [task.pid1], 'pids: PID 1 alone once the exec is gone');
    await rt.freeze(sp.id);
    await rt.freeze(sp.id); // idempotent
    await rt.thaw(sp.id);
    const after = await collect(await rt.exec(sp, task.pid1, procFor(['echo', 'thawed'])));
    assert.is(after.out, 'thawed\n');
    process.kill(task.pid1, 'SIGKILL'); // PID 1 itself (a PID 1 without a handler ignores SIGTERM)
    const exit = await done;
    assert.is(exit.exit.status, 137);
    await eventually('PID 1 gone', () => !rt.alive(task.pid1));
    assert.is((await rt.recordedExit(sp.stateDir))?.status, 137);
    await rejects(() => rt.exec(sp, task.pid1, procFor(['true'])), 'failed_precondition');
    assert.not.ok(await rt.oomKilled(sp.id));
    await rt.cleanup(sp.id);
    await rt.cleanup(sp.id); // idempotent
    assert.equal(await rt.pids(sp.id), []);
  }));

  s('a pids limit holds inside the container', privileged<Ctx>(async (ctx) => {
    // Forks in a subshell (a shell whose fork fails gives up); /proc is counted without forking.
    const script = '(for i in $(seq 40); do sleep 5 & done) 2>/dev/null; set -- /proc/[0-9]*; echo $#; kill -9 -1';
    const r = await run(ctx, ['sh', '-c', script], {}, { pidsLimit: 16 });
    const n = Number(r.out.trim());
    assert.ok(n > 2 && n <= 16, `at most 16 processes, not the 41 asked for (saw ${JSON.stringify(r.out)})`);
  }));

  s.run();
}
