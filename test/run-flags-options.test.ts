/**
 * run/create flags of the "run options" group, through the CLI: --env-file, --label/--label-file
 * (inspect Config.Labels, over the image's), --cidfile, --stop-signal/--stop-timeout (used by
 * stop, shown by inspect). Bad input: a clear error, exit 125, nothing created.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { d: TestDaemon; dir: string }
const s = suite<Ctx>('run flags: env-file, labels, cidfile, stop options', {} as Ctx);
s.before(async (ctx) => {
  if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon();
  ctx.dir = await tmpdir('sbx-runopts-');
});
s.after(async (ctx) => { await ctx.d?.close(); await rmrf(ctx.dir); });

async function ok(root: string, args: string[]): Promise<string> {
  const r = await sbx(root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function inspect(root: string, ref: string): Promise<{ Config: Record<string, unknown> }> {
  return (JSON.parse(await ok(root, ['inspect', ref])) as { Config: Record<string, unknown> }[])[0]!;
}

/** `args` fails with exit 125 and `msg` on stderr, and leaves the container list as it was. */
async function refused(root: string, args: string[], msg: RegExp): Promise<void> {
  const before = await ok(root, ['ps', '-a', '-q', '--no-trunc']);
  const r = await sbx(root, args);
  assert.is(r.code, 125, `sbx ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, msg);
  assert.is(await ok(root, ['ps', '-a', '-q', '--no-trunc']), before, 'nothing was created');
}

s('--env-file: docker\'s file format, the files before -e (which wins); a missing or bad file is exit 125', privileged<Ctx>(async ({ d, dir }) => {
  const f = join(dir, 'app.env');
  await writeFile(f, '\uFEFF# a comment\n\nGREETING=hello world  \n  INDENTED=yes\nFROM_HOST\nNOT_SET_ANYWHERE\nEMPTY=\nOVERRIDDEN=file\r\n');
  const f2 = join(dir, 'more.env');
  await writeFile(f2, 'SECOND=2\n');
  const r = await sbx(d.root, ['run', '--rm', '--env-file', f, '--env-file', f2, '-e', 'OVERRIDDEN=flag', 'busybox', 'env'], { env: { FROM_HOST: 'from the caller' } });
  assert.is(r.code, 0, r.stderr);
  const env = r.stdout.split('\n');
  for (const want of ['GREETING=hello world  ', 'INDENTED=yes', 'FROM_HOST=from the caller', 'EMPTY=', 'OVERRIDDEN=flag', 'SECOND=2']) {
    assert.ok(env.includes(want), `${want} in ${JSON.stringify(env)}`);
  }
  assert.not.ok(env.some((l) => l.startsWith('NOT_SET_ANYWHERE')), 'a bare name the caller does not have is left out');
  assert.not.ok(env.some((l) => l.startsWith('#') || l.includes('comment')));

  await refused(d.root, ['run', '--env-file', join(dir, 'missing.env'), 'busybox', 'true'], /open .*missing\.env: no such file or directory/);
  const badFile = join(dir, 'bad.env');
  await writeFile(badFile, 'GOOD=1\nBAD KEY=2\n');
  await refused(d.root, ['create', '--env-file', badFile, 'busybox', 'true'], /variable 'BAD KEY' contains whitespaces/);
}));

s('--label/-l/--label-file: inspect Config.Labels over the image\'s labels; a missing label file is exit 125, nothing created', privileged<Ctx>(async ({ d, dir }) => {
  // an image with labels of its own
  await ok(d.root, ['create', '--name', 'base', 'busybox', 'true']);
  await ok(d.root, ['commit', '-c', 'LABEL from.image=yes shared=image', 'base', 'labelled:1']);
  await ok(d.root, ['rm', 'base']);

  const lf = join(dir, 'labels');
  await writeFile(lf, '# team labels\ncom.example.team=infra\nshared=file\nBARE_IN_FILE\n');
  await ok(d.root, ['create', '--name', 'lab', '--label-file', lf, '--label', 'com.example.tier=web', '-l', 'flag-only', '-l', 'shared=flag', 'labelled:1', 'true']);
  const i = await inspect(d.root, 'lab');
  assert.equal(i.Config.Labels, {
    'from.image': 'yes', 'com.example.team': 'infra', 'com.example.tier': 'web', 'flag-only': '', shared: 'flag',
  }, 'flags win over the file, both over the image; a bare -l KEY is ""; a bare key in a file is dropped (docker\'s)');
  assert.equal((await inspect(d.root, (await ok(d.root, ['create', 'busybox', 'true'])).trim())).Config.Labels, {}, 'no labels: {}');

  await refused(d.root, ['run', '--label-file', join(dir, 'nope.labels'), 'busybox', 'true'], /open .*nope\.labels: no such file or directory/);
  await refused(d.root, ['create', '-l', '=value', 'busybox', 'true'], /invalid argument "=value" for "-l, --label" flag: invalid label '=value': empty name/);
  // an API caller gets the same refusal from the daemon
  const api = await d.client.call({ ...(await import('../protocol/index.js')).Containers.create }, { image: 'busybox', labels: ['=x'] }).then(() => 'created', (e: Error) => e.message);
  assert.match(api, /invalid label "=x": empty name/);
}));

s('--cidfile: the ID is written; an existing file is refused before anything is created; a failed create leaves no file', privileged<Ctx>(async ({ d, dir }) => {
  const cid = join(dir, 'c.cid');
  const id = (await ok(d.root, ['run', '-d', '--cidfile', cid, 'busybox', 'sleep', '30'])).trim();
  assert.is(readFileSync(cid, 'utf8'), id, 'the file holds the full ID, no newline');
  await refused(d.root, ['run', '-d', '--cidfile', cid, 'busybox', 'sleep', '30'],
    new RegExp(`Container ID file found, make sure the other container isn't running or delete ${cid.replace(/[.]/g, '\\.')}`));
  assert.is(readFileSync(cid, 'utf8'), id, 'the existing file is left as it was');
  await ok(d.root, ['rm', '-f', id]);

  const made = join(dir, 'create.cid');
  const cid2 = (await ok(d.root, ['create', '--cidfile', made, 'busybox', 'true'])).trim();
  assert.is(readFileSync(made, 'utf8'), cid2, 'create writes it too');
  const failed = join(dir, 'failed.cid');
  const r = await sbx(d.root, ['run', '--pull', 'never', '--cidfile', failed, 'no-such-image:1', 'true']);
  assert.is(r.code, 125);
  assert.not.ok(existsSync(failed), 'no ID file when no container was made');
}));

