/** sbx pull/push/login/logout through the daemon, against sbx's embedded registry and a lying one. */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { writeFile } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import bcrypt from 'bcryptjs';
import { Images, parseReference } from '../protocol/index.js';
import { openLocalContentStore } from '../daemon/content/local.js';
import { localSource } from '../daemon/images/local-transfer.js';
import { copyImage } from '../daemon/images/transfer.js';
import { CredentialStore, RegistryClient } from '../daemon/remotes/client.js';
import type { CompressedSink } from '../daemon/images/compress.js';
import { startRegistry, type RegistryServer } from '../daemon/registry/server.js';
import { silentLogger } from '../daemon/util/log.js';
import { SBX_BIN, sbx } from './_helpers/cli.js';
import { spawn } from 'node:child_process';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { startFakeRegistry, type FakeBehaviour } from './_helpers/fake-registry.js';
import { makeBusyboxImage } from './_helpers/image.js';
import { freePort } from './_helpers/peers.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function embedded(opts: { htpasswd?: string } = {}): Promise<{ reg: RegistryServer; dir: string; close(): Promise<void> }> {
  const dir = await tmpdir('sbx-remote-');
  const content = await openLocalContentStore(join(dir, 'oci'), join(dir, 'ingest'));
  const reg = await startRegistry({ content, root: join(dir, 'registry'), log: silentLogger, ...opts }, '127.0.0.1:0');
  return { reg, dir, async close() { await reg.close(); await rmrf(dir); } };
}

interface Ctx { d: TestDaemon; d2: TestDaemon; remote: Awaited<ReturnType<typeof embedded>> }

const s = suite<Ctx>('push and pull with the embedded registry', {} as Ctx);
s.before.each(async (ctx) => { ctx.d = await startTestDaemon(); ctx.d2 = await startTestDaemon(); ctx.remote = await embedded(); });
s.after.each(async (ctx) => { await ctx.d.close(); await ctx.d2.close(); await ctx.remote.close(); });

