/**
 * Debian's docker CLI against sbxd: `docker events --since/--until/--filter` shows a
 * `docker run --rm` lifecycle as docker prints it, and `docker logs -t --since/--until` cuts a
 * container's log by time with docker's timestamps.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { docker } from './_helpers/docker-cli.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { d: TestDaemon; sock: string }
const test = suite<Ctx>('docker events and logs -t', {} as Ctx);
test.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  ctx.sock = ctx.d.daemon.services.config.socket;
});
test.after(async (ctx) => { await ctx.d?.close(); });

test('docker events --since shows a docker run --rm lifecycle in order; filters and --format apply', privileged<Ctx>(async ({ sock }) => {
  const since = new Date().toISOString();
  const run = await docker(sock, ['run', '--rm', '--name', 'dk', 'busybox', 'sh', '-c', 'exit 2']);
  assert.is(run.code, 2, run.stderr);
  // docker's run --rm returns once the container exited; its removal may follow a moment later
  const { ev, until } = await eventually('the destroy event', async () => {
    const at = new Date().toISOString();
    const r = await docker(sock, ['events', '--since', since, '--until', at]);
    assert.is(r.code, 0, r.stderr);
    return r.stdout.includes(' container destroy ') ? { ev: r, until: at } : undefined;
  }, 30_000);
  const lines = ev.stdout.split('\n').filter(Boolean);
  const actions = lines.map((l) => / container (\S+) [0-9a-f]{64} /.exec(l)?.[1]).filter((a) => a && ['create', 'attach', 'start', 'die', 'destroy'].includes(a));
  assert.equal(actions, ['create', 'attach', 'start', 'die', 'destroy'], ev.stdout);
  assert.match(lines.find((l) => l.includes(' container die '))!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container die [0-9a-f]{64} \(exitCode=2, image=busybox, name=dk\)$/);
  const f = await docker(sock, ['events', '--since', since, '--until', until, '--filter', 'event=die', '--format', '{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}']);
  assert.is(f.code, 0, f.stderr);
  assert.is(f.stdout, 'dk 2\n');
  const none = await docker(sock, ['events', '--since', since, '--until', until, '--filter', 'container=nosuch']);
  assert.is(none.stdout, '');
  const bad = await docker(sock, ['events', '--until', until, '--filter', 'colour=red']);
  assert.not.equal(bad.code, 0);
  assert.match(bad.stderr, /invalid filter 'colour'/);
}));

test('docker logs -t --since/--until: stamped lines, cut by time', privileged<Ctx>(async (ctx) => {
  const { sock } = ctx;
  const up = await docker(sock, ['run', '-d', '--name', 'lg', 'busybox', 'sh', '-c', 'echo one; while [ ! -e /go ]; do usleep 20000; done; echo two; sleep 600']);
  assert.is(up.code, 0, up.stderr);
  const first = await eventually('"one"', async () => { const r = await docker(sock, ['logs', '-t', 'lg']); return r.stdout.includes(' one\n') ? r.stdout : undefined; }, 30_000);
  assert.match(first, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one\n$/);
  const t1 = first.slice(0, 30);
  const exec = await sbx(ctx.d.root, ['exec', 'lg', 'touch', '/go']); // docker exec is not this file's subject
  assert.is(exec.code, 0, exec.stderr);
  const both = await eventually('"two"', async () => { const r = await docker(sock, ['logs', '-t', 'lg']); return r.stdout.includes(' two\n') ? r.stdout : undefined; }, 30_000);
  const t2 = both.split('\n')[1]!.slice(0, 30);
  assert.is((await docker(sock, ['logs', '--since', t2, 'lg'])).stdout, 'two\n');
  assert.is((await docker(sock, ['logs', '--until', t1, 'lg'])).stdout, 'one\n');
  assert.is((await docker(sock, ['logs', '-t', '--since', '10m', 'lg'])).stdout, both);
  assert.is((await docker(sock, ['rm', '-f', 'lg'])).code, 0);
}));

test.run();
