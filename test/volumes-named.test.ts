/**
 * Named and anonymous volumes through the CLI: -v NAME:/ctr and --mount type=volume (made on first
 * use, seeded from the image only when new and empty), `sbx volume create|ls|inspect|rm|prune` with
 * docker's output and refusals, the image's VOLUME (an anonymous volume; --rm removes it), system
 * df's Local Volumes row, and a volume's content in neither diff nor commit.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon }
interface MountJSON { Type: string; Name: string; Source: string; Destination: string; Driver: string; Mode: string; RW: boolean }

async function ok(root: string, args: string[]): Promise<string> {
  const r = await sbx(root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const s = suite<Ctx>('sbx named volumes', {} as Ctx);
s.before.each(async (ctx) => {
  ctx.d = await startTestDaemon();
  if (process.getuid?.() !== 0) return;
  await ok(ctx.d.root, ['import', '--busybox', 'busybox']);
  // an image with content at /seed, and one that declares it a VOLUME
  await ok(ctx.d.root, ['run', '--name', 'base', 'busybox', 'sh', '-c', 'mkdir -p /seed/sub && echo from-image > /seed/f && echo deep > /seed/sub/g']);
  await ok(ctx.d.root, ['commit', 'base', 'seeded']);
  await ok(ctx.d.root, ['commit', '-c', 'VOLUME ["/seed"]', 'base', 'withvol']);
  await ok(ctx.d.root, ['rm', 'base']);
});
s.after.each(async (ctx) => { await ctx.d.close(); });

s('-v NAME:/ctr: made on first use, seeded once from the image, shared, listed and inspected as docker', privileged(async ({ d }) => {
  assert.is(await ok(d.root, ['run', '--name', 'c1', '-v', 'data:/seed', 'seeded', 'sh', '-c', 'cat /seed/f /seed/sub/g && echo mine > /seed/f']), 'from-image\ndeep\n');
  // not new any more: no second copy-up over what the first container wrote
  assert.is(await ok(d.root, ['run', '--name', 'c2', '--mount', 'type=volume,source=data,target=/seed', 'seeded', 'cat', '/seed/f']), 'mine\n');
  assert.is(await ok(d.root, ['volume', 'ls']), 'DRIVER    VOLUME NAME\nlocal     data\n');
  assert.is(await ok(d.root, ['volume', 'ls', '-q']), 'data\n');
  const [v] = JSON.parse(await ok(d.root, ['volume', 'inspect', 'data'])) as [Record<string, unknown>];
  assert.equal(Object.keys(v!).sort(), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
  assert.is(v!.Mountpoint, join(d.root, 'volumes', 'data', '_data'));
  assert.is(await readFile(join(v!.Mountpoint as string, 'f'), 'utf8'), 'mine\n');
  const [info] = JSON.parse(await ok(d.root, ['inspect', 'c1'])) as [{ Mounts: MountJSON[]; HostConfig: { Binds: string[] } }];
  assert.equal(info.Mounts, [{ Type: 'volume', Name: 'data', Source: v!.Mountpoint, Destination: '/seed', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }]);
  assert.equal(info.HostConfig.Binds, ['data:/seed']);

  // in use: refused with docker's message, exit 1; free once its containers are gone
  const rm = await sbx(d.root, ['volume', 'rm', 'data']);
  assert.is(rm.code, 1);
  assert.match(rm.stderr, /^Error response from daemon: remove data: volume is in use - \[[0-9a-f]{64}, [0-9a-f]{64}\]\n$/);
  await ok(d.root, ['rm', 'c1', 'c2']);
  assert.is(await ok(d.root, ['volume', 'rm', 'data']), 'data\n');
  assert.equal(await readdir(join(d.root, 'volumes')), []);
  const gone = await sbx(d.root, ['volume', 'inspect', 'data']);
  assert.is(gone.code, 1);
  assert.match(gone.stderr, /no such volume/);
}));

s('volume create, labels, a read-only volume, bad names', privileged(async ({ d }) => {
  assert.is(await ok(d.root, ['volume', 'create', '--label', 'team=a', 'made']), 'made\n');
  const [v] = JSON.parse(await ok(d.root, ['volume', 'inspect', 'made'])) as [{ Labels: Record<string, string> }];
  assert.equal(v.Labels, { team: 'a' });
  const anon = (await ok(d.root, ['volume', 'create'])).trim();
  assert.match(anon, /^[0-9a-f]{64}$/);
  const r = await sbx(d.root, ['run', '--rm', '-v', 'made:/v:ro', 'busybox', 'touch', '/v/x']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /Read-only file system/);
  for (const bad of [['-v', 'b@d:/v'], ['--mount', 'type=volume,source=x/y,target=/v']]) {
    const b = await sbx(d.root, ['run', '--rm', ...bad, 'busybox', 'true']);
    assert.is(b.code, 125, b.stderr);
    assert.match(b.stderr, /invalid characters for a local volume name/);
  }
  assert.is(await ok(d.root, ['volume', 'ls', '-q']), [anon, 'made'].sort().join('\n') + '\n');
}));

s('the image\'s VOLUME: an anonymous volume, seeded; --rm removes it; prune keeps named ones', privileged(async ({ d }) => {
  await ok(d.root, ['run', '--name', 'keep', 'withvol', 'cat', '/seed/f']);
  const [info] = JSON.parse(await ok(d.root, ['inspect', 'keep'])) as [{ Mounts: MountJSON[] }];
  assert.is(info.Mounts.length, 1);
  assert.match(info.Mounts[0]!.Name, /^[0-9a-f]{64}$/);
  assert.is(info.Mounts[0]!.Destination, '/seed');
  assert.is(await readFile(join(info.Mounts[0]!.Source, 'f'), 'utf8'), 'from-image\n');

  assert.is(await ok(d.root, ['run', '--rm', 'withvol', 'cat', '/seed/sub/g']), 'deep\n');
  await ok(d.root, ['volume', 'create', 'named']);
  assert.is(await ok(d.root, ['volume', 'ls', '-q']), [info.Mounts[0]!.Name, 'named'].sort().join('\n') + '\n', '--rm took its anonymous volume');

  // in use: prune skips it; after rm, prune takes the anonymous volume only (docker 23+), -a the rest
  const kept = await ok(d.root, ['volume', 'prune', '-f']);
  assert.is(kept, 'Total reclaimed space: 0B\n');
  await ok(d.root, ['rm', 'keep']);
  assert.is(await ok(d.root, ['volume', 'prune', '-f']), `Deleted Volumes:\n${info.Mounts[0]!.Name}\n\nTotal reclaimed space: 16B\n`);
  assert.is(await ok(d.root, ['volume', 'ls', '-q']), 'named\n');
  assert.is(await ok(d.root, ['volume', 'prune', '-af']), 'Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n');
}));

s('a volume is in neither diff nor commit; system df counts volumes', privileged(async ({ d }) => {
  await ok(d.root, ['run', '--name', 'c1', '-v', 'data:/seed', 'seeded', 'sh', '-c', 'echo written > /seed/new && echo layer > /layer.txt']);
  const diff = await ok(d.root, ['diff', 'c1']);
  assert.match(diff, /^A \/layer\.txt$/m);
  assert.not.match(diff, /\/seed/);
  await ok(d.root, ['commit', 'c1', 'after']);
  assert.is(await ok(d.root, ['run', '--rm', 'after', 'sh', '-c', 'cat /layer.txt; ls /seed']), 'layer\nf\nsub\n');
  const df = await ok(d.root, ['system', 'df']);
  assert.match(df, /^Local Volumes\s+1\s+1\s+24B\s+0B \(0%\)$/m);
  await ok(d.root, ['rm', 'c1']);
  assert.match(await ok(d.root, ['system', 'df']), /^Local Volumes\s+1\s+0\s+24B\s+24B \(100%\)$/m);
}));

s('--volumes-from CONTAINER[:ro|rw]: the same volumes, the mode as asked, own mounts win; bad sources refused', privileged(async ({ d }) => {
  await ok(d.root, ['run', '--name', 'src', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo shared > /data/f']);
  assert.is(await ok(d.root, ['run', '--rm', '--volumes-from', 'src', 'busybox', 'cat', '/data/f']), 'shared\n');

  const ro = await sbx(d.root, ['run', '--name', 'reader', '--volumes-from', 'src:ro', 'busybox', 'sh', '-c', 'echo x > /data/g']);
  assert.is(ro.code, 1, ro.stderr);
  assert.match(ro.stderr, /Read-only file system/);
  const [info] = JSON.parse(await ok(d.root, ['inspect', 'reader'])) as [{ Mounts: MountJSON[]; HostConfig: { VolumesFrom: string[] | null } }];
  assert.equal(info.HostConfig.VolumesFrom, ['src:ro']);
  assert.is(info.Mounts.length, 1);
  assert.is(info.Mounts[0]!.Name, 'data');
  assert.is(info.Mounts[0]!.Destination, '/data');
  assert.is(info.Mounts[0]!.RW, false);

  // a mount of its own at the same target wins over the inherited one
  const own = await sbx(d.root, ['run', '--rm', '--volumes-from', 'src', '-v', 'other:/data', 'busybox', 'ls', '/data']);
  assert.is(own.code, 0, own.stderr);
  assert.is(own.stdout, '');

  const before = await ok(d.root, ['ps', '-aq']);
  const missing = await sbx(d.root, ['run', '--volumes-from', 'nosuch', 'busybox', 'true']);
  assert.is(missing.code, 125);
  assert.match(missing.stderr, /nosuch/);
  const mode = await sbx(d.root, ['run', '--volumes-from', 'src:bad', 'busybox', 'true']);
  assert.is(mode.code, 125);
  assert.match(mode.stderr, /invalid mode: bad/);
  assert.is(await ok(d.root, ['ps', '-aq']), before);
}));

s.run();
