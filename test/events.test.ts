/**
 * `sbx events`: docker's daemon event stream through the CLI. A `run --rm` shows create, attach, start,
 * die and destroy in order in docker's default line format; --since replays what happened
 * before the command ran, --until ends it; --filter (container, event, type, label, image,
 * volume, network) keeps what docker's keeps; --format json and Go templates; image, volume and
 * network events; and `sbx events CONTAINER` is still that container's change journal.
 */
import { spawn } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SBX_BIN, sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { d: TestDaemon; start: string }
const s = suite<Ctx>('events: the daemon event stream', {} as Ctx);
s.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.start = new Date().toISOString();
  ctx.d = await startBusyboxDaemon();
});
s.after(async (ctx) => { await ctx.d?.close(); });

const ok = async (d: TestDaemon, args: string[]): Promise<string> => {
  const r = await sbx(d.root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
/** Everything from the suite's start until now, with the given flags. */
const past = async (ctx: Ctx, ...flags: string[]): Promise<string[]> =>
  (await ok(ctx.d, ['events', '--since', ctx.start, '--until', new Date().toISOString(), ...flags])).split('\n').filter(Boolean);
const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (\w+) (\S+(?:: .*?)?) (\S+)(?: \((.*)\))?$/;

s('a run --rm, live: create, attach, start, die (exit code), destroy in order, docker\'s line format', privileged<Ctx>(async (ctx) => {
  const { d } = ctx;
  // --since now: the command sees everything from here whenever its subscription lands
  const follower = spawn(SBX_BIN, ['events', '--since', new Date().toISOString(), '--filter', 'container=live1'],
    { env: { ...process.env, SBX_ROOT: d.root, SBX_NO_AUTOSTART: '1' } });
  let out = '';
  follower.stdout.on('data', (b: Buffer) => { out += b; });
  const closed = new Promise((r) => follower.on('close', r));
  const run = await sbx(d.root, ['run', '--rm', '--name', 'live1', '--label', 'team=blue', 'busybox', 'sh', '-c', 'exit 3']);
  assert.is(run.code, 3, run.stderr);
  await eventually('the destroy event', () => out.includes(' container destroy '), 30_000);
  follower.kill('SIGTERM');
  await closed;
  const lines = out.split('\n').filter(Boolean);
  const parsed = lines.map((l) => { const m = LINE.exec(l); assert.ok(m, `docker's line format: ${l}`); return m!; });
  assert.equal(parsed.map((m) => m[2]).filter((a) => ['create', 'attach', 'start', 'die', 'destroy'].includes(a!)), ['create', 'attach', 'start', 'die', 'destroy'], lines.join('\n'));
  assert.ok(parsed.every((m) => m[1] === 'container' && /^[0-9a-f]{64}$/.test(m[3]!)), 'container events with the full id');
  assert.is(new Set(parsed.map((m) => m[3])).size, 1, 'one container');
  const create = lines.find((l) => l.includes(' container create '))!;
  assert.match(create, / \(image=busybox, name=live1, team=blue\)$/, 'attributes sorted: image, name, the labels');
  assert.match(lines.find((l) => l.includes(' container die '))!, /\(exitCode=3, image=busybox, name=live1, team=blue\)$/);
  const times = lines.map((l) => l.slice(0, 30));
  assert.equal([...times].sort(), times, 'in time order');
}));

s('--since replays, --until ends; filters keep what docker\'s keep', privileged<Ctx>(async (ctx) => {
  const { d } = ctx;
  await ok(d, ['run', '--rm', '--name', 'other', 'busybox', 'true']);
  // run --rm returns at the exit; the removal follows a moment later
  const all = await eventually('the destroy of other', async () => { const a = await past(ctx); return a.some((l) => / container destroy .*name=other/.test(l)) ? a : undefined; }, 30_000);
  assert.ok(all.some((l) => / container destroy .*name=live1/.test(l)), 'replayed from the ring');

  const onlyOther = await past(ctx, '--filter', 'container=other');
  assert.ok(onlyOther.length >= 4 && onlyOther.every((l) => /name=other[,)]/.test(l)), onlyOther.join('\n'));
  const dies = await past(ctx, '-f', 'event=die');
  assert.equal(dies.map((l) => LINE.exec(l)![2]), ['die', 'die']);
  const both = await past(ctx, '-f', 'event=die', '-f', 'event=destroy', '-f', 'container=live1');
  assert.equal(both.map((l) => LINE.exec(l)![2]), ['die', 'destroy'], 'values of one key are alternatives, keys all apply');
  const blue = await past(ctx, '--filter', 'label=team=blue');
  assert.ok(blue.length >= 4 && blue.every((l) => l.includes('name=live1')), blue.join('\n'));
  assert.equal(await past(ctx, '--filter', 'label=team=red'), []);
  assert.ok((await past(ctx, '--filter', 'image=busybox')).length >= 8, 'image= matches a container event\'s image');
  assert.equal(await past(ctx, '--filter', 'type=image'), [], 'no image events yet');

  const tpl = await past(ctx, '--filter', 'container=other', '--format', '{{.Type}}/{{.Action}}/{{.Actor.Attributes.name}}/{{.Status}}');
  assert.equal(tpl.filter((l) => !l.includes('attach')), ['container/create/other/create', 'container/start/other/start', 'container/die/other/die', 'container/destroy/other/destroy']);
  const json = (await past(ctx, '--filter', 'container=other', '--filter', 'event=start', '--format', 'json')).map((l) => JSON.parse(l));
  assert.is(json.length, 1);
  assert.is(json[0].Type, 'container');
  assert.is(json[0].Action, 'start');
  assert.is(json[0].Actor.Attributes.name, 'other');
  assert.is(json[0].scope, 'local');
  assert.ok(Math.abs(json[0].timeNano / 1e6 - Date.now()) < 600_000 && json[0].time === Math.floor(json[0].timeNano / 1e9), 'time and timeNano');

  assert.equal(await ok(d, ['events', '--until', '10m']), '', 'an until in the past: nothing, at once');
  const bad = await sbx(d.root, ['events', '--filter', 'colour=red']);
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /invalid filter 'colour'/);
  const badTime = await sbx(d.root, ['events', '--since', 'soon']);
  assert.is(badTime.code, 125);
  assert.match(badTime.stderr, /invalid argument "soon" for "--since" flag/);
}));

