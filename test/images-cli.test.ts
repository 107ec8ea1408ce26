/** The image verbs as a user runs them: the built `sbx` against a daemon on a temp root. */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { imageRows } from '../cli/commands/images.js';
import { Images, type ImageSummary } from '../protocol/index.js';
import { rejects } from './_helpers/assert.js';
import { sbx, type CliResult } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { d: TestDaemon; tmp: string }

async function ok(root: string, args: string[], input?: Buffer): Promise<string> {
  const r = await sbx(root, args, input ? { input } : {});
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function fails(root: string, args: string[], re: RegExp, input?: Buffer): Promise<CliResult> {
  const r = await sbx(root, args, input ? { input } : {});
  // docker load and rmi exit 1 on a refusal; the other verbs report daemon errors with 125.
  assert.is(r.code, args[0] === 'load' || args[0] === 'rmi' ? 1 : 125, `sbx ${args.join(' ')} should fail: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, re);
  return r;
}

const blobs = async (root: string): Promise<string[]> => (await readdir(join(root, 'oci', 'blobs', 'sha256'))).sort();
const indexJson = (root: string): Promise<string> => readFile(join(root, 'oci', 'index.json'), 'utf8').catch(() => '');
const inspect = async (root: string, ref: string): Promise<Record<string, any>> => JSON.parse(await ok(root, ['image', 'inspect', ref]))[0];

async function rootfsDir(tmp: string, name = 'rootfs'): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(join(dir, 'etc'), { recursive: true });
  await writeFile(join(dir, 'etc', 'hello'), 'hello from a tarball\n');
  await mkdir(join(dir, 'bin'));
  return dir;
}

function setup(name: string) {
  const s = suite<Ctx>(name, {} as Ctx);
  s.before.each(async (ctx) => { ctx.d = await startTestDaemon(); ctx.tmp = await tmpdir('sbx-imgcli-'); });
  s.after.each(async (ctx) => { await ctx.d.close(); await rmrf(ctx.tmp); });
  return s;
}

// ---

const basics = setup('cli: import --busybox, images, tag, history, inspect');

basics('import --busybox then images, -q, --digests, --format json', async ({ d }) => {
  const id = (await ok(d.root, ['import', '--busybox', 'busybox'])).trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const table = await ok(d.root, ['images']);
  assert.match(table, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
  assert.match(table, new RegExp(`\\nbusybox\\s+latest\\s+${id.slice(7, 19)}\\s+.*ago\\s+[0-9.]+MB\\n`));
  assert.is((await ok(d.root, ['images', '-q'])).trim(), id.slice(7, 19));
  // imported here, never pulled or pushed: no repo digest, so DIGEST is <none> as in docker
  assert.match(await ok(d.root, ['images', '--digests']), new RegExp(`^REPOSITORY\\s+TAG\\s+DIGEST\\s+IMAGE ID\\s+CREATED\\s+SIZE\\nbusybox\\s+latest\\s+<none>\\s+${id.slice(7, 19)}\\s`));
  assert.is((await ok(d.root, ['images', '--format', '{{.Digest}}'])).trim(), '<none>');
  const json = JSON.parse((await ok(d.root, ['images', '--format', 'json'])).trim().split('\n')[0]!);
  assert.is(json.Digest, '<none>');
  assert.is(json.Repository, 'busybox');
  assert.is(json.Tag, 'latest');
  assert.is(json.ID, id.slice(7, 19));
  assert.is((await ok(d.root, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).trim(), 'busybox:latest');
});

basics('tag adds a name; inspect shows docker\'s fields; history shows the import', async ({ d }) => {
  const id = (await ok(d.root, ['import', '--busybox', 'busybox'])).trim();
  await ok(d.root, ['tag', 'busybox', 'mybox:v1']);
  const rows = (await ok(d.root, ['images'])).trim().split('\n');
  assert.is(rows.length, 3);
  assert.match(rows.join('\n'), /mybox\s+v1\s+/);
  const img = await inspect(d.root, 'mybox:v1');
  assert.is(img.Id, id);
  assert.equal(img.RepoTags, ['busybox:latest', 'mybox:v1']);
  assert.equal(img.Config.Cmd, ['sh']);
  assert.is(img.Architecture, 'amd64');
  assert.is(img.Os, 'linux');
  assert.is(img.RootFS.Type, 'layers');
  assert.is(img.RootFS.Layers.length, 1);
  assert.ok(img.Size > 1_000_000);
  assert.is((await ok(d.root, ['inspect', '-f', '{{.Id}}', id.slice(7, 19)])).trim(), id);
  const hist = await ok(d.root, ['history', 'busybox']);
  assert.match(hist, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n/);
  assert.match(hist, new RegExp(`${id.slice(7, 19)}\\s+.*ago\\s+sbx import --busybox\\s+[0-9.]+MB\\s+Imported from`));
  const hj = JSON.parse((await ok(d.root, ['history', '--format', 'json', '--no-trunc', 'busybox'])).trim());
  assert.is(hj.ID, id);
  const raw = (await ok(d.root, ['history', '--human=false', '--format', '{{.Size}}', 'busybox'])).trim();
  assert.is(Number(raw), img.Size);
});

basics('the same busybox import twice gives the same layer digest (reproducible)', async ({ d }) => {
  await ok(d.root, ['import', '--busybox', 'a']);
  await ok(d.root, ['import', '--busybox', 'b']);
  assert.equal((await inspect(d.root, 'a')).RootFS.Layers, (await inspect(d.root, 'b')).RootFS.Layers);
});

basics('unknown images and bad arguments', async ({ d }) => {
  const r = await sbx(d.root, ['image', 'inspect', 'nope']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /No such object: nope/);
  await fails(d.root, ['history', 'nope'], /^Error: image nope: no such image\n$/);
  await fails(d.root, ['tag', 'nope', 'x'], /image nope: no such image/);
  await ok(d.root, ['import', '--busybox', 'busybox']);
  await fails(d.root, ['tag', 'busybox', 'Bad:Name'], /invalid reference format/);
  const u = await sbx(d.root, ['tag', 'busybox']);
  assert.is(u.code, 1, 'usage error');
});

basics.run();

// ---

const imp = setup('cli: import of tarballs and directories');

imp('import FILE.tar.gz REF -c -m (docker import semantics)', async ({ d, tmp }) => {
  const dir = await rootfsDir(tmp);
  execFileSync('tar', ['-C', dir, '-czf', join(tmp, 'root.tar.gz'), '.']);
  const id = (await ok(d.root, ['import', join(tmp, 'root.tar.gz'), 'myroot:1', '-c', 'CMD ["/bin/sh"]', '-c', 'ENV A=1 B=two', '-m', 'imported'])).trim();
  const img = await inspect(d.root, 'myroot:1');
  assert.is(img.Id, id);
  assert.equal(img.Config.Cmd, ['/bin/sh']);
  assert.equal(img.Config.Env, ['A=1', 'B=two']);
  assert.is(img.Comment, 'imported');
  assert.match(await ok(d.root, ['history', 'myroot:1']), /imported\n$/);
  // stored uncompressed: the layer blob is the diffID
  const layer = img.RootFS.Layers[0] as string;
  assert.ok((await blobs(d.root)).includes(layer.slice(7)));
});

imp('import - (stdin) without a reference gives a dangling image; import DIR', async ({ d, tmp }) => {
  const dir = await rootfsDir(tmp);
  const tarBytes = execFileSync('tar', ['-C', dir, '-cf', '-', '.']);
  const id = (await ok(d.root, ['import', '-'], tarBytes)).trim();
  assert.match(await ok(d.root, ['images']), new RegExp(`<none>\\s+<none>\\s+${id.slice(7, 19)}`));
  assert.is((await inspect(d.root, id.slice(7, 19))).Comment, 'Imported from -');
  await ok(d.root, ['import', dir, 'fromdir']);
  assert.equal((await inspect(d.root, 'fromdir')).RootFS.Layers.length, 1);
});

imp('bad input leaves the store unchanged: corrupt, truncated, unsafe, RUN change', async ({ d, tmp }) => {
  await ok(d.root, ['import', '--busybox', 'busybox']);
  const before = { blobs: await blobs(d.root), index: await indexJson(d.root) };
  const dir = await rootfsDir(tmp);
  const good = execFileSync('tar', ['-C', dir, '-cf', '-', '.']);
  await fails(d.root, ['import', '-', 'x'], /import: not a valid tar archive/, Buffer.alloc(4096, 7));
  await fails(d.root, ['import', '-', 'x'], /import: not a valid tar archive: Unexpected end of data/, good.subarray(0, 700));
  const gz = execFileSync('gzip', ['-c'], { input: good });
  await fails(d.root, ['import', '-', 'x'], /import: bad gzip data/, gz.subarray(0, gz.length - 20));
  await writeFile(join(tmp, 'f'), 'x');
  const evil = execFileSync('tar', ['-C', tmp, '-cf', '-', '--transform', 's,^f$,../../escape,', 'f']);
  await fails(d.root, ['import', '-', 'x'], /import: entry "\.\.\/\.\.\/escape": "\.\." escapes the root/, evil);
  await fails(d.root, ['import', '-', 'x', '-c', 'RUN make'], /change "RUN make": RUN is not a valid change command/, good);
  await fails(d.root, ['import', '-', 'x'], /import: empty input/, Buffer.alloc(0));
  assert.equal(await blobs(d.root), before.blobs);
  assert.is(await indexJson(d.root), before.index);
  assert.equal(await readdir(join(d.root, 'ingest')), []);
});

imp.run();

// ---

const rmi = setup('cli: rmi and garbage collection');

rmi('a layer shared by two images is stored once and survives removing one of them', async ({ d, tmp }) => {
  const dir = await rootfsDir(tmp);
  await ok(d.root, ['import', dir, 'one', '-m', 'first']);
  await ok(d.root, ['import', dir, 'two', '-m', 'second']);
  const [a, b] = [await inspect(d.root, 'one'), await inspect(d.root, 'two')];
  assert.not.equal(a.Id, b.Id);
  assert.equal(a.RootFS.Layers, b.RootFS.Layers);
  assert.is((await blobs(d.root)).length, 5, '1 shared layer + 2 configs + 2 manifests');
  assert.match(await ok(d.root, ['rmi', 'one']), /^Untagged: one:latest\nDeleted: sha256:/);
  const left = await blobs(d.root);
  assert.is(left.length, 3);
  assert.ok(left.includes(a.RootFS.Layers[0].slice(7)), 'the shared layer stays');
  await ok(d.root, ['rmi', 'two']);
  assert.equal(await blobs(d.root), []);
});

rmi('untag vs delete, by tag and by ID, -f', async ({ d }) => {
  const id = (await ok(d.root, ['import', '--busybox', 'busybox'])).trim();
  await ok(d.root, ['tag', 'busybox', 'mybox:v1']);
  const n = (await blobs(d.root)).length;
  assert.is(await ok(d.root, ['rmi', 'mybox:v1']), 'Untagged: mybox:v1\n');
  assert.is((await blobs(d.root)).length, n, 'untag only');
  await ok(d.root, ['tag', 'busybox', 'mybox:v1']);
  await fails(d.root, ['rmi', id.slice(7, 19)], /unable to delete .* \(must be forced\) - image is referenced in multiple repositories/);
  assert.is(await ok(d.root, ['rmi', '-f', id.slice(7, 19)]), `Untagged: busybox:latest\nUntagged: mybox:v1\nDeleted: ${id}\n`);
  assert.equal(await blobs(d.root), []);
  await fails(d.root, ['rmi', 'busybox'], /^Error response from daemon: image busybox: no such image\n$/);
});

rmi('an image a container uses is not removed unless forced, and then stays untagged', async ({ d }) => {
  const id = (await ok(d.root, ['import', '--busybox', 'busybox'])).trim();
  d.daemon.services.imageUsers = async (digest) => (digest === id ? [{ id: 'c0ffee0000000000', running: false }] : []);
  await fails(d.root, ['rmi', 'busybox'], /unable to remove repository reference "busybox" \(must force\) - container c0ffee000000 is using its referenced image/);
  assert.match(await ok(d.root, ['images']), /busybox/);
  assert.is(await ok(d.root, ['rmi', '-f', 'busybox']), 'Untagged: busybox:latest\n');
  assert.match(await ok(d.root, ['images']), new RegExp(`<none>\\s+<none>\\s+${id.slice(7, 19)}`));
  assert.is((await inspect(d.root, id)).Id, id, 'still there for the container');
});

rmi('moving a tag away leaves the old image dangling until it is removed', async ({ d, tmp }) => {
  const dir = await rootfsDir(tmp);
  const old = (await ok(d.root, ['import', dir, 'app', '-m', 'v1'])).trim();
  await ok(d.root, ['import', dir, 'app', '-m', 'v2']);
  assert.match(await ok(d.root, ['images']), new RegExp(`<none>\\s+<none>\\s+${old.slice(7, 19)}`));
  assert.is(await ok(d.root, ['images', '-q', '--filter', 'dangling=true']), `${old.slice(7, 19)}\n`);
  assert.match(await ok(d.root, ['images', '--filter', 'reference=a*', '--format', '{{.Repository}}:{{.Tag}}']), /^app:latest\n$/);
  assert.is(await ok(d.root, ['images', '-q', '--filter', 'reference=zz*']), '');
  assert.match(await ok(d.root, ['rmi', old.slice(7, 19)]), new RegExp(`^Deleted: ${old}\\n$`));
  assert.is((await blobs(d.root)).length, 3);
});

rmi.run();

// ---

const sl = setup('cli: save and load');

sl('save (docker and oci) → rmi → load restores the same image', async ({ d, tmp }) => {
  const id = (await ok(d.root, ['import', '--busybox', 'busybox'])).trim();
  await ok(d.root, ['tag', 'busybox', 'mybox:v1']);
  for (const format of ['docker', 'oci']) {
    const file = join(tmp, `${format}.tar`);
    await ok(d.root, ['save', '--format', format, '-o', file, 'busybox', 'mybox:v1']);
    await ok(d.root, ['rmi', '-f', id]);
    assert.equal(await blobs(d.root), []);
    const out = await ok(d.root, ['load', '-i', file]);
    assert.match(out, /Loaded image: busybox:latest\n/);
    assert.match(out, /Loaded image: mybox:v1\n/);
    assert.is((await inspect(d.root, 'busybox')).Id, id, format);
    assert.is((await inspect(d.root, 'mybox:v1')).Id, id, format);
  }
  // gzip-compressed archive on stdin
  await ok(d.root, ['save', '-o', join(tmp, 'a.tar'), 'busybox']);
  const gz = execFileSync('gzip', ['-c', join(tmp, 'a.tar')], { maxBuffer: 1 << 28 });
  assert.match(await ok(d.root, ['load'], gz), /Loaded image: busybox:latest/);
});

sl('bad archives fail clearly and leave the store unchanged', async ({ d, tmp }) => {
  await ok(d.root, ['import', '--busybox', 'busybox']);
  const file = join(tmp, 'oci.tar');
  await ok(d.root, ['save', '--format', 'oci', '-o', file, 'busybox']);
  await ok(d.root, ['import', '--busybox', 'other']);
  await ok(d.root, ['rmi', 'busybox']); // shares its layer with "other": only config + manifest go
  const before = { blobs: await blobs(d.root), index: await indexJson(d.root) };
  const bytes = await readFile(file);
  await fails(d.root, ['load'], /load: not a valid archive: Unexpected end of data|is missing from the archive/, bytes.subarray(0, Math.floor(bytes.length / 2)));
  // flip one byte in the middle of the layer (the largest member)
  const bad = Buffer.from(bytes);
  bad[Math.floor(bytes.length / 2)] ^= 0xff;
  await fails(d.root, ['load'], /hashes to sha256:.*, expected sha256:|digest/, bad);
  await fails(d.root, ['load'], /load: not a valid archive/, Buffer.alloc(3000, 1));
  await fails(d.root, ['load'], /load: empty input/, Buffer.alloc(0));
  await writeFile(join(tmp, 'notes.txt'), 'not an image\n');
  const notImage = execFileSync('tar', ['-C', tmp, '-cf', '-', 'notes.txt']);
  await fails(d.root, ['load'], /neither manifest.json nor index.json/, notImage);
  assert.equal(await blobs(d.root), before.blobs);
  assert.is(await indexJson(d.root), before.index);
  assert.match(await ok(d.root, ['load', '-i', file]), /Loaded image: busybox:latest/, 'the good archive still loads');
});

sl('an archive that names one tag for two different images is refused', async ({ d, tmp }) => {
  await ok(d.root, ['import', '--busybox', 'a']);
  const dir = await rootfsDir(tmp);
  await ok(d.root, ['import', dir, 'b']);
  await ok(d.root, ['save', '-o', join(tmp, 'two.tar'), 'a', 'b']);
  const x = join(tmp, 'x');
  await mkdir(x);
  execFileSync('tar', ['-C', x, '-xf', join(tmp, 'two.tar')]);
  const manifest = JSON.parse(await readFile(join(x, 'manifest.json'), 'utf8'));
  for (const m of manifest) m.RepoTags = ['dup:1'];
  await writeFile(join(x, 'manifest.json'), JSON.stringify(manifest));
  const bad = execFileSync('tar', ['-C', x, '-cf', '-', '.'], { maxBuffer: 1 << 28 });
  const before = await indexJson(d.root);
  await fails(d.root, ['load'], /load: the archive names dup:1 twice, for different images/, bad);
  assert.is(await indexJson(d.root), before);
});

sl.run();

// ---

const api = setup('api: image routes validate their input');

api('bad requests are invalid_argument / not_found, before any work', async ({ d }) => {
  const { client } = d;
  await rejects(() => client.download(Images.save, { refs: [] }), 'invalid_argument', /name at least one image/);
  await client.upload(Images.import, { busybox: true }, Buffer.alloc(0));
  await rejects(() => client.download(Images.save, { refs: ['busybox'], format: 'zip' as 'oci' }), 'invalid_argument', /format must be one of "oci", "docker"/);
  await rejects(() => client.download(Images.save, { refs: ['nope'] }), 'not_found', /image nope: no such image/);
  await rejects(() => client.upload(Images.import, { busybox: true, path: '/tmp' }, Buffer.alloc(0)), 'invalid_argument', /one source/);
  await rejects(() => client.upload(Images.import, { path: 'relative/dir' }, Buffer.alloc(0)), 'invalid_argument', /absolute path/);
  await rejects(() => client.upload(Images.import, { path: '/nonexistent-sbx-dir' }, Buffer.alloc(0)), 'not_found', /no such directory/);
  await rejects(() => client.upload(Images.import, { busybox: true, reference: 'Bad:Ref' }, Buffer.alloc(0)), 'invalid_argument', /invalid reference format/);
  await rejects(() => client.upload(Images.import, { busybox: true, changes: ['COPY a b'] }, Buffer.alloc(0)), 'invalid_argument', /COPY is not a valid change command/);
  await rejects(() => client.call(Images.tag, { source: 'busybox', target: 'x@sha256:' + 'a'.repeat(64) }), 'invalid_argument', /cannot contain a digest/);
  await rejects(() => client.call(Images.inspect, { ref: 'nope' }), 'not_found');
  await rejects(() => client.call(Images.remove, { ref: 'nope' }), 'not_found');
  await rejects(() => client.upload(Images.load, {}, Buffer.from('garbage'.repeat(100))), 'invalid_argument', /load: not a valid archive/);
});

api.run();

// ---

const gc = setup('gc: collection waits for loads in flight');

gc('an rmi during a slow load does not collect the blobs the load has written', async ({ d, tmp }) => {
  const { client } = d;
  const big = join(tmp, 'big');
  await mkdir(big);
  await writeFile(join(big, 'data'), Buffer.alloc(8 * 1024 * 1024, 7));
  await ok(d.root, ['import', big, 'big']);
  await ok(d.root, ['save', '-o', join(tmp, 'big.tar'), 'big']);
  const layers = ((await inspect(d.root, 'big')).RootFS.Layers as string[]).map((l) => l.slice(7));
  await ok(d.root, ['rmi', 'big']);
  await ok(d.root, ['import', '--busybox', 'victim']);
  const bytes = await readFile(join(tmp, 'big.tar'));
  let rmiDone: Promise<unknown> | undefined;
  // Everything but the archive's last small files: the layer blob is then written but not yet
  // tagged. Once the layer blob is in the store, remove another image (its GC must wait for
  // this load); once its untag shows, send the rest.
  const cut = bytes.length - 4096;
  const body = Readable.from((async function* () {
    for (let off = 0; off < cut; off += 1 << 20) yield bytes.subarray(off, Math.min(cut, off + (1 << 20)));
    await eventually('the loaded layer blob in the store', async () => { const have = await blobs(d.root); return layers.every((l) => have.includes(l)); });
    rmiDone = client.call(Images.remove, { ref: 'victim' });
    await eventually('victim untagged', async () => !(await indexJson(d.root)).includes('victim'));
    yield bytes.subarray(cut);
  })());
  const loaded = await client.upload(Images.load, {}, body);
  assert.equal(loaded.loaded, ['big:latest']);
  assert.ok(rmiDone, 'the rmi ran during the load');
  await rmiDone;
  const img = await inspect(d.root, 'big');
  for (const l of img.RootFS.Layers as string[]) assert.ok((await blobs(d.root)).includes(l.slice(7)), 'layer kept');
  await rejects(() => client.call(Images.inspect, { ref: 'victim' }), 'not_found');
});

gc.run();

// --- docker's image rows, without a daemon

const rowsOf = suite('images: rows and DIGEST as docker builds them');

const d1 = 'sha256:' + '1'.repeat(64);
const d2 = 'sha256:' + '2'.repeat(64);
const summary = (repoTags: string[], repoDigests: string[]): ImageSummary => ({
  id: `sha256:${'a'.repeat(64)}`, digest: `sha256:${'b'.repeat(64)}`, repoTags, repoDigests, created: '2024-01-02T03:04:05Z', size: 1000,
});
const cells = (images: ImageSummary[], digests: boolean): string[] =>
  imageRows(images, { digests }).map((r) => `${r.Repository} ${r.Tag} ${r.Digest}`);

rowsOf('a tag shows the repo digest of its own repository, <none> for a repository without one', () => {
  const img = summary(['127.0.0.1:5000/me/app:1', 'local/alias:1'], [`127.0.0.1:5000/me/app@${d1}`]);
  assert.equal(cells([img], true), [`127.0.0.1:5000/me/app 1 ${d1}`, 'local/alias 1 <none>']);
  assert.equal(cells([img], false), ['127.0.0.1:5000/me/app 1 <none>', 'local/alias 1 <none>'], 'without --digests docker shows <none>');
});

rowsOf('two digests for one repository: a row each; a repository known only by digest: TAG <none>', () => {
  const img = summary(['busybox:latest'], [`busybox@${d1}`, `busybox@${d2}`, `127.0.0.1:5000/x@${d2}`]);
  assert.equal(cells([img], true), [`busybox latest ${d1}`, `busybox latest ${d2}`, `127.0.0.1:5000/x <none> ${d2}`]);
  assert.equal(cells([img], false), ['busybox latest <none>', '127.0.0.1:5000/x <none> ']);
});

rowsOf('an image with neither tags nor digests is one <none> row; the ID is shortened unless noTrunc', () => {
  assert.equal(cells([summary([], [])], true), ['<none> <none> <none>']);
  assert.is(imageRows([summary([], [])], {})[0]!.ID, 'a'.repeat(12));
  assert.is(imageRows([summary([], [])], { noTrunc: true })[0]!.ID, 'sha256:' + 'a'.repeat(64));
});

rowsOf.run();
