/**
 * Health checks as docker's: --health-* flags and the image's HEALTHCHECK run in the container;
 * ps STATUS says "(health: starting)", "(healthy)", "(unhealthy)"; inspect's State.Health has
 * Status, FailingStreak and the Log; ps --filter health= picks them; a test over its timeout is
 * killed and fails; --no-healthcheck turns the image's off. Every wait is on a condition.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Containers, type ContainerInspect } from '../protocol/index.js';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

const s = suite<{ d: TestDaemon }>('health checks', {} as { d: TestDaemon });
s.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
s.after(async (ctx) => {
  if (!ctx.d) return;
  const ids = (await sbx(ctx.d.root, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await sbx(ctx.d.root, ['rm', '-f', ...ids]);
  await ctx.d.close();
});

const WAIT = 60_000; // probes are exec'd processes: slow on a loaded machine
const inspect = (d: TestDaemon, id: string): Promise<ContainerInspect> => d.client.call(Containers.inspect, { id });
const ok = async (d: TestDaemon, args: string[]): Promise<string> => {
  const r = await sbx(d.root, args);
  assert.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
/** ps's STATUS column for a container name (the columns split where docker's padding is). */
async function status(d: TestDaemon, name: string): Promise<string | undefined> {
  const out = await ok(d, ['ps', '-a', '--format', '{{.Names}}|{{.Status}}']);
  return out.split('\n').map((l) => l.split('|')).find(([n]) => n === name)?.[1];
}
const health = async (d: TestDaemon, name: string, want: string): Promise<ContainerInspect> =>
  eventually(`${name} ${want}`, async () => { const i = await inspect(d, name); return i.State.Health?.Status === want && i; }, WAIT);

