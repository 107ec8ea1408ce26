/** sbx's store and archives against the real skopeo, umoci and podman. */
import { link, lstat, mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { getAttribute, setAttribute } from '@napi-rs/xattr';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { must, requireTools, startPodman } from './_helpers/peers.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { d: TestDaemon; tmp: string }

const t = suite<Ctx>('images: interop with skopeo, umoci, podman', {} as Ctx);
t.before.each(async (ctx) => { ctx.d = await startTestDaemon(); ctx.tmp = await tmpdir('sbx-interop-'); });
t.after.each(async (ctx) => { await ctx.d.close(); await rmrf(ctx.tmp); });

async function ok(root: string, args: string[]): Promise<string> {
  const r = await sbx(root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function inspectJSON(root: string, ref: string): Promise<{ Id: string; RootFS: { Layers: string[] }; Config: { Cmd?: string[] } }> {
  return (JSON.parse(await ok(root, ['image', 'inspect', ref])) as [never])[0];
}

t('skopeo inspect and umoci unpack read the store as it is', async ({ d, tmp }) => {
  if (!(await requireTools('skopeo', 'umoci'))) return;
  await ok(d.root, ['import', '--busybox', 'busybox']);
  const info = JSON.parse(await must('skopeo', ['inspect', `oci:${d.root}/oci:busybox`]));
  const img = await inspectJSON(d.root, 'busybox');
  assert.equal(info.Layers, img.RootFS.Layers);
  await must('umoci', ['unpack', '--image', `${d.root}/oci:busybox`, join(tmp, 'bundle')]);
  const rootfs = join(tmp, 'bundle', 'rootfs');
  assert.ok((await readdir(join(rootfs, 'bin'))).includes('busybox'));
  assert.match(await readFile(join(rootfs, 'etc', 'passwd'), 'utf8'), /^root:x:0:0:/);
  const umociConfig = JSON.parse(await readFile(join(tmp, 'bundle', 'config.json'), 'utf8'));
  assert.equal(umociConfig.process.args, ['sh']);
});

t('sbx save (both formats) → skopeo inspect and podman load', async ({ d, tmp }) => {
  if (!(await requireTools('skopeo', 'podman'))) return;
  await ok(d.root, ['import', '--busybox', 'busybox']);
  const img = await inspectJSON(d.root, 'busybox');
  const docker = join(tmp, 'docker.tar');
  const oci = join(tmp, 'oci.tar');
  await ok(d.root, ['save', '-o', docker, 'busybox']);
  await ok(d.root, ['save', '--format', 'oci', '-o', oci, 'busybox']);
  for (const ref of [`docker-archive:${docker}`, `oci-archive:${oci}`]) {
    const info = JSON.parse(await must('skopeo', ['inspect', ref]));
    assert.equal(info.Layers, img.RootFS.Layers, ref);
  }
  const p = await startPodman();
  try {
    for (const file of [docker, oci]) {
      const r = await p.podman(['load', '-i', file]);
      assert.is(r.code, 0, r.stderr);
      const out = await p.podman(['image', 'inspect', 'docker.io/library/busybox:latest', '--format', '{{json .RootFS.Layers}}']);
      assert.is(out.code, 0, out.stderr);
      assert.equal(JSON.parse(out.stdout), img.RootFS.Layers, file);
      await p.podman(['rmi', '-af']);
    }
  } finally {
    await p.close();
  }
});

t('archives written by skopeo (docker-archive, oci-archive) load with the same diff_ids', async ({ d, tmp }) => {
  if (!(await requireTools('skopeo'))) return;
  await ok(d.root, ['import', '--busybox', 'busybox']);
  const img = await inspectJSON(d.root, 'busybox');
  const docker = join(tmp, 'sk-docker.tar');
  const oci = join(tmp, 'sk-oci.tar');
  await must('skopeo', ['copy', `oci:${d.root}/oci:busybox`, `docker-archive:${docker}:skopeo/docker:1`]);
  await must('skopeo', ['copy', '--dest-compress', `oci:${d.root}/oci:busybox`, `oci-archive:${oci}:skopeo/oci:2`]);
  assert.match(await ok(d.root, ['load', '-i', docker]), /Loaded image: skopeo\/docker:1/);
  assert.match(await ok(d.root, ['load', '-i', oci]), /Loaded image: skopeo\/oci:2/);
  for (const ref of ['skopeo/docker:1', 'skopeo/oci:2']) {
    const got = await inspectJSON(d.root, ref);
    assert.equal(got.RootFS.Layers, img.RootFS.Layers, ref);
    assert.equal(got.Config.Cmd, ['sh']);
  }
  // the gzip layer of the oci-archive is stored as it came, and still unpacks
  const info = JSON.parse(await must('skopeo', ['inspect', '--raw', `oci:${d.root}/oci:skopeo/oci:2`]));
  assert.match(info.layers[0].mediaType, /gzip/);
});

t('archives written by podman save (docker-archive, oci-archive) load with the same diff_ids', async ({ d, tmp }) => {
  if (!(await requireTools('podman'))) return;
  await ok(d.root, ['import', '--busybox', 'busybox']);
  const img = await inspectJSON(d.root, 'busybox');
  await ok(d.root, ['save', '-o', join(tmp, 'in.tar'), 'busybox']);
  const p = await startPodman();
  try {
    assert.is((await p.podman(['load', '-i', join(tmp, 'in.tar')])).code, 0);
    for (const format of ['docker-archive', 'oci-archive']) {
      const file = join(tmp, `${format}.tar`);
      const r = await p.podman(['save', '--format', format, '-o', file, 'docker.io/library/busybox:latest']);
      assert.is(r.code, 0, r.stderr);
      await ok(d.root, ['rmi', '-f', img.Id]);
      assert.match(await ok(d.root, ['load', '-i', file]), /Loaded image: busybox:latest/);
      const got = await inspectJSON(d.root, 'busybox');
      assert.is(got.Id, img.Id, format);
      assert.equal(got.RootFS.Layers, img.RootFS.Layers, format);
    }
  } finally {
    await p.close();
  }
  // loading the same image again, stored another way (gzip), replaces it: one image, no twin
  assert.is((await ok(d.root, ['images', '-q'])).trim().split('\n').length, 1);
});

t('umoci (Go archive/tar) reads packTree layers: PAX long names and links, hard links, binary xattrs', async ({ d, tmp }) => {
  if (!(await requireTools('umoci'))) return;
  const src = join(tmp, 'src');
  const LONG = `${'d'.repeat(60)}/${'e'.repeat(70)}/${'f'.repeat(130)}.txt`;
  await mkdir(dirname(join(src, LONG)), { recursive: true });
  await writeFile(join(src, LONG), 'long');
  await writeFile(join(src, 'naïve'), 'u');
  await symlink(LONG, join(src, 'ln-long'));
  await link(join(src, LONG), join(src, 'hard-long'));
  await writeFile(join(src, 'capfile'), 'c');
  const cap = Buffer.from([0x01, 0, 0, 0x02, 0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  await setAttribute(join(src, 'capfile'), 'security.capability', cap);
  await setAttribute(join(src, 'naïve'), 'user.k', 'v');
  await ok(d.root, ['import', src, 'pax']);
  await must('umoci', ['unpack', '--image', `${d.root}/oci:pax`, join(tmp, 'bundle')]);
  const r = join(tmp, 'bundle', 'rootfs');
  assert.is(await readFile(join(r, LONG), 'utf8'), 'long');
  assert.is(await readlink(join(r, 'ln-long')), LONG);
  assert.is((await lstat(join(r, 'hard-long'))).ino, (await lstat(join(r, LONG))).ino);
  assert.equal(await getAttribute(join(r, 'capfile'), 'security.capability'), cap);
  assert.is(String(await getAttribute(join(r, 'naïve'), 'user.k')), 'v');
});

t.run();
