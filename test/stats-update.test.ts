/**
 * `sbx stats --no-stream` shows docker's columns with sane values (a busy loop uses CPU, the
 * process count is right, a memory limit is the limit shown, a stopped container is zeros),
 * and `sbx update` changes memory, pids, CPU quota and restart policy of running and stopped
 * containers: inspect shows it, the kernel holds it, a CPU quota caps what stats shows.
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Containers, type ContainerInspect } from '../protocol/index.js';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

const s = suite<{ d: TestDaemon }>('stats and update', {} as { d: TestDaemon });
s.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
s.after(async (ctx) => {
  if (!ctx.d) return;
  const ids = (await sbx(ctx.d.root, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await sbx(ctx.d.root, ['rm', '-f', ...ids]);
  await ctx.d.close();
});

const BUSY = 'while :; do :; done';
const inspect = (d: TestDaemon, id: string): Promise<ContainerInspect> => d.client.call(Containers.inspect, { id });
const run = async (d: TestDaemon, args: string[]): Promise<string> => {
  const r = await sbx(d.root, ['run', '-d', ...args]);
  assert.is(r.code, 0, r.stderr);
  return r.stdout.trim();
};
/** stats --no-stream rows by container name: the columns split where docker's padding is. */
async function stats(d: TestDaemon, args: string[]): Promise<{ header: string; rows: Map<string, string[]> }> {
  const r = await sbx(d.root, ['stats', '--no-stream', ...args]);
  assert.is(r.code, 0, r.stderr);
  const [header, ...lines] = r.stdout.trimEnd().split('\n');
  return { header: header!, rows: new Map(lines.map((l) => l.split(/ {3,}/)).map((c) => [c[1]!, c])) };
}
const cgroup = (ctrl: string, id: string, file: string): string => readFileSync(`/sys/fs/cgroup/${ctrl}/sbx/${id}/${file}`, 'utf8').trim();
const v1 = (): boolean => { try { readFileSync('/sys/fs/cgroup/memory/cgroup.procs'); return true; } catch { return false; } };

s('stats --no-stream: docker\'s columns; CPU of a busy loop, the process count, the memory limit, zeros when stopped', privileged(async ({ d }) => {
  const busy = await run(d, ['--name', 'busy', 'busybox', 'sh', '-c', BUSY]);
  await run(d, ['--name', 'three', '-m', '64m', 'busybox', 'sh', '-c', 'sleep 1000 & sleep 1000 & wait']);
  await eventually('three processes in "three"', async () => (await d.client.call(Containers.list, {})).length === 2 && (await stats(d, ['three'])).rows.get('three')?.[7] === '3');
  await sbx(d.root, ['create', '--name', 'idle', 'busybox', 'true']);
  const { header, rows } = await stats(d, []);
  assert.match(header, /^CONTAINER ID {3}NAME {3,}CPU % {3,}MEM USAGE \/ LIMIT {3,}MEM % {3,}NET I\/O {3,}BLOCK I\/O {3,}PIDS$/);
  assert.equal([...rows.keys()].sort(), ['busy', 'three'], 'without -a only running containers');
  const b = rows.get('busy')!;
  assert.is(b[0], busy.slice(0, 12));
  assert.ok(Number(b[2]!.replace('%', '')) > 5, `a busy loop shows ${b[2]} CPU`);
  assert.is(b[7], '1');
  const t = rows.get('three')!;
  assert.is(t[7], '3');
  assert.match(t[3]!, /^[\d.]+(B|KiB|MiB) \/ 64MiB$/);
  assert.ok(Number(t[2]!.replace('%', '')) < 5, `sleeping processes show ${t[2]} CPU`);
  assert.match(t[5]!, /^[\d.]+k?B \/ [\d.]+k?B$/);
  const all = await stats(d, ['-a', '--no-trunc']);
  assert.equal(all.rows.get('idle')!.slice(2), ['0.00%', '0B / 0B', '0.00%', '0B / 0B', '0B / 0B', '0']);
  assert.is(all.rows.get('busy')![0], busy);
  const missing = await sbx(d.root, ['stats', '--no-stream', 'nosuch']);
  assert.is(missing.code, 125);
  assert.match(missing.stderr, /No such container|no such container/);
  assert.is((await sbx(d.root, ['rm', '-f', 'busy', 'three', 'idle'])).code, 0);
}));