s('--health-cmd: starting, unhealthy after the retries, healthy once the test passes; ps STATUS and --filter health=', privileged(async ({ d }) => {
  const id = await ok(d, ['run', '-d', '--name', 'web', '--health-cmd', 'test -f /tmp/ok && echo fine', '--health-interval', '200ms', '--health-retries', '2', 'busybox', 'sleep', '1000']);
  await ok(d, ['run', '-d', '--name', 'slow', '--health-cmd', 'true', '--health-interval', '1h', 'busybox', 'sleep', '1000']);
  await ok(d, ['run', '-d', '--name', 'none', 'busybox', 'sleep', '1000']);
  assert.match(await status(d, 'slow') ?? '', /^Up .* \(health: starting\)$/);
  assert.equal((await inspect(d, 'slow')).State.Health, { Status: 'starting', FailingStreak: 0, Log: [] });
  assert.match(await status(d, 'none') ?? '', /^Up [^(]*$/, 'no health check: no suffix');
  assert.is((await inspect(d, 'none')).State.Health, undefined);

  const bad = await health(d, 'web', 'unhealthy');
  assert.ok(bad.State.Health!.FailingStreak >= 2, JSON.stringify(bad.State.Health));
  const last = bad.State.Health!.Log.at(-1)!;
  assert.is(last.ExitCode, 1);
  assert.ok(Date.parse(last.End) >= Date.parse(last.Start));
  assert.ok(bad.State.Health!.Log.length <= 5);
  assert.equal(bad.Config.Healthcheck, { Test: ['CMD-SHELL', 'test -f /tmp/ok && echo fine'], Interval: 200_000_000, Retries: 2 });
  assert.match(await status(d, 'web') ?? '', /^Up .* \(unhealthy\)$/);
  assert.is(await ok(d, ['ps', '-q', '--no-trunc', '--filter', 'health=unhealthy']), id);

  await ok(d, ['exec', 'web', 'touch', '/tmp/ok']);
  const good = await health(d, 'web', 'healthy');
  assert.is(good.State.Health!.FailingStreak, 0);
  assert.equal({ code: good.State.Health!.Log.at(-1)!.ExitCode, out: good.State.Health!.Log.at(-1)!.Output }, { code: 0, out: 'fine\n' });
  assert.match(await status(d, 'web') ?? '', /^Up .* \(healthy\)$/);
  assert.is(await ok(d, ['ps', '-q', '--no-trunc', '--filter', 'health=healthy']), id);
  assert.is(await ok(d, ['ps', '--format', '{{.Names}}', '--filter', 'health=starting']), 'slow');
  assert.is(await ok(d, ['ps', '--format', '{{.Names}}', '--filter', 'health=none']), 'none');
  const f = await sbx(d.root, ['ps', '--filter', 'health=sick']);
  assert.is(f.code, 1);
  assert.match(f.stderr, /Unrecognised filter value for health: sick/);

  // a stopped container shows no health in ps
  await ok(d, ['stop', '-t', '0', 'web']);
  assert.match(await status(d, 'web') ?? '', /^Exited \(\d+\) [^(]*ago$/);
  await ok(d, ['rm', '-f', 'web', 'slow', 'none']);
}));

s('the image\'s HEALTHCHECK runs; flags override its fields; --no-healthcheck turns it off', privileged(async ({ d }) => {
  await ok(d, ['run', '--name', 'base', 'busybox', 'true']);
  await ok(d, ['commit', '-c', 'HEALTHCHECK --interval=200ms --retries=1 CMD echo from-image', 'base', 'checked']);
  await ok(d, ['run', '-d', '--name', 'img', 'checked', 'sleep', '1000']);
  const i = await health(d, 'img', 'healthy');
  assert.is(i.State.Health!.Log.at(-1)!.Output, 'from-image\n');
  assert.equal(i.Config.Healthcheck!.Test, ['CMD-SHELL', 'echo from-image']);

  await ok(d, ['run', '-d', '--name', 'over', '--health-cmd', 'exit 3', 'checked', 'sleep', '1000']);
  const o = await health(d, 'over', 'unhealthy');
  assert.equal([o.Config.Healthcheck!.Test, o.Config.Healthcheck!.Interval, o.Config.Healthcheck!.Retries], [['CMD-SHELL', 'exit 3'], 200_000_000, 1]);
  assert.is(o.State.Health!.Log.at(-1)!.ExitCode, 3);

  await ok(d, ['run', '-d', '--name', 'off', '--no-healthcheck', 'checked', 'sleep', '1000']);
  const n = await inspect(d, 'off');
  assert.is(n.State.Health, undefined);
  // docker's merge keeps the image's other fields under Test NONE
  assert.equal(n.Config.Healthcheck, { Test: ['NONE'], Interval: 200_000_000, Retries: 1 });
  assert.match(await status(d, 'off') ?? '', /^Up [^(]*$/);
  await ok(d, ['rm', '-f', 'img', 'over', 'off', 'base']);
}));

s('a test that outlives --health-timeout is killed and counts as a failure', privileged(async ({ d }) => {
  await ok(d, ['run', '-d', '--name', 'hang', '--health-cmd', 'sleep 30', '--health-timeout', '300ms', '--health-interval', '200ms', '--health-retries', '1', 'busybox', 'sleep', '1000']);
  const i = await health(d, 'hang', 'unhealthy');
  assert.equal(i.State.Health!.Log.at(-1)!.ExitCode, -1);
  assert.is(i.State.Health!.Log.at(-1)!.Output, 'Health check exceeded timeout (300ms)');
  // the killed test leaves no process behind: only PID 1's sleep is in the container
  await eventually('only the main process left', async () => (await ok(d, ['top', 'hang'])).split('\n').length === 2, WAIT);
  await ok(d, ['rm', '-f', 'hang']);
}));

s('health outlives a stop and a daemon restart, as docker keeps it: unhealthy once stopped, the log kept', privileged(async (ctx) => {
  const { d } = ctx;
  await ok(d, ['run', '-d', '--name', 'gone', '--health-cmd', 'echo up', '--health-interval', '200ms', 'busybox', 'sleep', '1000']);
  await ok(d, ['run', '-d', '--name', 'back', '--restart', 'always', '--health-cmd', 'echo up', '--health-interval', '1s', 'busybox', 'sleep', '1000']);
  await health(d, 'gone', 'healthy');
  const before = (await health(d, 'back', 'healthy')).State.Health!.Log;
  await ok(d, ['stop', '-t', '0', 'gone']);
  // docker: "unhealthy when the monitor has stopped"
  const stopped = (await health(d, 'gone', 'unhealthy')).State.Health!;
  assert.ok(stopped.Log.length >= 1 && stopped.Log[0]!.Output === 'up\n', JSON.stringify(stopped));

  // sbxd stops and starts again on the same root
  const root = d.root;
  await d.daemon.close();
  ctx.d = await startTestDaemon({ root });
  assert.equal((await inspect(ctx.d, 'gone')).State.Health, stopped, 'a stopped container keeps its health');
  const again = await health(ctx.d, 'back', 'healthy');
  assert.ok(again.State.Health!.Log.some((e) => e.Start === before[0]!.Start), 'the log from before the restart is kept');
  await ok(ctx.d, ['rm', '-f', 'gone', 'back']);
}));

s('bad health flags: exit 125 with docker\'s words, nothing created', privileged(async ({ d }) => {
  const before = await ok(d, ['ps', '-aq']);
  const cases: [string[], RegExp][] = [
    [['--no-healthcheck', '--health-cmd', 'true'], /--no-healthcheck conflicts with --health-\* options/],
    [['--health-interval', '-1s'], /--health-interval cannot be negative/],
    [['--health-timeout', 'soon'], /invalid argument "soon" for "--health-timeout" flag/],
    [['--health-retries', '-2'], /--health-retries cannot be negative/],
    [['--health-cmd', 'true', '--health-interval', '10us'], /Interval in Healthcheck cannot be less than 1ms/],
  ];
  for (const [flags, re] of cases) {
    const r = await sbx(d.root, ['create', ...flags, 'busybox', 'true']);
    assert.is(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  assert.is(await ok(d, ['ps', '-aq']), before);
}));

s.run();
