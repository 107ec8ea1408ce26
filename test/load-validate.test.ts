/**
 * `sbx load` refuses up front an image whose layers unpacking would refuse (escaping names,
 * writes through symlinks, bad hard links and whiteouts, non-tar layers, unknown layer types),
 * naming the image, the layer and the entry, with nothing tagged and no blob left behind.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MediaType } from '../protocol/index.js';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { busyboxLayer, digestOf, putImage, tarOf, type Entry } from './_helpers/fixtures.js';
import { privileged } from './_helpers/root.js';

const EPOCH = '2024-01-01T00:00:00Z';

/** A `docker save` archive of one image `tag` with these layers (each a tar, maybe gzip'd). */
async function dockerArchive(tag: string, layers: Buffer[], opts: { gzip?: boolean } = {}): Promise<Buffer> {
  const config = Buffer.from(JSON.stringify({
    created: EPOCH, architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map(digestOf) },
  }));
  const blobs = layers.map((l) => (opts.gzip ? gzipSync(l) : l));
  const names = blobs.map((b) => `${digestOf(b).slice(7)}/layer.tar`);
  return tarOf([
    { name: 'manifest.json', data: JSON.stringify([{ Config: `${digestOf(config).slice(7)}.json`, RepoTags: [tag], Layers: names }]) },
    { name: `${digestOf(config).slice(7)}.json`, data: config },
    ...blobs.map((b, i): Entry => ({ name: names[i]!, data: b })),
  ]);
}

/** An OCI archive of one image whose layers carry the given media types. */
async function ociArchive(tag: string, layers: { data: Buffer; mediaType: string }[]): Promise<Buffer> {
  const config = Buffer.from(JSON.stringify({ created: EPOCH, architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => digestOf(l.data)) } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: digestOf(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: digestOf(l.data), size: l.data.length })),
  }));
  const blob = (b: Buffer): Entry => ({ name: `blobs/sha256/${digestOf(b).slice(7)}`, data: b });
  return tarOf([
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.ociManifest, digest: digestOf(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }] }) },
    blob(manifest), blob(config), ...layers.map((l) => blob(l.data)),
  ]);
}

const file = (name: string, data = 'x'): Entry => ({ name, data });
const symlink = (name: string, linkname: string): Entry => ({ name, type: 'symlink', linkname });
const hardlink = (name: string, linkname: string): Entry => ({ name, type: 'link', linkname });

interface Ctx { d: TestDaemon }
const load = suite<Ctx>('load: layers a run would refuse are refused at load', {} as Ctx);
load.before(async (ctx) => { ctx.d = await startBusyboxDaemon(); });
load.after(async (ctx) => { await ctx.d?.close(); });

const blobs = async (root: string): Promise<string[]> => (await readdir(join(root, 'oci', 'blobs', 'sha256'))).sort();

load('each hostile layer: exit 1, the image, the layer digest and the entry named; images and blobs unchanged', async ({ d }) => {
  const cases: { what: string; layers: Entry[][]; bad: number; entry: string; why: RegExp; gzip?: boolean }[] = [
    { what: 'a name that climbs out', layers: [[file('../../etc/cron.d/evil')]], bad: 0, entry: '../../etc/cron.d/evil', why: /"\.\." escapes the root/ },
    { what: 'an absolute name', layers: [[file('/etc/evil')]], bad: 0, entry: '/etc/evil', why: /absolute paths are not allowed/ },
    { what: 'a write through a symlink of the same layer', layers: [[symlink('x', '/etc'), file('x/passwd')]], bad: 0, entry: 'x/passwd', why: /parent "x" is a symbolic link/ },
    { what: 'a write through a symlink of a lower layer (gzip layers)', layers: [[{ name: 'etc/' }, symlink('etc/x', '/root')], [file('etc/x/.ssh/authorized_keys')]], bad: 1, entry: 'etc/x/.ssh/authorized_keys', why: /parent "etc\/x" is a symbolic link/, gzip: true },
    { what: 'a hard link out of the root', layers: [[hardlink('shadow', '../../../etc/shadow')]], bad: 0, entry: 'shadow', why: /"\.\." escapes the root/ },
    { what: 'a hard link to nothing in the image', layers: [[file('a')], [hardlink('b', 'etc/shadow')]], bad: 1, entry: 'b', why: /hard link target "etc\/shadow" is not a file inside the image/ },
    { what: 'a malformed whiteout', layers: [[file('a/.wh..')]], bad: 0, entry: 'a/.wh..', why: /malformed whiteout/ },
    { what: 'a file under a file', layers: [[file('a'), file('a/b')]], bad: 0, entry: 'a/b', why: /parent "a" is not a directory/ },
  ];
  const before = { images: (await sbx(d.root, ['images'])).stdout, blobs: await blobs(d.root) };
  for (const c of cases) {
    const layers = await Promise.all(c.layers.map((l) => tarOf(l)));
    const archive = await dockerArchive('evil:1', layers, { gzip: c.gzip ?? false });
    const badDigest = digestOf(c.gzip ? gzipSync(layers[c.bad]!) : layers[c.bad]!);
    const r = await sbx(d.root, ['load'], { input: archive });
    assert.is(r.code, 1, `${c.what}: exit code (${r.stderr})`);
    assert.ok(r.stderr.includes('evil:1'), `${c.what}: names the image: ${r.stderr}`);
    assert.ok(r.stderr.includes(badDigest), `${c.what}: names the layer ${badDigest}: ${r.stderr}`);
    assert.ok(r.stderr.includes(JSON.stringify(c.entry)), `${c.what}: names the entry: ${r.stderr}`);
    assert.match(r.stderr, c.why, c.what);
    assert.is((await sbx(d.root, ['images'])).stdout, before.images, `${c.what}: sbx images unchanged`);
    assert.equal(await blobs(d.root), before.blobs, `${c.what}: no blob left behind`);
  }
});

