/**
 * --restart as docker has it: bad policies refused (exit 125, nothing created), on-failure:N
 * stops after N restarts with docker's backoff between them, always comes back until the user
 * stops or kills it, a start by the user resets RestartCount, and after an sbxd restart the
 * `always` and (not stopped) `unless-stopped` containers run again while the others stay down.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Containers, type ContainerInspect } from '../protocol/index.js';
import { startDaemon } from '../daemon/daemon.js';
import { loadConfig } from '../daemon/config.js';
import { silentLogger } from '../daemon/util/log.js';
import { Client } from '../cli/client.js';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';
import { join } from 'node:path';

const s = suite<{ d: TestDaemon }>('restart policies', {} as { d: TestDaemon });
s.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
s.after(async (ctx) => {
  if (!ctx.d) return;
  const ids = (await sbx(ctx.d.root, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await sbx(ctx.d.root, ['rm', '-f', ...ids]);
  await ctx.d.close();
});

const inspect = (c: Client, id: string): Promise<ContainerInspect> => c.call(Containers.inspect, { id });
const run = async (d: TestDaemon, args: string[]): Promise<string> => {
  const r = await sbx(d.root, ['run', '-d', ...args]);
  assert.is(r.code, 0, r.stderr);
  return r.stdout.trim();
};

s('an unknown policy, a count where none belongs and --rm with a policy: exit 125, nothing created', privileged(async ({ d }) => {
  const before = (await sbx(d.root, ['ps', '-aq'])).stdout;
  const cases: [string[], RegExp][] = [
    [['run', '--restart', 'sometimes', 'busybox', 'true'], /invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'/],
    [['create', '--restart', 'always:3', 'busybox', 'true'], /maximum retry count can only be used with 'on-failure'/],
    [['run', '--restart', 'on-failure:x', 'busybox', 'true'], /maximum retry count must be an integer/],
    [['run', '--rm', '--restart', 'always', 'busybox', 'true'], /Conflicting options: --restart and --rm/],
  ];
  for (const [args, re] of cases) {
    const r = await sbx(d.root, args);
    assert.is(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  assert.is((await sbx(d.root, ['ps', '-aq'])).stdout, before, 'a refused --restart left a container');
  // the API refuses it too (a client that skips the CLI's check)
  const e = await d.client.call(Containers.create, { image: 'busybox', cmd: ['true'], restartPolicy: { Name: 'never' } }).catch((x: Error) => x);
  assert.match(String(e), /unknown policy 'never'/);
}));

s('on-failure:2 restarts a failing container twice, with a growing delay, then leaves it exited', privileged(async ({ d }) => {
  const t0 = Date.now();
  const id = await run(d, ['--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3']);
  const done = await eventually('two restarts and a final exit', async () => {
    const i = await inspect(d.client, id);
    return i.RestartCount === 2 && i.State.Status === 'exited' && i;
  });
  // 100 ms before the first restart, 200 ms before the second (docker's backoff)
  assert.ok(Date.now() - t0 >= 300, `restarted without backoff (${Date.now() - t0} ms)`);
  assert.is(done.State.ExitCode, 3);
  assert.is(done.State.Restarting, false);
  assert.equal(done.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  // an exit with 0 is not a failure: no restart at all
  const ok = await run(d, ['--restart', 'on-failure', 'busybox', 'true']);
  const w = await sbx(d.root, ['wait', ok]);
  assert.is(w.stdout, '0\n');
  const i = await inspect(d.client, ok);
  assert.is(i.RestartCount, 0);
  assert.is(i.State.Restarting, false);
  // a container made without --restart shows docker's default policy
  const plain = await run(d, ['busybox', 'true']);
  assert.equal((await inspect(d.client, plain)).HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
}));

s('always brings it back until the user stops or kills it; start resets RestartCount', privileged(async ({ d }) => {
  const id = await run(d, ['--name', 'phoenix', '--restart', 'always', 'busybox', 'sh', '-c', 'echo up']);
  await eventually('three restarts', async () => (await inspect(d.client, id)).RestartCount >= 3);
  const st = await sbx(d.root, ['stop', 'phoenix']);
  assert.is(st.code, 0, st.stderr);
  // stopped by the user: exited and no restart pending, so none can come (a restart is only ever scheduled at an exit)
  const i = await inspect(d.client, id);
  assert.is(i.State.Status, 'exited');
  assert.is(i.State.Restarting, false);
  assert.match((await sbx(d.root, ['ps', '-a'])).stdout.split('\n').find((l) => l.includes('phoenix'))!, /Exited \(0\)/);

  const long = await run(d, ['--restart', 'unless-stopped', 'busybox', 'sleep', '1000']);
  const k = await sbx(d.root, ['kill', long]);
  assert.is(k.code, 0, k.stderr);
  const killed = await eventually('the kill to be recorded', async () => { const x = await inspect(d.client, long); return x.State.Status === 'exited' && x; });
  assert.is(killed.State.ExitCode, 137);
  assert.is(killed.State.Restarting, false);
  assert.is(killed.RestartCount, 0);

  const again = await sbx(d.root, ['start', 'phoenix']);
  assert.is(again.code, 0, again.stderr);
  // the count starts again from 0 at the user's start, and the policy is back at work
  const after = await inspect(d.client, id);
  assert.ok(after.RestartCount <= 1, `RestartCount ${after.RestartCount} after a user start`);
  await eventually('restarts after the user start', async () => (await inspect(d.client, id)).RestartCount >= 1);
  assert.is((await sbx(d.root, ['rm', '-f', 'phoenix'])).code, 0);
}));

s('after an sbxd restart: always and unless-stopped come back, a stopped unless-stopped, "no" and a spent on-failure:N do not', privileged(async ({ d: shared }) => {
  assert.ok(shared);
  const d = await startBusyboxDaemon();
  const mk = (name: string, policy: string): Promise<string> => run(d, ['--name', name, '--restart', policy, 'busybox', 'sleep', '1000']);
  await mk('aa', 'always');
  await mk('uu', 'unless-stopped');
  await mk('us', 'unless-stopped');
  await mk('nn', 'no');
  assert.is((await sbx(d.root, ['stop', '-t', '0', 'us'])).code, 0);
  const spent = await run(d, ['--name', 'of', '--restart', 'on-failure:1', 'busybox', 'sh', '-c', 'echo ran; exit 3']);
  // its second run has logged, then exited for good
  await eventually('its one restart used', async () => {
    const i = await inspect(d.client, spent);
    return (await sbx(d.root, ['logs', 'of'])).stdout === 'ran\nran\n' && i.RestartCount === 1 && i.State.Status === 'exited' && !i.State.Restarting;
  });
  const finished = (await inspect(d.client, spent)).State.FinishedAt;
  await d.daemon.close();
  const config = loadConfig({}, { root: d.root, socket: join(d.root, 'sbx.sock') });
  const again = await startDaemon(config, silentLogger);
  const client = new Client({ socket: config.socket, root: d.root });
  try {
    const status = async (n: string): Promise<string> => (await inspect(client, n)).State.Status;
    assert.is(await status('aa'), 'running');
    assert.is(await status('uu'), 'running');
    assert.is(await status('us'), 'exited');
    assert.is(await status('nn'), 'exited');
    const of = await inspect(client, 'of');
    assert.equal([of.State.Status, of.RestartCount, of.State.FinishedAt], ['exited', 1, finished], 'on-failure:1 with its restart used is not started again');
    const ex = await sbx(d.root, ['exec', 'aa', 'echo', 'alive']);
    assert.is(ex.stdout, 'alive\n', ex.stderr);
  } finally {
    await again.close();
    await rmrf(d.root);
  }
}));

s.run();
