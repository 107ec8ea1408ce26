/**
 * Attack on the store from a local non-root user (nobody, via setpriv): with an image that ships
 * a setuid-root binary and a 0666 char device, and a container that made its own setuid copy,
 * nothing under $SBX_ROOT may be stat'ed, listed, read, executed or opened; a root left with an
 * older sbxd's modes (0711/0755/0644) is tightened when sbxd starts.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, lstat, mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

const pexec = promisify(execFile);
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

interface Ctx { tmp: string; root: string; d?: TestDaemon }
const s = suite<Ctx>('security: the store is root-only', {} as Ctx);

s.before.each(async (ctx) => {
  // The root's parent is open to everyone, as /var/lib is: only the store's own modes protect it.
  ctx.tmp = await tmpdir('sbx-sec-store-');
  await chmod(ctx.tmp, 0o755);
  ctx.root = join(ctx.tmp, 'root');
  ctx.d = undefined;
});
s.after.each(async (ctx) => {
  if (ctx.d) {
    await sbx(ctx.root, ['rm', '-f', 'c1']).catch(() => undefined);
    await ctx.d.daemon.close();
  }
  await rmrf(ctx.tmp);
});

/** A rootfs with busybox, a setuid-root copy of the host's id(1) and a 0666 /dev/kmsg twin. */
async function attackRootfs(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'dev'));
  await copyFile('/bin/busybox', join(dir, 'bin', 'busybox'));
  await symlink('busybox', join(dir, 'bin', 'sh'));
  await copyFile('/usr/bin/id', join(dir, 'suid-id'));
  await chmod(join(dir, 'suid-id'), 0o4755);
  await pexec('mknod', ['-m', '0666', join(dir, 'dev', 'kmsg-twin'), 'c', '1', '11']);
}

/** Every path under `root` (as root sees it). */
async function allPaths(root: string): Promise<string[]> {
  const out = [root];
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const p = join(dir, name);
      out.push(p);
      const st = await lstat(p).catch(() => undefined);
      if (st?.isDirectory()) await walk(p);
    }
  };
  await walk(root);
  return out;
}

// As nobody: one line per thing that worked. Paths come on stdin, one per line.
const PROBE = `
while IFS= read -r p; do
  [ -e "$p" ] || [ -L "$p" ] && echo "STAT $p"
  [ -d "$p" ] && ls "$p" >/dev/null 2>&1 && echo "LIST $p"
  [ -f "$p" ] && head -c1 "$p" >/dev/null 2>&1 && echo "READ $p"
  case "$p" in *suid-id|*mine-id) u=$("$p" -u 2>/dev/null) && echo "EXEC $p euid=$u";; esac
  case "$p" in *kmsg-twin) ( : >"$p" ) 2>/dev/null && echo "OPEN $p";; esac
done
exit 0`;

/** What nobody could do to `paths`; the root itself may be stat'ed (its parent is public), nothing more. */
async function asNobody(paths: string[]): Promise<string[]> {
  const child = execFile('setpriv', [...NOBODY, '--', '/bin/sh', '-c', PROBE], { maxBuffer: 64 << 20 });
  child.stdin!.end(paths.join('\n') + '\n');
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d; });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.is(code, 0, 'the nobody probe ran');
  // The worst first: EXEC/OPEN/READ before LIST/STAT.
  const rank = (l: string): number => ['EXEC', 'OPEN', 'READ', 'LIST', 'STAT'].indexOf(l.slice(0, 4));
  return out.split('\n').filter((l) => l && !/^STAT \S+\/root$/.test(l)).sort((a, b) => rank(a) - rank(b));
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 20000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.unreachable(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Import the attack image and run a container that makes its own setuid copy; returns its paths. */
async function populate(ctx: Ctx): Promise<string[]> {
  const src = await tmpdir('sbx-sec-src-');
  try {
    await attackRootfs(src);
    const imp = await sbx(ctx.root, ['import', src, 'attack:1']);
    assert.is(imp.code, 0, imp.stderr);
  } finally {
    await rmrf(src);
  }
  const run = await sbx(ctx.root, ['run', '-d', '--name', 'c1', 'attack:1', '/bin/sh', '-c',
    'busybox cp /suid-id /mine-id && busybox chmod 4755 /mine-id && echo started && exec busybox sleep 600']);
  assert.is(run.code, 0, run.stderr);
  let paths: string[] = [];
  await waitFor('the container to make /mine-id', async () => {
    paths = await allPaths(ctx.root);
    return paths.some((p) => p.endsWith('/mine-id') && p.includes('/snapshots/'));
  });
  for (const want of ['/oci/index.json', '/suid-id', '/mine-id', '/kmsg-twin', '/log']) {
    assert.ok(paths.some((p) => p.endsWith(want)), `the store holds a ${want}`);
  }
  assert.ok(paths.some((p) => p.includes('/oci/blobs/sha256/')), 'the store holds blobs');
  return paths;
}

s('nobody cannot stat, list, read, run setuid files or open devices under $SBX_ROOT', privileged(async (ctx) => {
  ctx.d = await startTestDaemon({ root: ctx.root });
  const paths = await populate(ctx);
  const got = await asNobody(paths);
  assert.equal(got, [], `a local user reached the store:\n${got.slice(0, 20).join('\n')}`);
  assert.is((await lstat(ctx.root)).mode & 0o7777, 0o700);
}));

s('a root with an older sbxd\'s modes is tightened on start', privileged(async (ctx) => {
  ctx.d = await startTestDaemon({ root: ctx.root });
  const paths = await populate(ctx);
  await sbx(ctx.root, ['rm', '-f', 'c1']);
  const run = await sbx(ctx.root, ['run', '--name', 'c1', 'attack:1', '/bin/sh', '-c', 'busybox cp /suid-id /mine-id && busybox chmod 4755 /mine-id']);
  assert.is(run.code, 0, run.stderr);
  await ctx.d.daemon.close();
  ctx.d = undefined;
  // What sbxd before this fix left: 0711 root and snapshot dirs, 0755 directories, 0644 files.
  for (const p of await allPaths(ctx.root)) {
    const st = await lstat(p);
    const inTree = /\/snapshots\/[^/]+\/fs\//.test(p);
    if (inTree) continue;
    if (st.isDirectory()) await chmod(p, /\/snapshots\/[^/]+$/.test(p) || p === ctx.root ? 0o711 : 0o755);
    else if (st.isFile()) await chmod(p, 0o644);
  }
  const loose = await asNobody(paths);
  assert.ok(loose.some((l) => /^EXEC .*suid-id euid=0$/.test(l)), `the old modes let nobody run the layer's setuid binary: ${loose.join('\n')}`);
  assert.ok(loose.some((l) => /^READ .*index\.json$/.test(l)), 'the old modes let nobody read index.json');

  ctx.d = await startTestDaemon({ root: ctx.root });
  const got = await asNobody(await allPaths(ctx.root));
  assert.equal(got, [], `a local user reached the store after restart:\n${got.slice(0, 20).join('\n')}`);
  const snaps = join(ctx.root, 'snapshots');
  assert.is((await lstat(snaps)).mode & 0o777, 0o700);
  for (const name of await readdir(snaps)) {
    const st = await lstat(join(snaps, name));
    if (st.isDirectory()) assert.is(st.mode & 0o077, 0, `snapshots/${name} is private`);
    if (st.isDirectory() && name !== 'l') assert.is((await lstat(join(snaps, name, 'fs'))).mode & 0o777, 0o755, 'a layer root keeps its own mode');
  }
}));

s.run();
