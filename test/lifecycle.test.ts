/**
 * The lifecycle verbs through the CLI, as a docker user types them: create then start -a,
 * pause/unpause (the process stops advancing and goes on), stop/kill of a paused container,
 * restart (a new start time, the same id and name), rename (ps shows the new name, the old one
 * is free), top, port, the container/image command groups, and errors for missing containers.
 */
import { createServer } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

const s = suite<{ d: TestDaemon }>('lifecycle: create, pause, restart, rename, top, port', {} as { d: TestDaemon });
s.before(async (ctx) => {
  ctx.d = await startTestDaemon();
  if (process.getuid?.() !== 0) return;
  const r = await sbx(ctx.d.root, ['import', '--busybox', 'busybox']);
  assert.is(r.code, 0, r.stderr);
});
s.after(async (ctx) => {
  const all = await sbx(ctx.d.root, ['ps', '-aq']);
  const ids = all.stdout.split('\n').filter(Boolean);
  if (ids.length) await sbx(ctx.d.root, ['rm', '-f', ...ids]);
  await ctx.d.close();
});

/** A counter printed to the log as fast as the container runs; stops on SIGTERM. */
const COUNTER = 'trap "exit 0" TERM; i=0; while :; do i=$((i+1)); echo $i; usleep 20000; done';

const inspect = async (d: TestDaemon, ref: string): Promise<any> => {
  const r = await sbx(d.root, ['inspect', ref]);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
};
const lastCount = async (d: TestDaemon, ref: string): Promise<number> => {
  const r = await sbx(d.root, ['logs', '--tail', '1', ref]);
  return Number(r.stdout.trim() || 0);
};
const psLine = async (d: TestDaemon, name: string): Promise<string | undefined> =>
  (await sbx(d.root, ['ps', '-a'])).stdout.split('\n').find((l) => l.trimEnd().endsWith(`   ${name}`));

s('run --rm returns once the container is gone (docker waits for the removal): 40 in a row, ps -a lists none of them', privileged(async ({ d }) => {
  const before = (await sbx(d.root, ['ps', '-aq'])).stdout;
  for (let i = 0; i < 40; i++) {
    assert.is((await sbx(d.root, ['run', '--rm', 'busybox', 'true'])).code, 0);
    assert.is((await sbx(d.root, ['ps', '-aq'])).stdout, before, `run ${i + 1} left its container behind`);
  }
}));

s('create prints the ID and leaves the container created; start -a runs it', privileged(async ({ d }) => {
  const c = await sbx(d.root, ['create', '--name', 'made', '-e', 'WHO=sbx', 'busybox', 'sh', '-c', 'echo hello $WHO']);
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
  assert.match((await psLine(d, 'made'))!, /\bCreated\b/);
  assert.not.ok((await sbx(d.root, ['ps'])).stdout.includes('made'));
  const st = await sbx(d.root, ['start', '-a', 'made']);
  assert.is(st.code, 0, st.stderr);
  assert.is(st.stdout, 'hello sbx\n');
  assert.is((await inspect(d, 'made')).Id, c.stdout.trim());
  const g = await sbx(d.root, ['container', 'create', 'busybox', 'true']);
  assert.is(g.code, 0, g.stderr);
  assert.match(g.stdout, /^[0-9a-f]{64}\n$/);
}));

s('pause freezes the processes (ps, inspect), unpause lets them go on', privileged(async ({ d }) => {
  for (const n of ['frozen', 'control']) assert.is((await sbx(d.root, ['run', '-d', '--name', n, 'busybox', 'sh', '-c', COUNTER])).code, 0);
  await eventually('the counter to run', async () => (await lastCount(d, 'frozen')) > 2);
  const p = await sbx(d.root, ['pause', 'frozen']);
  assert.is(p.code, 0, p.stderr);
  assert.is(p.stdout, 'frozen\n');
  assert.match((await psLine(d, 'frozen'))!, /Up .* \(Paused\)/);
  const i = await inspect(d, 'frozen');
  assert.is(i.State.Status, 'paused');
  assert.is(i.State.Paused, true);
  assert.is(i.State.Running, true);
  const held = await lastCount(d, 'frozen');
  // the unpaused twin advances well past what it had: time enough for the frozen one to move
  const from = await lastCount(d, 'control');
  await eventually('the control counter to advance', async () => (await lastCount(d, 'control')) >= from + 10);
  assert.is(await lastCount(d, 'frozen'), held, 'a paused container advanced');

  const again = await sbx(d.root, ['pause', 'frozen']);
  assert.is(again.code, 1);
  assert.match(again.stderr, /is already paused/);
  const ex = await sbx(d.root, ['exec', 'frozen', 'true']);
  assert.is.not(ex.code, 0);
  assert.match(ex.stderr, /paused/);

  const u = await sbx(d.root, ['unpause', 'frozen']);
  assert.is(u.code, 0, u.stderr);
  await eventually('the counter to go on', async () => (await lastCount(d, 'frozen')) > held + 2);
  assert.is((await inspect(d, 'frozen')).State.Paused, false);
  assert.match((await psLine(d, 'frozen'))!, /Up (?!.*Paused)/);
  const not = await sbx(d.root, ['unpause', 'frozen']);
  assert.is(not.code, 1);
  assert.match(not.stderr, /is not paused/);
}));