s('image, volume and network events; lifecycle verbs', privileged<Ctx>(async (ctx) => {
  const { d } = ctx;
  const mark = new Date().toISOString();
  await ok(d, ['tag', 'busybox', 'mybox:v1']);
  await ok(d, ['rmi', 'mybox:v1']);
  await ok(d, ['volume', 'create', 'vol1']);
  await ok(d, ['network', 'create', 'net1']);
  await ok(d, ['run', '-d', '--name', 'lc', '-v', 'vol1:/data', 'busybox', 'sleep', '600']);
  await ok(d, ['pause', 'lc']);
  await ok(d, ['unpause', 'lc']);
  await ok(d, ['rename', 'lc', 'lc2']);
  await ok(d, ['exec', 'lc2', 'true']);
  await ok(d, ['kill', 'lc2']);
  await ok(d, ['rm', 'lc2']);
  await ok(d, ['volume', 'rm', 'vol1']);
  await ok(d, ['network', 'rm', 'net1']);
  const lines = (await ok(d, ['events', '--since', mark, '--until', new Date().toISOString(), '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'])).split('\n').filter(Boolean);
  const want = [
    'image tag mybox:v1', 'image untag', 'volume create', 'network create net1', 'container create lc', 'volume mount',
    'container start lc', 'container pause lc', 'container unpause lc', 'container rename lc2', 'container exec_create: true lc2',
    'container exec_start: true lc2', 'container kill lc2', 'container die lc2', 'container destroy lc2', 'volume destroy', 'network destroy net1',
  ];
  let at = 0;
  for (const l of lines) if (at < want.length && l.startsWith(want[at]!)) at++;
  assert.is(at, want.length, `in order, missing "${want[at]}":\n${lines.join('\n')}`);
  const vol = await ok(d, ['events', '--since', mark, '--until', new Date().toISOString(), '--filter', 'volume=vol1']);
  assert.equal(vol.split('\n').filter(Boolean).map((l) => LINE.exec(l)![2]), ['create', 'mount', 'destroy']);
  const execs = await ok(d, ['events', '--since', mark, '--until', new Date().toISOString(), '--filter', 'event=exec_start', '--format', '{{.Action}}']);
  assert.is(execs, 'exec_start: true\n', 'event=exec_start matches the action before its command, as docker\'s');
}));

s('sbx changes / watch / events CONTAINER (and -f CONTAINER) show the change journal', privileged<Ctx>(async (ctx) => {
  const { d } = ctx;
  await ok(d, ['run', '--name', 'jrnl', 'busybox', 'sh', '-c', 'echo x > /made']);
  assert.match(await ok(d, ['events', 'jrnl']), /\tA\t\/made\n/);
  assert.match(await ok(d, ['watch', 'jrnl']), /\tA\t\/made\n/);
  assert.match(await ok(d, ['changes', 'jrnl']), /\tA\t\/made\n/);
  const follow = spawn(SBX_BIN, ['events', '-f', 'jrnl'], { env: { ...process.env, SBX_ROOT: d.root, SBX_NO_AUTOSTART: '1' } });
  let out = '';
  follow.stdout.on('data', (b: Buffer) => { out += b; });
  const closed = new Promise((r) => follow.on('close', r));
  await eventually('the journal through -f', () => /\tA\t\/made\n/.test(out), 30_000);
  follow.kill('SIGINT');
  await closed;
  await ok(d, ['rm', 'jrnl']);
}));

s.run();