load('a layer that is not a tar, or of a type sbx cannot unpack, is refused; a good archive with the same shapes loads', async ({ d }) => {
  const before = (await sbx(d.root, ['images'])).stdout;
  const junk = Buffer.alloc(2048, 7);
  const notTar = await sbx(d.root, ['load'], { input: await dockerArchive('junk:1', [junk]) });
  assert.is(notTar.code, 1, notTar.stderr);
  assert.match(notTar.stderr, new RegExp(`image junk:1: layer ${digestOf(junk)}: not a valid tar`));
  const layer = await tarOf([file('a')]);
  const odd = await sbx(d.root, ['load'], { input: await ociArchive('odd:1', [{ data: layer, mediaType: 'application/vnd.example.secret+json' }]) });
  assert.is(odd.code, 1, odd.stderr);
  assert.match(odd.stderr, /image odd:1: layer sha256:[0-9a-f]{64} has media type "application\/vnd.example.secret\+json", not a tar layer/);
  assert.is((await sbx(d.root, ['images'])).stdout, before);
  // Legitimate images do all of this safely: absolute symlinks, a symlink replaced by a
  // directory in a later layer (whiteout first), hard links to files below.
  const good = await dockerArchive('fine:1', [
    await tarOf([{ name: 'etc/' }, file('etc/passwd', 'root:x:0:0::/:/bin/sh\n'), symlink('x', '/etc'), symlink('etc/mtab', '/proc/mounts')]),
    await tarOf([file('.wh.x'), { name: 'x/' }, file('x/y'), hardlink('etc/passwd.bak', 'etc/passwd')]),
  ]);
  const ok = await sbx(d.root, ['load'], { input: good });
  assert.is(ok.code, 0, ok.stderr);
  assert.is(ok.stdout, 'Loaded image: fine:1\n');
});

load('sbx import checks its tar the same way, in the pass that stores it', async ({ d }) => {
  const before = { images: (await sbx(d.root, ['images'])).stdout, blobs: await blobs(d.root) };
  const r = await sbx(d.root, ['import', '-', 'sneaky:1'], { input: await tarOf([symlink('x', '/etc'), file('x/passwd')]) });
  assert.is(r.code, 125, r.stderr);
  assert.match(r.stderr, /import: entry "x\/passwd": parent "x" is a symbolic link/);
  assert.is((await sbx(d.root, ['images'])).stdout, before.images);
  assert.equal(await blobs(d.root), before.blobs);
});

load('the runtime refuses what load refuses: the same image put straight into the store fails at run', privileged<Ctx>(async ({ d }) => {
  const s = d.daemon.services;
  const bad = await tarOf([file('x/passwd')]);
  await putImage(s.content, s.images, 'docker.io/library/sneaked:1', [await busyboxLayer(), await tarOf([symlink('x', '/etc')]), bad]);
  const r = await sbx(d.root, ['run', '--rm', 'sneaked:1', 'true']);
  assert.not.equal(r.code, 0);
  assert.match(r.stderr, /"x\/passwd": parent "x" is a symbolic link/);
  const saved = join(d.root, 'sneaked.tar');
  assert.is((await sbx(d.root, ['save', '-o', saved, 'sneaked:1'])).code, 0);
  assert.is((await sbx(d.root, ['rmi', 'sneaked:1'])).code, 0);
  const again = await sbx(d.root, ['load', '-i', saved]);
  assert.is(again.code, 1, again.stderr);
  assert.match(again.stderr, new RegExp(`image sneaked:1: layer ${digestOf(bad)}: entry "x/passwd": parent "x" is a symbolic link`));
  assert.not.match((await sbx(d.root, ['images'])).stdout, /sneaked/);
}));

load.run();