s('stop, kill and rm -f of a paused container end it, as docker', privileged(async ({ d }) => {
  for (const n of ['p-stop', 'p-kill', 'p-rm']) {
    assert.is((await sbx(d.root, ['run', '-d', '--name', n, 'busybox', 'sh', '-c', COUNTER])).code, 0);
    assert.is((await sbx(d.root, ['pause', n])).code, 0);
  }
  const st = await sbx(d.root, ['stop', 'p-stop']);
  assert.is(st.code, 0, st.stderr);
  const si = await inspect(d, 'p-stop');
  assert.is(si.State.Status, 'exited');
  assert.is(si.State.ExitCode, 0, 'the TERM trap ran once thawed');
  assert.is(si.State.Paused, false);
  const k = await sbx(d.root, ['kill', 'p-kill']);
  assert.is(k.code, 0, k.stderr);
  assert.is((await sbx(d.root, ['wait', 'p-kill'])).stdout, '137\n');
  assert.match((await psLine(d, 'p-kill'))!, /Exited \(137\)/);
  const rm = await sbx(d.root, ['rm', '-f', 'p-rm']);
  assert.is(rm.code, 0, rm.stderr);
  assert.not.ok(await psLine(d, 'p-rm'));
  const np = await sbx(d.root, ['pause', 'p-kill']);
  assert.is(np.code, 1);
  assert.match(np.stderr, /is not running/);
}));

s('restart gives a new start time and keeps the ID and name', privileged(async ({ d }) => {
  assert.is((await sbx(d.root, ['run', '-d', '--name', 'again', 'busybox', 'sh', '-c', COUNTER])).code, 0);
  const before = await inspect(d, 'again');
  const r = await sbx(d.root, ['restart', '-t', '5', 'again']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'again\n');
  const after = await inspect(d, 'again');
  assert.is(after.Id, before.Id);
  assert.is(after.Name, '/again');
  assert.is(after.State.Running, true);
  assert.ok(Date.parse(after.State.StartedAt) > Date.parse(before.State.StartedAt), `${after.State.StartedAt} after ${before.State.StartedAt}`);
  assert.is.not(after.State.Pid, before.State.Pid);
  // a stopped container just starts
  assert.is((await sbx(d.root, ['stop', 'again'])).code, 0);
  assert.is((await sbx(d.root, ['container', 'restart', 'again'])).code, 0);
  assert.is((await inspect(d, 'again')).State.Running, true);
  assert.match((await psLine(d, 'again'))!, /Up /);
}));

s('rename: ps shows the new name, the old name is free, a taken name is refused', privileged(async ({ d }) => {
  assert.is((await sbx(d.root, ['run', '-d', '--name', 'old', 'busybox', 'sleep', '60'])).code, 0);
  const id = (await inspect(d, 'old')).Id;
  const r = await sbx(d.root, ['rename', 'old', 'new']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '');
  assert.ok(await psLine(d, 'new'));
  assert.not.ok(await psLine(d, 'old'));
  assert.is((await inspect(d, 'new')).Id, id);
  const reuse = await sbx(d.root, ['create', '--name', 'old', 'busybox', 'true']);
  assert.is(reuse.code, 0, reuse.stderr);
  const taken = await sbx(d.root, ['rename', 'new', 'old']);
  assert.is(taken.code, 1);
  assert.match(taken.stderr, /The container name "\/old" is already in use by container/);
  assert.is((await inspect(d, 'new')).Id, id);
  const bad = await sbx(d.root, ['rename', 'new', 'no/slash']);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /invalid container name/);
}));