s('--stop-signal/--stop-timeout: stop sends that signal and waits that long; inspect shows both; bad values are exit 125', privileged<Ctx>(async ({ d }) => {
  await ok(d.root, ['run', '-d', '--name', 'usr1', '--stop-signal', 'USR1', 'busybox', 'sh', '-c', 'trap "echo got USR1; exit 3" USR1; while :; do sleep 0.1; done']);
  const i = await inspect(d.root, 'usr1');
  assert.is(i.Config.StopSignal, 'SIGUSR1');
  assert.is(i.Config.StopTimeout, undefined, 'not set: absent, as docker shows it');
  await ok(d.root, ['stop', 'usr1']);
  assert.is((await ok(d.root, ['wait', 'usr1'])).trim(), '3', 'the trap for the stop signal ran');
  assert.match(await ok(d.root, ['logs', 'usr1']), /got USR1/);

  // PID 1 without a handler ignores SIGTERM: only the SIGKILL after the stop timeout ends it
  await ok(d.root, ['run', '-d', '--name', 'stubborn', '--stop-timeout', '1', 'busybox', 'sh', '-c', 'while :; do sleep 0.1; done']);
  assert.is((await inspect(d.root, 'stubborn')).Config.StopTimeout, 1);
  const t0 = Date.now();
  await ok(d.root, ['stop', 'stubborn']);
  const took = Date.now() - t0;
  assert.ok(took >= 900 && took < 6000, `stop took ${took} ms: the container's 1 s, not the default 10 s`);
  assert.is((await ok(d.root, ['wait', 'stubborn'])).trim(), '137');

  await refused(d.root, ['run', '--stop-signal', 'SIGNOPE', 'busybox', 'true'], /invalid stopSignal "SIGNOPE"/);
  await refused(d.root, ['create', '--stop-timeout', 'soon', 'busybox', 'true'], /invalid argument "soon" for "--stop-timeout" flag/);
}));