s('push compresses once, prints per-layer progress, then "Layer already exists" and mounts', async ({ d, remote }) => {
  const host = remote.reg.host;
  const img = await makeBusyboxImage(d.daemon.services, `${host}/me/bb:1`);
  const r = await sbx(d.root, ['push', `${host}/me/bb:1`]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, `The push refers to repository [${host}/me/bb]`);
  assert.match(r.stdout, /: Pushed\n/);
  const m = /^1: digest: (sha256:[a-f0-9]{64}) size: (\d+)$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  const res = await fetch(`${remote.reg.url}/v2/me/bb/manifests/1`);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.is(sha(bytes), m![1]);
  const manifest = JSON.parse(bytes.toString()) as { layers: { mediaType: string; digest: string }[]; config: { digest: string } };
  assert.is(manifest.layers[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.is(manifest.config.digest, img.configDigest);
  const blob = Buffer.from(await (await fetch(`${remote.reg.url}/v2/me/bb/blobs/${manifest.layers[0]!.digest}`)).arrayBuffer());
  assert.is(sha(gunzipSync(blob)), img.diffId, 'the pushed layer decompresses to the diffID');
  assert.is((await readdir(join(d.root, 'cache', 'gzip'))).length, 1, 'compressed digest cached per diffID');

  const again = await sbx(d.root, ['push', `${host}/me/bb:1`]);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, /: Layer already exists\n/);
  assert.not.match(again.stdout, /: Pushed\n/);

  await d.daemon.services.images.put(`${host}/other/bb:2`, img.manifest);
  const mount = await sbx(d.root, ['push', `${host}/other/bb:2`]);
  assert.is(mount.code, 0, mount.stderr);
  assert.match(mount.stdout, /: Mounted from me\/bb\n/);
});

s('pull into another daemon: verified, tagged, then "Image is up to date"', async ({ d, d2, remote }) => {
  const host = remote.reg.host;
  const img = await makeBusyboxImage(d.daemon.services, `${host}/me/bb:1`);
  assert.is((await sbx(d.root, ['push', `${host}/me/bb:1`])).code, 0);
  const r = await sbx(d2.root, ['pull', `${host}/me/bb:1`]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, '1: Pulling from ' + `${host}/me/bb`);
  assert.match(r.stdout, /: Pull complete\n/);
  assert.match(r.stdout, `Status: Downloaded newer image for ${host}/me/bb:1`);
  const stored = await d2.daemon.services.images.get(`${host}/me/bb:1`);
  const cfg = JSON.parse((await d2.daemon.services.content.readBytes(JSON.parse((await d2.daemon.services.content.readBytes(stored.target.digest)).toString()).config.digest)).toString());
  assert.equal(cfg.rootfs.diff_ids, [img.diffId]);
  const again = await sbx(d2.root, ['pull', `${host}/me/bb:1`]);
  assert.match(again.stdout, /Already exists/);
  assert.match(again.stdout, 'Status: Image is up to date');
});

s('RepoDigests: none for an image built here; the registry digest after push and after pull, like docker', async ({ d, d2, remote }) => {
  const host = remote.reg.host;
  await makeBusyboxImage(d.daemon.services, `${host}/me/rd:1`);
  const inspectOf = async (root: string, ref: string): Promise<{ RepoDigests: string[] }> => {
    const r = await sbx(root, ['image', 'inspect', ref]);
    assert.is(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { RepoDigests: string[] }[])[0]!;
  };
  assert.equal((await inspectOf(d.root, `${host}/me/rd:1`)).RepoDigests, [], 'never pushed or pulled');
  const push = await sbx(d.root, ['push', `${host}/me/rd:1`]);
  assert.is(push.code, 0, push.stderr);
  const pushed = /digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)![1]!;
  assert.equal((await inspectOf(d.root, `${host}/me/rd:1`)).RepoDigests, [`${host}/me/rd@${pushed}`], 'the pushed manifest digest (layers compressed), not the local one');
  const tagged = await sbx(d.root, ['tag', `${host}/me/rd:1`, 'local/alias:1']);
  assert.is(tagged.code, 0, tagged.stderr);
  assert.equal((await inspectOf(d.root, 'local/alias:1')).RepoDigests, [`${host}/me/rd@${pushed}`], 'repo digests belong to the image, whatever name shows it');
  // `sbx images --digests`: a row's DIGEST is the repo digest of the row's own repository, as docker shows it
  const listing = await sbx(d.root, ['images', '--digests', '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}']);
  assert.is(listing.code, 0, listing.stderr);
  assert.equal(listing.stdout.trim().split('\n').sort(), [`${host}/me/rd:1 ${pushed}`, 'local/alias:1 <none>']);
  const table = await sbx(d.root, ['images', '--digests', `${host}/me/rd`]);
  assert.match(table.stdout, new RegExp(`\\n${host.replace(/\./g, '\\.')}/me/rd\\s+1\\s+${pushed}\\s+[0-9a-f]{12}\\s`));
  const byDigest = await sbx(d.root, ['image', 'inspect', `${host}/me/rd@${pushed}`]);
  assert.is(byDigest.code, 0, `the pushed digest names the local image: ${byDigest.stderr}`);
  const pull = await sbx(d2.root, ['pull', `${host}/me/rd:1`]);
  assert.is(pull.code, 0, pull.stderr);
  assert.equal((await inspectOf(d2.root, `${host}/me/rd:1`)).RepoDigests, [`${host}/me/rd@${pushed}`]);
  const listed = await d2.client.call(Images.list, {});
  assert.equal(listed.find((i) => i.repoTags.includes(`${host}/me/rd:1`))!.repoDigests, [`${host}/me/rd@${pushed}`]);
});