s('update on a running container: inspect, the cgroups, a CPU quota stats can see, the restart policy', privileged(async ({ d }) => {
  const id = await run(d, ['--name', 'upd', 'busybox', 'sh', '-c', BUSY]);
  const r = await sbx(d.root, ['update', '--memory', '32m', '--pids-limit', '5', '--cpus', '0.2', '--restart', 'on-failure:3', 'upd']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'upd\n');
  const i = await inspect(d, id);
  assert.is(i.HostConfig.Memory, 32 * 1024 * 1024);
  assert.is(i.HostConfig.PidsLimit, 5);
  assert.is(i.HostConfig.NanoCpus, 200_000_000);
  assert.equal(i.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  if (v1()) {
    assert.is(cgroup('memory', id, 'memory.limit_in_bytes'), String(32 * 1024 * 1024));
    assert.is(cgroup('pids', id, 'pids.max'), '5');
    assert.is(cgroup('cpu', id, 'cpu.cfs_quota_us'), '20000');
  }
  // the loop now gets at most a fifth of a CPU
  const { rows } = await stats(d, ['upd']);
  const cpu = Number(rows.get('upd')![2]!.replace('%', ''));
  assert.ok(cpu > 0 && cpu < 30, `a loop held to 0.2 CPUs shows ${cpu}%`);
  assert.match(rows.get('upd')![3]!, / \/ 32MiB$/);
  // the pids limit holds: six more processes do not all start
  const forks = await sbx(d.root, ['exec', 'upd', 'sh', '-c', 'for i in 1 2 3 4 5 6; do sleep 30 & done 2>&1; echo done']);
  assert.match(forks.stdout + forks.stderr, /can't fork|Resource temporarily unavailable|fork/i);
  // 0 lifts them again
  assert.is((await sbx(d.root, ['update', '--cpus', '0', '--pids-limit=-1', 'upd'])).code, 0);
  assert.is((await inspect(d, id)).HostConfig.NanoCpus, 0);
  if (v1()) assert.is(cgroup('pids', id, 'pids.max'), 'max');
  assert.is((await sbx(d.root, ['rm', '-f', 'upd'])).code, 0);
}));

s('update on a stopped container is kept for its next start; bad values are refused', privileged(async ({ d }) => {
  const c = await sbx(d.root, ['create', '--name', 'later', 'busybox', 'sleep', '1000']);
  assert.is(c.code, 0, c.stderr);
  const id = c.stdout.trim();
  const u = await sbx(d.root, ['container', 'update', '-m', '16m', '--cpus', '0.5', 'later']);
  assert.is(u.code, 0, u.stderr);
  assert.is((await sbx(d.root, ['start', 'later'])).code, 0);
  if (v1()) {
    assert.is(cgroup('memory', id, 'memory.limit_in_bytes'), String(16 * 1024 * 1024));
    assert.is(cgroup('cpu', id, 'cpu.cfs_quota_us'), '50000');
  }
  const cases: [string[], number, RegExp][] = [
    [['update', 'later'], 1, /you must provide one or more flags/],
    [['update', '--cpus', 'lots', 'later'], 125, /invalid argument "lots" for "--cpus" flag/],
    [['update', '--memory', '1m', 'later'], 1, /Minimum memory limit allowed is 6MB/],
    [['update', '--restart', 'sometimes', 'later'], 125, /unknown policy 'sometimes'/],
    [['update', '--memory', '64m', 'nosuch'], 1, /no such container/i],
  ];
  for (const [args, code, re] of cases) {
    const r = await sbx(d.root, args);
    assert.is(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  assert.is((await inspect(d, id)).HostConfig.Memory, 16 * 1024 * 1024, 'a refused update changed the record');
  const rm = await run(d, ['--rm', '--name', 'gone', 'busybox', 'sleep', '1000']);
  const p = await sbx(d.root, ['update', '--restart', 'always', rm]);
  assert.is(p.code, 1);
  assert.match(p.stderr, /Restart policy cannot be updated because AutoRemove is enabled/);
  await sbx(d.root, ['rm', '-f', 'later', 'gone']);
}));

s.run();
