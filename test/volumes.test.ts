/**
 * Bind mounts through the CLI, as a docker user types them: -v HOST:CTR[:ro], --mount type=bind,
 * the record (a start again binds again), inspect's Mounts and HostConfig.Binds, docker's rules
 * for missing sources, bad input (exit 125, nothing created), a link planted in the image at the
 * target (the mount stays inside the container), and neither diff nor commit seeing a bind.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { d: TestDaemon; host: string }

async function ok(root: string, args: string[]): Promise<string> {
  const r = await sbx(root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const s = suite<Ctx>('sbx run -v / --mount type=bind', {} as Ctx);
s.before.each(async (ctx) => {
  ctx.d = await startTestDaemon();
  ctx.host = await tmpdir('sbx-vol-host-');
  if (process.getuid?.() !== 0) return;
  await ok(ctx.d.root, ['import', '--busybox', 'busybox']);
});
s.after.each(async (ctx) => {
  await sbx(ctx.d.root, ['rm', '-f', 'c1', 'c2', 'trap']).catch(() => undefined);
  await ctx.d.close();
  await rmrf(ctx.host);
});

s('-v HOST:CTR and :ro; kept in the record; inspect shows Mounts and Binds', privileged(async ({ d, host }) => {
  const src = join(host, 'src');
  await mkdir(src);
  await writeFile(join(src, 'in.txt'), 'from host\n');
  const out = await ok(d.root, ['run', '--name', 'c1', '-v', `${src}:/data`, '-v', `${src}:/ro:ro`, 'busybox',
    'sh', '-c', 'cat /data/in.txt && echo from ctr > /data/out.txt && (echo x > /ro/no 2>/dev/null && echo writable || echo read-only)']);
  assert.is(out, 'from host\nread-only\n');
  assert.is(await readFile(join(src, 'out.txt'), 'utf8'), 'from ctr\n');
  assert.not.ok(existsSync(join(src, 'no')));

  const [info] = JSON.parse(await ok(d.root, ['inspect', 'c1'])) as [{ Mounts: unknown[]; HostConfig: { Binds: string[] | null } }];
  assert.equal(info.HostConfig.Binds, [`${src}:/data`, `${src}:/ro:ro`]);
  assert.equal(info.Mounts, [
    { Type: 'bind', Source: src, Destination: '/data', Mode: '', RW: true, Propagation: 'rprivate' },
    { Type: 'bind', Source: src, Destination: '/ro', Mode: 'ro', RW: false, Propagation: 'rprivate' },
  ]);

  // start again: the bind is there again (the record kept it)
  await writeFile(join(src, 'in.txt'), 'changed\n');
  const again = await sbx(d.root, ['start', '-a', 'c1']);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, /^changed\n/);
}));

s('-v HOST_FILE:CTR binds a single file (read-write and :ro), as docker does', privileged(async ({ d, host }) => {
  const file = join(host, 'app.conf');
  await writeFile(file, 'port=80\n');
  const out = await ok(d.root, ['run', '--rm', '-v', `${file}:/etc/app.conf`, '-v', `${file}:/ro.conf:ro`, 'busybox',
    'sh', '-c', 'cat /etc/app.conf && echo port=8080 > /etc/app.conf && (echo x > /ro.conf 2>/dev/null && echo writable || echo read-only)']);
  assert.is(out, 'port=80\nread-only\n');
  assert.is(await readFile(file, 'utf8'), 'port=8080\n', 'the write went to the host file');
}));

s('--mount type=bind: source must exist; -v creates a missing host directory', privileged(async ({ d, host }) => {
  const missing = join(host, 'missing');
  const r = await sbx(d.root, ['run', '--name', 'c1', '--mount', `type=bind,source=${missing},target=/m`, 'busybox', 'true']);
  assert.is(r.code, 125);
  assert.match(r.stderr, /bind source path does not exist: .*missing/);
  assert.not.ok(existsSync(missing));
  assert.is((await ok(d.root, ['ps', '-aq'])), '');

  const made = join(host, 'made', 'deep');
  await ok(d.root, ['run', '--name', 'c1', '-v', `${made}:/m`, 'busybox', 'sh', '-c', 'echo hi > /m/f']);
  assert.is(await readFile(join(made, 'f'), 'utf8'), 'hi\n');

  await mkdir(join(host, 'ro'));
  const ro = await sbx(d.root, ['run', '--name', 'c2', '--mount', `type=bind,src=${join(host, 'ro')},dst=/m,readonly`, 'busybox', 'touch', '/m/x']);
  assert.is(ro.code, 1);
  assert.match(ro.stderr, /Read-only file system/);
  const [info] = JSON.parse(await ok(d.root, ['inspect', 'c2'])) as [{ HostConfig: { Binds: null; Mounts: unknown[] } }];
  assert.is(info.HostConfig.Binds, null);
  assert.equal(info.HostConfig.Mounts, [{ Type: 'bind', Source: join(host, 'ro'), Target: '/m', ReadOnly: true }]);
}));

s('bad -v and --mount: exit 125, a clear message, nothing created', privileged(async ({ d, host }) => {
  const cases: [string[], RegExp][] = [
    [['-v', `${host}/a::ro`], /no empty parts/],
    [['-v', `:/data`], /no empty parts/],
    [['-v', `${host}/a:data`], /mount path must be absolute/],
    [['-v', `${host}/a:/data:rx`], /invalid mode: rx/],
    [['-v', `./rel:/data`], /use absolute path/],
    [['--mount', `type=bind,source=${host},target=/d,bogus=1`], /unexpected key 'bogus'/],
    [['--mount', `type=bind,source=${host}`], /container path is empty/],
    [['--mount', `type=nfs,target=/d`], /invalid mount type "nfs"/],
  ];
  for (const [flags, msg] of cases) {
    const r = await sbx(d.root, ['run', '--name', 'c1', ...flags, 'busybox', 'true']);
    assert.is(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
  assert.is(await ok(d.root, ['ps', '-aq']), '');
  assert.equal(await readdir(host), []);
  assert.equal(await readdir(join(d.root, 'volumes')).catch(() => []), []);
}));

s('a link planted in the image at the target keeps the mount inside the container', privileged(async ({ d, host }) => {
  const src = join(host, 'src');
  const outside = join(host, 'outside');
  await mkdir(src);
  await mkdir(outside);
  // the image's /data points at a host path (absolute) and /up climbs out (relative)
  await ok(d.root, ['run', '--name', 'trap', 'busybox', 'sh', '-c', `ln -s ${outside} /data && ln -s ../../../../../..${outside} /up`]);
  await ok(d.root, ['commit', 'trap', 'trapped']);
  await ok(d.root, ['run', '--name', 'c1', '-v', `${src}:/data`, '-v', `${src}:/up`, 'trapped', 'sh', '-c', 'echo planted > /data/f && cat /up/f']);
  assert.is(await readFile(join(src, 'f'), 'utf8'), 'planted\n');
  assert.equal(await readdir(outside), [], 'nothing reached the host path the link named');

  // a host source whose last component is a link is resolved by the daemon (docker's): it binds its target
  await symlink(src, join(host, 'link'));
  assert.is(await ok(d.root, ['run', '--name', 'c2', '-v', `${join(host, 'link')}:/l`, 'busybox', 'cat', '/l/f']), 'planted\n');
}));

s('a bind is in neither diff nor commit', privileged(async ({ d, host }) => {
  const src = join(host, 'src');
  await mkdir(src);
  await ok(d.root, ['run', '--name', 'c1', '-v', `${src}:/data`, 'busybox', 'sh', '-c', 'echo bound > /data/f && echo layer > /layer.txt']);
  const diff = await ok(d.root, ['diff', 'c1']);
  assert.match(diff, /^A \/layer\.txt$/m);
  assert.not.match(diff, /\/data\/f/);
  await ok(d.root, ['commit', 'c1', 'after']);
  const r = await sbx(d.root, ['run', '--rm', 'after', 'sh', '-c', 'cat /layer.txt; ls /data']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'layer\n');
}));

s('--tmpfs and --mount type=tmpfs: fresh, sized, noexec by default, in inspect, never in diff', privileged(async ({ d }) => {
  const out = await ok(d.root, ['run', '--name', 'c1', '--tmpfs', '/scratch:size=1m,mode=1770', '--mount', 'type=tmpfs,target=/m,tmpfs-size=2m',
    'busybox', 'sh', '-c', 'grep -E " /(scratch|m) " /proc/mounts | cut -d" " -f2- && echo t > /scratch/f && stat -c %a /scratch && cp /bin/busybox /m/bb && (/m/bb true && echo exec || echo noexec)']);
  assert.match(out, /^\/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=1770/m);
  assert.match(out, /^\/m tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k/m);
  assert.match(out, /^1770\nnoexec\n$/m);
  const diff = await ok(d.root, ['diff', 'c1']);
  assert.not.match(diff, /\/scratch\/f|\/m\/bb/);
  const [info] = JSON.parse(await ok(d.root, ['inspect', 'c1'])) as [{ Mounts: unknown[]; HostConfig: { Tmpfs: unknown; Mounts: unknown[] } }];
  assert.equal(info.HostConfig.Tmpfs, { '/scratch': 'size=1m,mode=1770' });
  assert.equal(info.HostConfig.Mounts, [{ Type: 'tmpfs', Source: '', Target: '/m', ReadOnly: false, TmpfsOptions: { SizeBytes: 2 * 1024 * 1024 } }]);
  assert.equal(info.Mounts, [{ Type: 'tmpfs', Source: '', Destination: '/m', Mode: '', RW: true, Propagation: '' }]);
  // a start again gets an empty tmpfs
  const again = await sbx(d.root, ['start', '-a', 'c1']);
  assert.is(again.code, 0, again.stderr);
  for (const [flags, msg] of [[['--tmpfs', 'rel'], /must be absolute/], [['--tmpfs', '/t:suid'], /invalid tmpfs option "suid"/],
    [['--mount', 'type=tmpfs,source=x,target=/t'], /source must not be specified/], [['--mount', 'type=bind,source=/tmp,target=/t,tmpfs-size=1'], /cannot mix/]] as [string[], RegExp][]) {
    const r = await sbx(d.root, ['run', '--name', 'c2', ...flags, 'busybox', 'true']);
    assert.is(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
}));

s.run();