s('a layer compressed for a push is uploaded while it is compressed; a broken stream falls back to a normal upload', async ({ d, remote }) => {
  const host = remote.reg.host;
  // Several gzip members, stored (random) and deflated (text).
  const big = Buffer.concat([randomBytes(5 << 20), Buffer.from('sbx text line\n'.repeat(300000))]);
  const img = await makeBusyboxImage(d.daemon.services, `${host}/me/pipe:1`, { 'big.bin': big });
  const client = new RegistryClient({ credentials: new CredentialStore(join(d.root, 'auth.json')) });
  for (const [repo, broken] of [['me/pipe', false], ['me/pipe2', true]] as const) {
    const dst = client.destination(parseReference(`${host}/${repo}:1`));
    const sent = new Set<string>();
    const sink: CompressedSink = broken
      ? async (body) => { body.destroy(); throw new Error('connection reset'); }
      : (body, done) => dst.putStream!(body, done);
    // A cache of its own: the layer is compressed now, not found compressed.
    const src = localSource(d.daemon.services, `${host}/me/pipe:1`, { compress: true, cacheDir: join(d.root, 'cache', `gzip-${broken}`), sent, sink });
    const statuses: string[] = [];
    await copyImage(src, dst, { direction: 'push', sent, onProgress: (e) => { if (e.type === 'progress' && e.status) statuses.push(e.status); } });
    assert.is(sent.size, broken ? 0 : 1, broken ? 'nothing counts as sent' : 'the layer went up while compressed');
    assert.ok(statuses.includes('Pushed'), statuses.join());
    const manifest = JSON.parse(await (await fetch(`${remote.reg.url}/v2/${repo}/manifests/1`)).text()) as { layers: { digest: string }[] };
    const blob = Buffer.from(await (await fetch(`${remote.reg.url}/v2/${repo}/blobs/${manifest.layers[0]!.digest}`)).arrayBuffer());
    assert.is(sha(blob), manifest.layers[0]!.digest);
    assert.is(sha(gunzipSync(blob)), img.diffId, 'the multi-member layer decompresses to exactly the layer');
  }
});

s('chunked upload (PATCH with Content-Range) gives the same manifest as a monolithic one', async ({ d, remote }) => {
  const host = remote.reg.host;
  await makeBusyboxImage(d.daemon.services, `${host}/me/chunked:1`);
  const client = new RegistryClient({ credentials: new CredentialStore(join(d.root, 'auth.json')), chunkSize: 64 * 1024 });
  const src = localSource(d.daemon.services, `${host}/me/chunked:1`, { compress: true, cacheDir: join(d.root, 'cache', 'gzip') });
  const r = await copyImage(src, client.destination(parseReference(`${host}/me/chunked:1`)), { direction: 'push' });
  const res = await fetch(`${remote.reg.url}/v2/me/chunked/manifests/1`);
  assert.is(res.headers.get('docker-content-digest'), r.manifest.digest);
  const layer = JSON.parse(await res.text()).layers[0];
  assert.ok(layer.size > 64 * 1024, 'the layer needed several chunks');
  const head = await fetch(`${remote.reg.url}/v2/me/chunked/blobs/${layer.digest}`, { method: 'HEAD' });
  assert.is(head.status, 200);
});

s('bad input: a bad reference, a missing local image, an unreachable host', async ({ d }) => {
  const bad = await sbx(d.root, ['pull', 'Bad::Ref']);
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /invalid reference format/);
  const missing = await sbx(d.root, ['push', '127.0.0.1:1/none:1']);
  assert.is(missing.code, 125);
  assert.match(missing.stderr, /an image does not exist locally with the tag 127\.0\.0\.1:1\/none:1/);
  const port = await freePort();
  const unreachable = await sbx(d.root, ['pull', `127.0.0.1:${port}/me/app:1`]);
  assert.is(unreachable.code, 125);
  assert.is(unreachable.stderr, `Error: cannot reach registry 127.0.0.1:${port}: connection refused\n`);
  assert.equal(await d.daemon.services.images.list(), []);
});

s.run();

// ---

