import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { SBX_BIN, sbx } from './_helpers/cli.js';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

const basics = suite<{ d: TestDaemon }>('cli basics', {} as { d: TestDaemon });
basics.before.each(async (ctx) => { ctx.d = await startTestDaemon(); });
basics.after.each(async (ctx) => { await ctx.d.close(); });

basics('sbx version talks to the daemon', async ({ d }) => {
  const r = await sbx(d.root, ['version', '--format', 'json']);
  assert.is(r.code, 0, r.stderr);
  const v = JSON.parse(r.stdout);
  assert.is(v.Server.Root, d.root);
  assert.match(v.Client.Runtime, /^bun \d+\.\d+\.\d+$/, 'the sbx users get is the Bun-compiled binary');
  const text = await sbx(d.root, ['version']);
  assert.match(text.stdout, /^Client:\n Version:\t\S+\n Runtime:\tbun \S+\nServer:\n/);
});

basics('an unknown command is a usage error (exit 1)', async ({ d }) => {
  const r = await sbx(d.root, ['frobnicate']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /not a sbx command/);
});

basics('a flag error exits 125 as docker\'s, naming the flag; a wrong argument count stays 1', async ({ d }) => {
  const r = await sbx(d.root, ['version', '--bogus']);
  assert.is(r.code, 125);
  assert.match(r.stderr, /^Error: unknown flag: --bogus\n/);
  const short = await sbx(d.root, ['ps', '-z']);
  assert.is(short.code, 125);
  assert.match(short.stderr, /^Error: unknown shorthand flag: 'z' in -z\n/);
  const missing = await sbx(d.root, ['logs', 'x', '--tail']);
  assert.is(missing.code, 125);
  assert.match(missing.stderr, /^Error: flag needs an argument: --tail\n/);
  const bad = await sbx(d.root, ['stop', '-t', 'soon', 'x']);
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /^Error: invalid argument "soon" for "-t, --time" flag/);
  const arity = await sbx(d.root, ['rmi']);
  assert.is(arity.code, 1);
  assert.match(arity.stderr, /requires at least 1 argument/);
});

basics('--format runs Go templates as docker users write them; a bad one fails before anything is printed', async ({ d }) => {
  assert.is((await sbx(d.root, ['import', '--busybox', 'busybox'])).code, 0);
  assert.is((await sbx(d.root, ['create', '--name', 'web', 'busybox', 'true'])).code, 0);
  const expect: [string[], string][] = [
    [['images', '--format', '{{.Repository}}:{{.Tag}}'], 'busybox:latest\n'],
    [['inspect', '-f', '{{index .RepoTags 0}} {{len .RootFS.Layers}}', 'busybox'], 'busybox:latest 1\n'],
    [['inspect', '--format', '{{if .Id}}yes{{end}}', 'busybox'], 'yes\n'],
    [['ps', '-a', '--format', '{{.Names}} {{.State | upper}}'], 'web CREATED\n'],
    [['ps', '-a', '--format', 'table {{.Names}}\t{{.Image}}'], 'NAMES     IMAGE\nweb       busybox\n'],
    [['version', '--format', '{{.Server.Root}}'], `${d.root}\n`],
    [['history', '--format', '{{with .CreatedBy}}{{printf "%.6s" .}}{{end}}', 'busybox'], ''],
  ];
  for (const [args, out] of expect) {
    const r = await sbx(d.root, args);
    assert.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    if (out) assert.is(r.stdout, out, args.join(' '));
  }
  for (const [args, msg] of [
    [['images', '--format', '{{range .}}{{.}}'], 'unexpected EOF'],
    [['ps', '--format', '{{nosuch .Names}}'], 'function "nosuch" not defined'],
    [['inspect', '-f', '{{template "x"}}', 'busybox'], '{{template}} is not supported'],
  ] as const) {
    const r = await sbx(d.root, [...args]);
    assert.is.not(r.code, 0, `${args.join(' ')} succeeded`);
    assert.is(r.stdout, '', `${args.join(' ')} printed ${r.stdout}`);
    assert.match(r.stderr, `template parsing error: template: :1: ${msg}`);
  }
});

basics.run();

// ---

const nodaemon = suite<{ root: string }>('cli without a daemon', {} as { root: string });
nodaemon.before.each(async (ctx) => { ctx.root = await tmpdir('sbx-nodaemon-'); });
nodaemon.after.each(async (ctx) => { await rmrf(ctx.root); });