s('--read-only: writes to the root fail with EROFS; /dev/shm, --tmpfs, volumes and /etc/hosts stay writable; --shm-size sizes /dev/shm', privileged<Ctx>(async ({ d }) => {
  const script = [
    'touch /in-root 2>&1; echo "root=$?"',
    'echo x > /dev/shm/a && echo x > /run/a && echo x > /data/a && echo "127.0.0.9 extra" >> /etc/hosts && echo others=ok',
  ].join('; ');
  const r = await sbx(d.root, ['run', '--name', 'ro', '--read-only', '--tmpfs', '/run', '-v', 'rodata:/data', 'busybox', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Read-only file system/);
  assert.match(r.stdout, /root=1\n/);
  assert.match(r.stdout, /others=ok\n/);
  const host = JSON.parse(await ok(d.root, ['inspect', 'ro']))[0].HostConfig as Record<string, unknown>;
  assert.is(host.ReadonlyRootfs, true);
  assert.is(host.ShmSize, 67108864, 'the default /dev/shm, as docker shows it');
  assert.not.match(await ok(d.root, ['diff', 'ro']), /in-root/, 'the refused write never reached the container layer (only the mount points show, as docker\'s)');
  await ok(d.root, ['rm', 'ro']);
  await ok(d.root, ['volume', 'rm', 'rodata']);

  const w = await sbx(d.root, ['run', '--rm', 'busybox', 'sh', '-c', 'touch /in-root && echo writable']);
  assert.is(w.stdout, 'writable\n', 'without --read-only the root is writable');

  const shm = await sbx(d.root, ['run', '--rm', '--shm-size', '8m', 'busybox', 'df', '-k', '/dev/shm']);
  assert.is(shm.code, 0, shm.stderr);
  assert.match(shm.stdout, /\n\S+\s+8192\s/, `a 8 MiB /dev/shm: ${shm.stdout}`);
  const dflt = await sbx(d.root, ['run', '--rm', 'busybox', 'df', '-k', '/dev/shm']);
  assert.match(dflt.stdout, /\n\S+\s+65536\s/, 'default 64 MiB');
  await refused(d.root, ['run', '--shm-size', 'lots', 'busybox', 'true'], /invalid argument "lots" for "--shm-size" flag/);
  await refused(d.root, ['run', '--shm-size', '0', 'busybox', 'true'], /invalid shmSize 0/);
}));

s('--group-add: supplementary groups of the process and of exec (GIDs and names from the image\'s /etc/group); --platform: the host\'s only', privileged<Ctx>(async ({ d }) => {
  const groupOf = (out: string): string => /^Groups:\s*(.*)$/m.exec(out)?.[1]?.trim() ?? '';
  // an image with a named group
  await ok(d.root, ['run', '--name', 'mk', 'busybox', 'sh', '-c', 'mkdir -p /etc && echo "staff:x:50:" >> /etc/group']);
  await ok(d.root, ['commit', 'mk', 'grouped:1']);
  await ok(d.root, ['rm', 'mk']);
  const r = await sbx(d.root, ['run', '-d', '--name', 'grp', '--group-add', '1234', '--group-add', 'staff', 'grouped:1', 'sh', '-c', 'grep ^Groups: /proc/self/status; sleep 30']);
  assert.is(r.code, 0, r.stderr);
  const logs = await eventually('the Groups line', async () => { const l = await ok(d.root, ['logs', 'grp']); return l.includes('\n') ? l : undefined; });
  assert.equal(groupOf(logs).split(/\s+/).sort(), ['1234', '50']);
  assert.equal(groupOf(await ok(d.root, ['exec', 'grp', 'grep', '^Groups:', '/proc/self/status'])).split(/\s+/).sort(), ['1234', '50'], 'exec gets them too');
  assert.equal(JSON.parse(await ok(d.root, ['inspect', 'grp']))[0].HostConfig.GroupAdd, ['1234', 'staff']);
  await ok(d.root, ['rm', '-f', 'grp']);
  assert.is(groupOf((await sbx(d.root, ['run', '--rm', 'busybox', 'grep', '^Groups:', '/proc/self/status'])).stdout), '', 'none by default');
  const missing = await sbx(d.root, ['run', '--rm', '--group-add', 'no-such-group', 'busybox', 'true']);
  assert.is(missing.code, 125);
  assert.match(missing.stderr, /unable to find group no-such-group/);

  const host = process.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64';
  const okRun = await sbx(d.root, ['run', '--rm', '--platform', host, 'busybox', 'echo', 'host platform']);
  assert.is(okRun.stdout, 'host platform\n', okRun.stderr);
  const other = process.arch === 'arm64' ? 'linux/amd64' : 'linux/arm64';
  await refused(d.root, ['run', '--platform', other, 'busybox', 'true'], new RegExp(`platform ${other} is not this host's \\(${host}\\): sbx runs containers of the host's platform only`));
  await refused(d.root, ['create', '--platform', 'nonsense', 'busybox', 'true'], /invalid platform "nonsense": want os\/arch\[\/variant\]/);
}));

s('--ulimit: the rlimits of the process and of exec; above the host\'s hard limit, an unknown name or soft > hard is exit 125, nothing created', privileged<Ctx>(async ({ d }) => {
  const limits = 'echo "$(ulimit -n) $(ulimit -Hn) $(ulimit -Sc)"';
  const r = await sbx(d.root, ['run', '-d', '--name', 'lim', '--ulimit', 'nofile=512:1024', '--ulimit', 'core=0', 'busybox', 'sh', '-c', `${limits}; sleep 30`]);
  assert.is(r.code, 0, r.stderr);
  assert.is(await eventually('the limits line', async () => { const l = await ok(d.root, ['logs', 'lim']); return l.includes('\n') ? l : undefined; }), '512 1024 0\n');
  assert.is(await ok(d.root, ['exec', 'lim', 'sh', '-c', limits]), '512 1024 0\n', 'exec gets them too');
  assert.equal(JSON.parse(await ok(d.root, ['inspect', 'lim']))[0].HostConfig.Ulimits, [{ Name: 'nofile', Soft: 512, Hard: 1024 }, { Name: 'core', Soft: 0, Hard: 0 }]);
  await ok(d.root, ['rm', '-f', 'lim']);

  const hostHard = Number(/^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1]);
  await refused(d.root, ['run', '--ulimit', `nofile=${hostHard + 1}`, 'busybox', 'true'], new RegExp(`the hard limit ${hostHard + 1} is above the host's \\(${hostHard}\\)`));
  await refused(d.root, ['run', '--ulimit', 'bogus=1', 'busybox', 'true'], /invalid ulimit type: bogus/);
  await refused(d.root, ['create', '--ulimit', 'nofile=10:5', 'busybox', 'true'], /ulimit soft limit must be less than or equal to hard limit: 10 > 5/);
}));

s.run();