const auth = suite<Ctx & { htpasswd: string }>('login to a registry with htpasswd', {} as Ctx & { htpasswd: string });
auth.before.each(async (ctx) => {
  ctx.d = await startTestDaemon();
  ctx.htpasswd = join(ctx.d.root, 'htpasswd');
  await writeFile(ctx.htpasswd, `me:${bcrypt.hashSync('secret', 5)}\n`);
  ctx.remote = await embedded({ htpasswd: ctx.htpasswd });
});
auth.after.each(async (ctx) => { await ctx.d.close(); await ctx.remote.close(); });

auth('a 401 names the registry and says to log in; login stores 0600 credentials; logout removes them', async ({ d, remote }) => {
  const host = remote.reg.host;
  await makeBusyboxImage(d.daemon.services, `${host}/me/bb:1`);
  const refused = await sbx(d.root, ['push', `${host}/me/bb:1`]);
  assert.is(refused.code, 125);
  assert.match(refused.stderr, `registry ${host} refused`);
  assert.match(refused.stderr, `run "sbx login ${host}"`);
  const wrong = await sbx(d.root, ['login', host, '-u', 'me', '--password-stdin'], { input: 'nope\n' });
  assert.is(wrong.code, 125);
  assert.match(wrong.stderr, `login to ${host}: wrong user name or password for me`);
  const ok = await sbx(d.root, ['login', host, '-u', 'me', '--password-stdin'], { input: 'secret\n' });
  assert.is(ok.code, 0, ok.stderr);
  assert.is(ok.stdout, 'Login Succeeded\n');
  assert.is((await stat(join(d.root, 'auth.json'))).mode & 0o777, 0o600);
  const pushed = await sbx(d.root, ['push', `${host}/me/bb:1`]);
  assert.is(pushed.code, 0, pushed.stderr);
  const out = await sbx(d.root, ['logout', host]);
  assert.is(out.stdout, `Removing login credentials for ${host}\n`);
  const again = await sbx(d.root, ['push', `${host}/me/bb:1`]);
  assert.is(again.code, 125);
});

auth.run();

// ---

interface FCtx { d: TestDaemon }
const lies = suite<FCtx>('a registry that misbehaves', {} as FCtx);
lies.before.each(async (ctx) => { ctx.d = await startTestDaemon(); });
lies.after.each(async (ctx) => { await ctx.d.close(); });

async function pullFrom(d: TestDaemon, behaviour: FakeBehaviour | ((layer: string) => FakeBehaviour)) {
  const fake = await startFakeRegistry();
  Object.assign(fake.behaviour, typeof behaviour === 'function' ? behaviour(fake.image.layerDigest) : behaviour);
  try {
    const r = await sbx(d.root, ['pull', `${fake.host}/me/app:1`]);
    return { r, fake };
  } finally {
    await fake.close();
  }
}

lies('a manifest listing a blob the registry lacks: clear error, nothing tagged', async ({ d }) => {
  const { r, fake } = await pullFrom(d, (layer) => ({ missingBlob: layer }));
  assert.is(r.code, 125);
  assert.match(r.stderr, `blob ${fake.image.layerDigest} listed by the manifest is missing from registry ${fake.host}`);
  assert.equal(await d.daemon.services.images.list(), []);
});

lies('a registry sending wrong bytes for a blob: digest mismatch, blob not stored, nothing tagged', async ({ d }) => {
  const { r, fake } = await pullFrom(d, (layer) => ({ corruptBlob: { digest: layer, bytes: Buffer.from('evil bytes') } }));
  assert.is(r.code, 125);
  assert.match(r.stderr, `blob ${fake.image.layerDigest}`);
  assert.match(r.stderr, /hashes to|bytes, expected/);
  assert.not.ok(await d.daemon.services.content.has(fake.image.layerDigest as never));
  assert.equal(await d.daemon.services.images.list(), []);
});

lies('a registry lying about the manifest digest is refused', async ({ d }) => {
  const { r } = await pullFrom(d, { lieManifestDigest: sha(Buffer.from('other')) });
  assert.is(r.code, 125);
  assert.match(r.stderr, /sent a manifest hashing to sha256:[a-f0-9]+ but called it/);
  assert.equal(await d.daemon.services.images.list(), []);
});