nodaemon('sbx and sbxd run under any name, as npm links them (/usr/bin/sbx → dist/cli/sbx, /usr/bin/sbxd → dist/daemon/main.js)', async ({ root }) => {
  const dist = join(dirname(SBX_BIN), '..');
  const pkg = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.is(join(dist, '..', pkg.bin.sbx!), SBX_BIN, 'npm links the compiled binary as sbx');
  symlinkSync(SBX_BIN, join(root, 'sbx'));
  symlinkSync(join(dist, 'daemon', 'main.js'), join(root, 'sbxd'));
  const v = spawnSync(join(root, 'sbx'), ['--version'], { encoding: 'utf8' });
  assert.is(v.status, 0, v.stderr);
  assert.match(v.stdout, /^sbx version /);
  const d = spawnSync(join(root, 'sbxd'), ['--bogus'], { encoding: 'utf8', env: { ...process.env, SBX_ROOT: root } });
  assert.is(d.status, 1, 'sbxd parsed its flags and refused the unknown one');
  assert.match(d.stderr, /Error: .*bogus/);
  const bad = spawnSync(join(root, 'sbxd'), [], { encoding: 'utf8', env: { ...process.env, SBX_ROOT: root, SBX_CGROUP_FAVORDYNMODS: 'yes' } });
  assert.is(bad.status, 1, 'a bad setting stops sbxd before it starts');
  assert.match(bad.stderr, /SBX_CGROUP_FAVORDYNMODS must be 0 or 1, got "yes"/);
  // `sbx daemon` runs sbxd on Node (the binary hands it over): its flag check answers through the link too
  const viaCli = spawnSync(join(root, 'sbx'), ['daemon', '--bogus'], { encoding: 'utf8', env: { ...process.env, SBX_ROOT: root } });
  assert.is(viaCli.status, 125, viaCli.stderr);
  assert.match(viaCli.stderr, /^Error: unknown flag: --bogus\n/);
});

nodaemon('sbx starts sbxd on Node when nothing answers (autostart), and the daemon outlives the command', async ({ root }) => {
  const env = { SBX_NO_AUTOSTART: '0', SBX_LOG_LEVEL: 'error' };
  try {
    const r = await sbx(root, ['version', '--format', '{{.Server.Node}} {{.Server.Pid}}'], { env });
    assert.is(r.code, 0, r.stderr);
    const [node, pid] = r.stdout.trim().split(' ');
    assert.is(node, process.version, 'sbxd runs on Node, not inside the CLI binary');
    assert.ok(existsSync(`/proc/${pid}`), 'sbxd keeps running after the CLI left');
  } finally {
    const pid = Number((await sbx(root, ['version', '--format', '{{.Server.Pid}}'])).stdout.trim());
    if (pid > 0) {
      process.kill(pid, 'SIGTERM');
      await eventually('sbxd to stop', () => !existsSync(`/proc/${pid}`), 20_000);
    }
  }
});

nodaemon('a second sbxd on the same root refuses to start and leaves the first one serving', async ({ root }) => {
  const main = join(dirname(SBX_BIN), '..', 'daemon', 'main.js');
  const env = { ...process.env, SBX_ROOT: root, SBX_LOG_LEVEL: 'error' };
  const first = spawn(process.execPath, [main], { env, stdio: 'ignore' });
  try {
    let up = false;
    for (let i = 0; i < 200 && !up; i++) {
      up = (await sbx(root, ['version'])).code === 0;
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(up, 'the first sbxd answers');
    const second = spawnSync(process.execPath, [main], { env, encoding: 'utf8', timeout: 20000 });
    assert.is(second.status, 1);
    assert.match(second.stderr, new RegExp(`another sbxd \\(pid ${first.pid}\\) is already running`));
    assert.is((await sbx(root, ['version'])).code, 0, 'the first sbxd still owns the socket');
  } finally {
    first.kill('SIGTERM');
    await new Promise((r) => first.once('exit', r));
  }
  assert.not.ok(existsSync(join(root, 'sbxd.pid')), 'the pid file goes with its daemon');
});

nodaemon('sbx daemon killed with SIGKILL: the sbxd it started on Node stops too, and a new one can start', async ({ root }) => {
  const env = { ...process.env, SBX_ROOT: root, SBX_LOG_LEVEL: 'error' };
  const cli = spawn(SBX_BIN, ['daemon'], { env, stdio: 'ignore' });
  let node = 0;
  try {
    await eventually('sbxd to answer', async () => (await sbx(root, ['version'])).code === 0, 30_000);
    node = Number((await sbx(root, ['version', '--format', '{{.Server.Pid}}'])).stdout.trim());
    assert.ok(node > 0 && node !== cli.pid, 'sbxd runs in a Node child of the binary');
    cli.kill('SIGKILL');
    await eventually('the orphaned sbxd to stop', () => !existsSync(`/proc/${node}`), 20_000);
    const again = spawn(SBX_BIN, ['daemon'], { env, stdio: 'ignore' });
    try {
      await eventually('a new sbxd to answer on the same root', async () => (await sbx(root, ['version'])).code === 0, 30_000);
    } finally {
      again.kill('SIGTERM');
      await new Promise((r) => again.once('exit', r));
    }
  } finally {
    if (node > 0 && existsSync(`/proc/${node}`)) process.kill(node, 'SIGKILL');
  }
});

nodaemon('no daemon: exit 125 with a hint', async ({ root }) => {
  const r = await sbx(root, ['version']);
  assert.is(r.code, 125);
  assert.match(r.stderr, /^Error: connect to sbxd at .*no daemon is listening/);
});

nodaemon.run();
