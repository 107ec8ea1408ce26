/**
 * run/create/update --cpus, --cpu-shares, --cpuset-cpus, --cpuset-mems, --memory-swap,
 * --memory-reservation (and --pids-limit -1): inspect's HostConfig shows docker's values and the
 * container reads its own limits back from /sys/fs/cgroup, as it would under docker; bad values
 * are refused with docker's words before anything is created.
 */
import { existsSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Containers, type ContainerInspect } from '../protocol/index.js';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';

const s = suite<{ d: TestDaemon }>('run resources', {} as { d: TestDaemon });
s.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
s.after(async (ctx) => {
  if (!ctx.d) return;
  const ids = (await sbx(ctx.d.root, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await sbx(ctx.d.root, ['rm', '-f', ...ids]);
  await ctx.d.close();
});

const MiB = 1024 * 1024;
/** The host's kind decides where a container finds its files: v2's one group, or a directory per v1 controller. */
const unified = existsSync('/sys/fs/cgroup/cgroup.controllers');
const inspect = (d: TestDaemon, id: string): Promise<ContainerInspect> => d.client.call(Containers.inspect, { id });

/** `cat` of each file inside the container, one "file=value" line each (value "-" when missing). */
function catScript(files: string[]): string {
  return files.map((f) => `printf '%s=%s\\n' ${f} "$(cat /sys/fs/cgroup/${f} 2>/dev/null || echo -)"`).join('; ');
}
function parse(out: string): Record<string, string> {
  return Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

s('run: the limits reach the cgroup the container sees and inspect shows docker\'s HostConfig', privileged(async ({ d }) => {
  const files = unified
    ? ['cpu.max', 'cpu.weight', 'cpuset.cpus', 'cpuset.mems', 'memory.max', 'memory.swap.max', 'memory.low', 'pids.max']
    : ['cpu/cpu.cfs_quota_us', 'cpu/cpu.shares', 'cpuset/cpuset.cpus', 'cpuset/cpuset.mems', 'memory/memory.limit_in_bytes',
      'memory/memory.soft_limit_in_bytes', 'pids/pids.max'];
  const r = await sbx(d.root, ['run', '--name', 'lim', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0', '--cpuset-mems', '0',
    '-m', '64m', '--memory-swap', '128m', '--memory-reservation', '32m', '--pids-limit', '50', 'busybox', 'sh', '-c', catScript(files)]);
  assert.is(r.code, 0, r.stderr);
  const got = parse(r.stdout);
  const want = unified
    ? { 'cpu.max': '50000 100000', 'cpu.weight': '20', 'cpuset.cpus': '0', 'cpuset.mems': '0', 'memory.max': String(64 * MiB),
      'memory.swap.max': String(64 * MiB), 'memory.low': String(32 * MiB), 'pids.max': '50' }
    : { 'cpu/cpu.cfs_quota_us': '50000', 'cpu/cpu.shares': '512', 'cpuset/cpuset.cpus': '0', 'cpuset/cpuset.mems': '0',
      'memory/memory.limit_in_bytes': String(64 * MiB), 'memory/memory.soft_limit_in_bytes': String(32 * MiB), 'pids/pids.max': '50' };
  assert.equal(got, want, r.stdout);
  const h = (await inspect(d, 'lim')).HostConfig;
  assert.equal([h.NanoCpus, h.CpuShares, h.CpusetCpus, h.CpusetMems, h.Memory, h.MemorySwap, h.MemoryReservation, h.PidsLimit],
    [500_000_000, 512, '0', '0', 64 * MiB, 128 * MiB, 32 * MiB, 50]);
  // the view is read-only, as docker mounts it
  const w = await sbx(d.root, ['run', '--rm', '-m', '64m', 'busybox', 'sh', '-c', `echo 1 > /sys/fs/cgroup/${unified ? '' : 'memory/'}cgroup.procs && echo wrote`]);
  assert.not.match(w.stdout, /wrote/);
  assert.match(w.stderr + w.stdout, /Read-only file system/);
}));

s('docker\'s defaults: --memory-swap twice --memory; --pids-limit -1 (a separate argument) is no limit; zero values without flags', privileged(async ({ d }) => {
  const c = await sbx(d.root, ['create', '--name', 'dflt', '-m', '64m', '--pids-limit', '-1', 'busybox', 'true']);
  assert.is(c.code, 0, c.stderr);
  const h = (await inspect(d, 'dflt')).HostConfig;
  assert.equal([h.Memory, h.MemorySwap, h.PidsLimit], [64 * MiB, 128 * MiB, null], 'no limit: null, as docker shows it');
  const p = await sbx(d.root, ['create', '--name', 'plain', 'busybox', 'true']);
  assert.is(p.code, 0, p.stderr);
  const z = (await inspect(d, 'plain')).HostConfig;
  assert.equal([z.NanoCpus, z.CpuShares, z.CpusetCpus, z.CpusetMems, z.MemorySwap, z.MemoryReservation], [0, 0, '', '', 0, 0]);
}));

s('update changes shares and cpuset of a running container: the container reads the new values', privileged(async ({ d }) => {
  const files = unified ? ['cpu.weight', 'cpuset.cpus'] : ['cpu/cpu.shares', 'cpuset/cpuset.cpus'];
  const r = await sbx(d.root, ['run', '-d', '--name', 'upd', '--cpu-shares', '512', '--cpuset-cpus', '0', 'busybox', 'sleep', '1000']);
  assert.is(r.code, 0, r.stderr);
  const u = await sbx(d.root, ['update', '--cpu-shares', '2048', '--cpuset-cpus', '0-1', '--memory-reservation', '16m', 'upd']);
  assert.is(u.code, 0, u.stderr);
  const e = await sbx(d.root, ['exec', 'upd', 'sh', '-c', catScript(files)]);
  assert.is(e.code, 0, e.stderr);
  assert.equal(parse(e.stdout), unified ? { 'cpu.weight': '79', 'cpuset.cpus': '0-1' } : { 'cpu/cpu.shares': '2048', 'cpuset/cpuset.cpus': '0-1' });
  const h = (await inspect(d, 'upd')).HostConfig;
  assert.equal([h.CpuShares, h.CpusetCpus, h.MemoryReservation], [2048, '0-1', 16 * MiB]);
  const bad = await sbx(d.root, ['update', '--memory-swap', '64m', 'upd']);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /You should always set the Memory limit when using Memoryswap limit/);
}));

s('bad values: docker\'s messages, exit 125, nothing created', privileged(async ({ d }) => {
  const before = (await sbx(d.root, ['ps', '-aq'])).stdout;
  const cases: [string[], RegExp][] = [
    [['--cpuset-cpus', '0-63'], /Requested CPUs are not available - requested 0-63, available: \d/],
    [['--cpuset-cpus', 'abc'], /Invalid value abc for cpuset cpus/],
    [['--cpuset-mems', '7'], /Requested memory nodes are not available - requested 7, available: /],
    [['--memory-swap', '64m'], /You should always set the Memory limit when using Memoryswap limit/],
    [['-m', '64m', '--memory-swap', '32m'], /Minimum memoryswap limit should be larger than memory limit/],
    [['-m', '64m', '--memory-reservation', '128m'], /Minimum memory limit can not be less than memory reservation limit/],
    [['--memory-reservation', '1m'], /Minimum memory reservation allowed is 6MB/],
    [['--cpus', '99'], /range of CPUs is from 0.01 to \d+\.00/],
    [['--cpu-shares', 'lots'], /invalid argument "lots" for "-c, --cpu-shares" flag/],
    [['--memory-swap', 'x'], /invalid argument "x" for "--memory-swap" flag/],
  ];
  for (const [flags, re] of cases) {
    const r = await sbx(d.root, ['create', ...flags, 'busybox', 'true']);
    assert.is(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  assert.is((await sbx(d.root, ['ps', '-aq'])).stdout, before, 'no container was created');
}));

s.run();