lies('a layer whose content does not match the config diff_id is refused', async ({ d }) => {
  const fake = await startFakeRegistry({}, (await import('./_helpers/fake-registry.js')).fakeImage('x'));
  // Rebuild the image so its config names a different diff_id than its layer has.
  const img = fake.image;
  const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(Buffer.from('not x'))] } }));
  await fake.close();
  const bad = { ...img, config: cfg, manifest: Buffer.from(img.manifest.toString().replace(sha(img.config), sha(cfg)).replace(`"size":${img.config.length}`, `"size":${cfg.length}`)) };
  const fake2 = await startFakeRegistry({}, { ...bad, manifestDigest: sha(bad.manifest) });
  try {
    const r = await sbx(d.root, ['pull', `${fake2.host}/me/app:1`]);
    assert.is(r.code, 125);
    assert.match(r.stderr, /uncompressed content hashes to sha256:[a-f0-9]+, the image config says/);
    assert.equal(await d.daemon.services.images.list(), []);
  } finally {
    await fake2.close();
  }
});

lies('503 and 429 (Retry-After) are retried; the pull then succeeds', async ({ d }) => {
  for (const status of [503, 429]) {
    const { r, fake } = await pullFrom(d, { failFirst: { status, count: 2 } });
    assert.is(r.code, 0, r.stderr);
    assert.ok(fake.requests.filter((x) => x.includes('/blobs/')).length >= 3, 'two failures, then the blob');
    await d.daemon.services.images.delete(`${fake.host}/me/app:1`);
  }
});

lies('a connection dropped in the middle of a layer: the layer is fetched again', async ({ d }) => {
  const fake = await startFakeRegistry({ resetLayer: 1 }, (await import('./_helpers/fake-registry.js')).fakeImage('z'.repeat(300000)));
  try {
    const r = await sbx(d.root, ['pull', `${fake.host}/me/app:1`]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /Retrying in 1 second/);
    assert.is(fake.requests.filter((x) => x.includes(fake.image.layerDigest)).length, 2);
    assert.equal((await d.daemon.services.images.list()).length, 1);
  } finally {
    await fake.close();
  }
});

lies('Bearer token auth through the WWW-Authenticate challenge (realm, service, scope)', async ({ d }) => {
  const { r, fake } = await pullFrom(d, { bearer: true });
  assert.is(r.code, 0, r.stderr);
  const q = fake.tokenQueries[0]!;
  assert.is(q.get('service'), 'fake-registry');
  assert.is(q.get('scope'), 'repository:me/app:pull');
  assert.is(fake.tokenQueries.length, 1, 'the token is cached');
});

lies('Ctrl-C during a pull leaves no image and no partial blob', async ({ d }) => {
  const fake = await startFakeRegistry({}, (await import('./_helpers/fake-registry.js')).fakeImage('y'.repeat(200000)));
  fake.behaviour.stallBlob = fake.image.layerDigest;
  try {
    const child = spawn(SBX_BIN, ['pull', `${fake.host}/me/app:1`], { env: { ...process.env, SBX_ROOT: d.root, SBX_NO_AUTOSTART: '1' }, stdio: 'ignore' });
    const ingest = join(d.root, 'ingest');
    // The layer is being received into a partial blob when Ctrl-C comes.
    await eventually('a partial layer blob in ingest/', async () =>
      fake.requests.some((r) => r.includes(fake.image.layerDigest)) && (await readdir(ingest)).length > 0);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
    await eventually('ingest/ emptied', async () => (await readdir(ingest)).length === 0).catch(() => undefined);
    assert.equal(await readdir(join(d.root, 'ingest')), [], 'the partial download was removed');
    assert.not.ok(await d.daemon.services.content.has(fake.image.layerDigest as never));
    assert.equal(await d.daemon.services.images.list(), []);
  } finally {
    await fake.close();
  }
});

lies.run();