s('top lists the container\'s processes with ps options', privileged(async ({ d }) => {
  assert.is((await sbx(d.root, ['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'sleep 61 & exec sleep 60'])).code, 0);
  const t = await sbx(d.root, ['top', 'busy']);
  assert.is(t.code, 0, t.stderr);
  const [head, ...rows] = t.stdout.trimEnd().split('\n');
  assert.equal(head!.trim().split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.is(rows.length, 2, t.stdout);
  assert.ok(rows.some((l) => l.endsWith('sleep 60')), t.stdout);
  assert.ok(rows.some((l) => l.endsWith('sleep 61')), t.stdout);
  const o = await sbx(d.root, ['container', 'top', 'busy', '-o', 'pid,comm']);
  assert.is(o.code, 0, o.stderr);
  assert.equal(o.stdout.trimEnd().split('\n').map((l) => l.trim().split(/\s+/)[1]), ['COMMAND', 'sleep', 'sleep']);
  assert.is((await sbx(d.root, ['stop', '-t', '0', 'busy'])).code, 0);
  const stopped = await sbx(d.root, ['top', 'busy']);
  assert.is(stopped.code, 1);
  assert.match(stopped.stderr, /is not running/);
}));

s('port prints docker\'s lines', privileged(async ({ d }) => {
  const free = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => { const p = (srv.address() as { port: number }).port; srv.close(() => resolve(p)); });
  });
  assert.is((await sbx(d.root, ['run', '-d', '--name', 'pub', '-p', `127.0.0.1:${free}:80`, 'busybox', 'sleep', '60'])).code, 0);
  assert.is((await sbx(d.root, ['port', 'pub'])).stdout, `80/tcp -> 127.0.0.1:${free}\n`);
  assert.is((await sbx(d.root, ['container', 'port', 'pub', '80/tcp'])).stdout, `127.0.0.1:${free}\n`);
  const none = await sbx(d.root, ['port', 'pub', '81']);
  assert.is(none.code, 1);
  assert.is(none.stderr, "Error: No public port '81/tcp' published for pub\n");
}));

s('every new verb names a missing container (exit 1)', privileged(async ({ d }) => {
  for (const args of [['pause', 'ghost'], ['unpause', 'ghost'], ['restart', 'ghost'], ['rename', 'ghost', 'spirit'], ['top', 'ghost'], ['port', 'ghost']]) {
    const r = await sbx(d.root, args);
    assert.is(r.code, 1, args.join(' '));
    assert.match(r.stderr, /^Error: .*ghost.*no such container/i, args.join(' '));
    assert.is(r.stdout, '');
  }
  const usage = await sbx(d.root, ['rename', 'only-one']);
  assert.is(usage.code, 1);
  assert.match(usage.stderr, /requires exactly 2 arguments/);
}));

s('the container and image groups take docker\'s verbs and describe them', async ({ d }) => {
  const help = await sbx(d.root, ['container']);
  assert.is(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage:  sbx container COMMAND\n\nManage containers\n/);
  for (const line of ['  pause       Pause all processes within one or more containers', '  port        List port mappings or a specific mapping for the container',
    '  rename      Rename a container', '  restart     Restart one or more containers', '  top         Display the running processes of a container',
    '  unpause     Unpause all processes within one or more containers', '  create      Create a new container', '  logs        Fetch the logs of a container']) {
    assert.ok(help.stdout.includes(`${line}\n`), line);
  }
  const img = await sbx(d.root, ['image', '--help']);
  assert.match(img.stdout, /\n {2}ls {10}List images\n/);
  const ls = await sbx(d.root, ['container', 'ls', '-a']);
  assert.is(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^CONTAINER ID/);
  const bad = await sbx(d.root, ['container', 'frobnicate']);
  assert.is(bad.code, 1);
  assert.is(bad.stderr, "sbx: 'container frobnicate' is not a sbx command.\nSee 'sbx container --help'\n");
  const top = await sbx(d.root, ['--help']);
  assert.match(top.stdout, /Management Commands:\n {2}container {3}Manage containers\n {2}image {7}Manage images\n/);
});

s.run();
