/**
 * Conformance suite for any Cgroups mechanism (daemon/runtime/cgroups.ts): real processes are put
 * into the groups it makes, frozen, thawed, limited and the groups removed. A limit is enforced
 * where the mechanism offers its controller and refused (unavailable) where it does not; the
 * factory says which controllers it offers, read from the hierarchy it uses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Cgroups } from '../../daemon/runtime/cgroups.js';
import { rejects } from '../_helpers/assert.js';
import { privileged } from '../_helpers/root.js';
import { eventually } from '../_helpers/wait.js';

export interface CgroupsUnderTest {
  cgroups: Cgroups;
  /** The limits its hierarchy can hold. */
  offers: { memory: boolean; pids: boolean };
  close(): Promise<void>;
}

interface Ctx { ut?: CgroupsUnderTest; id: string; procs: ChildProcess[] }

/** CPU ticks (user + system) the process has used so far. */
function ticks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** A shell that waits for a line on stdin, then runs `script`; its output is collected. */
function shell(ctx: Ctx, script: string): { p: ChildProcess; go(): void; done: Promise<{ out: string; code: number | null }> } {
  const p = spawn('sh', ['-c', `read x; ${script}`], { stdio: ['pipe', 'pipe', 'ignore'] });
  ctx.procs.push(p);
  let out = '';
  p.stdout!.on('data', (b: Buffer) => { out += b; });
  const done = new Promise<{ out: string; code: number | null }>((r) => p.once('exit', (code) => r({ out, code })));
  return { p, go: () => p.stdin!.end('go\n'), done };
}

async function enter(dirs: string[], pid: number): Promise<void> {
  for (const d of dirs) await writeFile(join(d, 'cgroup.procs'), String(pid));
}

export function cgroupsSuite(name: string, open: () => Promise<CgroupsUnderTest>): void {
  const s = suite<Ctx>(`cgroups:${name}`, {} as Ctx);
  s.before.each(async (ctx) => {
    ctx.procs = [];
    ctx.id = `suite-${randomBytes(4).toString('hex')}`;
    ctx.ut = process.getuid?.() === 0 ? await open() : undefined;
  });
  s.after.each(async (ctx) => {
    for (const p of ctx.procs) if (p.exitCode === null && p.signalCode === null) { p.kill('SIGKILL'); await new Promise((r) => p.once('exit', r)); }
    if (ctx.ut) {
      await ctx.ut.cgroups.thaw(ctx.id).catch(() => undefined);
      await ctx.ut.cgroups.remove(ctx.id).catch(() => undefined);
      await ctx.ut.close();
    }
  });

  s('create makes the groups a process joins; dirs() names them; remove takes them away', privileged<Ctx>(async (ctx) => {
    const cg = ctx.ut!.cgroups;
    const dirs = await cg.create(ctx.id, {});
    assert.ok(dirs.length > 0);
    assert.equal([...cg.dirs(ctx.id)].sort(), [...dirs].sort());
    const sh = shell(ctx, 'true');
    await enter(dirs, sh.p.pid!);
    for (const d of dirs) assert.ok(readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').includes(String(sh.p.pid)), d);
    assert.match(readFileSync(`/proc/${sh.p.pid}/cgroup`, 'utf8'), `/sbx/${ctx.id}`);
    sh.go();
    await sh.done;
    await cg.remove(ctx.id);
    for (const d of dirs) assert.not.ok(existsSync(d), `${d} removed`);
    assert.equal(cg.dirs(ctx.id), []);
    await cg.remove(ctx.id); // again: nothing to do
  }));

  s('freeze stops every process of the group until thaw', privileged<Ctx>(async (ctx) => {
    const cg = ctx.ut!.cgroups;
    const dirs = await cg.create(ctx.id, {});
    const busy = shell(ctx, 'while :; do :; done');
    await enter(dirs, busy.p.pid!);
    busy.go();
    const pid = busy.p.pid!;
    await eventually('the loop running', () => ticks(pid) > 0);
    await cg.freeze(ctx.id);
    assert.ok(await cg.isFrozen(ctx.id));
    const t = ticks(pid);
    // A negative claim needs a window: a running loop gains ~25 ticks in 250 ms.
    await new Promise((r) => setTimeout(r, 250));
    assert.is(ticks(pid), t, 'no CPU used while frozen');
    await cg.thaw(ctx.id);
    assert.not.ok(await cg.isFrozen(ctx.id));
    await eventually('the loop running again', () => ticks(pid) > t);
  }));

  s('freeze of a container without a group is failed_precondition; thaw and isFrozen leave it alone', privileged<Ctx>(async (ctx) => {
    const cg = ctx.ut!.cgroups;
    await rejects(() => cg.freeze(ctx.id), 'failed_precondition');
    await cg.thaw(ctx.id);
    assert.not.ok(await cg.isFrozen(ctx.id));
    assert.not.ok(await cg.oomKilled(ctx.id));
  }));

  s('a pids limit stops forks past it where offered, else it is refused', privileged<Ctx>(async (ctx) => {
    const { cgroups: cg, offers } = ctx.ut!;
    if (!offers.pids) { await rejects(() => cg.create(ctx.id, { pidsLimit: 1 }), 'unavailable'); return; }
    const dirs = await cg.create(ctx.id, { pidsLimit: 1 });
    const sh = shell(ctx, '/bin/true && echo forked');
    await enter(dirs, sh.p.pid!);
    sh.go();
    const r = await sh.done;
    assert.is(r.out, '', 'the shell is the one process allowed: its fork fails');
    assert.is.not(r.code, 0);
  }));

  s('update sets and lifts a pids limit on a live group, where offered; stats counts its processes', privileged<Ctx>(async (ctx) => {
    const { cgroups: cg, offers } = ctx.ut!;
    await rejects(() => cg.update(ctx.id, { pidsLimit: 1 }, []), 'failed_precondition');
    const dirs = await cg.create(ctx.id, {});
    const sh = shell(ctx, '/bin/true && echo forked');
    await enter(dirs, sh.p.pid!);
    if (!offers.pids) { await rejects(() => cg.update(ctx.id, { pidsLimit: 1 }, [sh.p.pid!]), 'unavailable'); return; }
    assert.is((await cg.stats(ctx.id)).pids, 1);
    await cg.update(ctx.id, { pidsLimit: 1 }, [sh.p.pid!]);
    await cg.update(ctx.id, { pidsLimit: 0 }, [sh.p.pid!]);
    await cg.update(ctx.id, { pidsLimit: 1 }, [sh.p.pid!]);
    sh.go();
    const r = await sh.done;
    assert.is(r.out, '', 'the limit set by update holds: the fork fails');
  }));

  s('a memory limit kills what goes past it, and oomKilled says so, where offered; else refused', privileged<Ctx>(async (ctx) => {
    const { cgroups: cg, offers } = ctx.ut!;
    if (!offers.memory) { await rejects(() => cg.create(ctx.id, { memory: 32 << 20 }), 'unavailable'); return; }
    const dirs = await cg.create(ctx.id, { memory: 32 << 20 });
    assert.not.ok(await cg.oomKilled(ctx.id));
    const sh = shell(ctx, 'dd if=/dev/zero of=/dev/null bs=128M count=1 2>/dev/null; echo $?');
    await enter(dirs, sh.p.pid!);
    sh.go();
    assert.is((await sh.done).out, '137\n', 'dd, filling a 128 MiB buffer, was killed');
    assert.ok(await cg.oomKilled(ctx.id));
  }));

  s.run();
}
