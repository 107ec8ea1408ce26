/** The embedded registry, spoken to over HTTP exactly as the distribution spec says. */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import bcrypt from 'bcryptjs';
import { openLocalContentStore } from '../daemon/content/local.js';
import type { ContentStore } from '../daemon/content/store.js';
import { startRegistry, type RegistryServer } from '../daemon/registry/server.js';
import { silentLogger } from '../daemon/util/log.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
/** fetch's typings want a BodyInit; a Buffer is one at run time. */
const B = (b: Buffer): BodyInit => new Uint8Array(b);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Ctx { root: string; content: ContentStore; reg: RegistryServer; url: string }

async function open(ctx: Ctx, opts: { htpasswd?: string; uploadTtlMs?: number } = {}): Promise<void> {
  ctx.root ??= await tmpdir('sbx-reg-');
  ctx.content = await openLocalContentStore(join(ctx.root, 'oci'), join(ctx.root, 'ingest'));
  ctx.reg = await startRegistry({ content: ctx.content, root: join(ctx.root, 'registry'), log: silentLogger, ...opts }, '127.0.0.1:0');
  ctx.url = ctx.reg.url;
}

async function errCode(res: Response): Promise<string> {
  const body = await res.json() as { errors: { code: string }[] };
  return body.errors[0]!.code;
}

async function pushBlob(url: string, repo: string, data: Buffer): Promise<string> {
  const d = sha(data);
  const res = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${d}`, { method: 'POST', body: B(data), headers: { 'content-type': 'application/octet-stream' } });
  assert.is(res.status, 201);
  return d;
}

async function pushImage(url: string, repo: string, tag: string, extra: Record<string, unknown> = {}): Promise<{ digest: string; body: Buffer; config: string; layer: string }> {
  const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, tag }));
  const lay = Buffer.from(`layer of ${repo}:${tag}`);
  const config = await pushBlob(url, repo, cfg);
  const layer = await pushBlob(url, repo, lay);
  const body = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: cfg.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: lay.length }],
    ...extra,
  }));
  const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body, headers: { 'content-type': OCI_MANIFEST } });
  assert.is(res.status, 201, await res.text());
  assert.is(res.headers.get('docker-content-digest'), sha(body));
  return { digest: sha(body), body, config, layer };
}

const s = suite<Ctx>('registry server', {} as Ctx);
s.before.each(async (ctx) => { ctx.root = await tmpdir('sbx-reg-'); await open(ctx); });
s.after.each(async (ctx) => { await ctx.reg.close(); await rmrf(ctx.root); (ctx as Partial<Ctx>).root = undefined; });

s('ping answers 200 with the API version header', async ({ url }) => {
  const res = await fetch(`${url}/v2/`);
  assert.is(res.status, 200);
  assert.is(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
});

s('monolithic upload, HEAD, GET; a wrong digest is DIGEST_INVALID and stores nothing', async ({ url, content }) => {
  const data = Buffer.from('hello blob');
  const d = await pushBlob(url, 'me/app', data);
  const head = await fetch(`${url}/v2/me/app/blobs/${d}`, { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(head.headers.get('content-length'), String(data.length));
  assert.is(head.headers.get('docker-content-digest'), d);
  const get = await fetch(`${url}/v2/me/app/blobs/${d}`);
  assert.equal(Buffer.from(await get.arrayBuffer()), data);
  const ranged = await fetch(`${url}/v2/me/app/blobs/${d}`, { headers: { range: 'bytes=1-3' } });
  assert.is(ranged.status, 206);
  assert.is(await ranged.text(), 'ell');
  const other = await fetch(`${url}/v2/other/blobs/${d}`, { method: 'HEAD' });
  assert.is(other.status, 404, 'a blob is linked per repository');
  const lie = sha('something else');
  const bad = await fetch(`${url}/v2/me/app/blobs/uploads/?digest=${lie}`, { method: 'POST', body: B(data) });
  assert.is(bad.status, 400);
  assert.is(await errCode(bad), 'DIGEST_INVALID');
  assert.not.ok(await content.has(lie as never));
});

s('a blob of several read buffers comes back whole, and ranges across buffer edges are exact', async ({ url }) => {
  const data = randomBytes(3 * (1 << 20) + 12345);
  const d = await pushBlob(url, 'me/big', data);
  // Two clients at once: the buffers they are served from are shared, reused ones.
  const [a, b] = await Promise.all([fetch(`${url}/v2/me/big/blobs/${d}`), fetch(`${url}/v2/me/big/blobs/${d}`)]);
  assert.is(a.headers.get('content-length'), String(data.length));
  assert.ok(Buffer.from(await a.arrayBuffer()).equals(data), 'first client: whole blob');
  assert.ok(Buffer.from(await b.arrayBuffer()).equals(data), 'second client: whole blob');
  const from = (1 << 20) - 7;
  const to = 2 * (1 << 20) + 9;
  const ranged = await fetch(`${url}/v2/me/big/blobs/${d}`, { headers: { range: `bytes=${from}-${to}` } });
  assert.is(ranged.status, 206);
  assert.is(ranged.headers.get('content-range'), `bytes ${from}-${to}/${data.length}`);
  assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(data.subarray(from, to + 1)));
  const tail = await fetch(`${url}/v2/me/big/blobs/${d}`, { headers: { range: 'bytes=-5' } });
  assert.ok(Buffer.from(await tail.arrayBuffer()).equals(data.subarray(-5)));
  const beyond = await fetch(`${url}/v2/me/big/blobs/${d}`, { headers: { range: `bytes=${data.length}-` } });
  await beyond.arrayBuffer();
  assert.is(beyond.status, 416);
  // A client that goes away mid-blob leaves the registry serving others.
  const ac = new AbortController();
  const gone = await fetch(`${url}/v2/me/big/blobs/${d}`, { signal: ac.signal });
  await gone.body!.getReader().read();
  ac.abort();
  const again = await fetch(`${url}/v2/me/big/blobs/${d}`);
  assert.ok(Buffer.from(await again.arrayBuffer()).equals(data));
});

s('malformed digests and names are 400, never 500', async ({ url }) => {
  for (const path of ['/v2/me/app/manifests/sha256:totallywrong', '/v2/me/app/blobs/sha256:xyz', '/v2/me/app/blobs/md5:abc', '/v2/me/app/referrers/nope:1']) {
    const res = await fetch(url + path);
    assert.is(res.status, 400, path);
    assert.is(await errCode(res), 'DIGEST_INVALID', path);
  }
  const badName = await fetch(`${url}/v2/Me/App/tags/list`);
  assert.is(badName.status, 400);
  assert.is(await errCode(badName), 'NAME_INVALID');
  const unknown = await fetch(`${url}/v2/nobody/tags/list`);
  assert.is(unknown.status, 404);
  assert.is(await errCode(unknown), 'NAME_UNKNOWN');
  const nothing = await fetch(`${url}/v2/me/app/blobs/${sha('x')}`);
  assert.is(nothing.status, 404);
  assert.is(await errCode(nothing), 'BLOB_UNKNOWN');
});

s('a manifest read by a malformed tag is unknown (404 MANIFEST_UNKNOWN, as the conformance suite expects); a put by one is 400', async ({ url }) => {
  const { body } = await pushImage(url, 'me/app', 'v1');
  // The suite's own "nonexistent manifest" is ".INVALID_MANIFEST_NAME".
  for (const tag of ['.INVALID_MANIFEST_NAME', '-dash', 'a'.repeat(129), 'white%20space']) {
    const head = await fetch(`${url}/v2/me/app/manifests/${tag}`, { method: 'HEAD' });
    assert.is(head.status, 404, `HEAD ${tag}`);
    const get = await fetch(`${url}/v2/me/app/manifests/${tag}`, { headers: { accept: OCI_MANIFEST } });
    assert.is(get.status, 404, `GET ${tag}`);
    assert.is(await errCode(get), 'MANIFEST_UNKNOWN', `GET ${tag}`);
    const del = await fetch(`${url}/v2/me/app/manifests/${tag}`, { method: 'DELETE' });
    assert.is(del.status, 404, `DELETE ${tag}`);
    assert.is(await errCode(del), 'MANIFEST_UNKNOWN', `DELETE ${tag}`);
  }
  const put = await fetch(`${url}/v2/me/app/manifests/.INVALID_MANIFEST_NAME`, { method: 'PUT', body: B(body), headers: { 'content-type': OCI_MANIFEST } });
  assert.is(put.status, 400);
  assert.is(await errCode(put), 'MANIFEST_INVALID');
  const good = await fetch(`${url}/v2/me/app/manifests/v1`, { method: 'HEAD' });
  assert.is(good.status, 200, 'the good tag still answers');
});

s('chunked upload with Content-Range; an out-of-order chunk is 416', async ({ url }) => {
  const data = Buffer.from('0123456789abcdefghij');
  const start = await fetch(`${url}/v2/me/app/blobs/uploads/`, { method: 'POST' });
  assert.is(start.status, 202);
  const loc = new URL(start.headers.get('location')!, url).toString();
  assert.ok(start.headers.get('docker-upload-uuid'));
  const p1 = await fetch(loc, { method: 'PATCH', body: B(data.subarray(0, 8)), headers: { 'content-range': '0-7', 'content-type': 'application/octet-stream' } });
  assert.is(p1.status, 202);
  assert.is(p1.headers.get('range'), '0-7');
  const skip = await fetch(loc, { method: 'PATCH', body: B(data.subarray(12)), headers: { 'content-range': '12-19' } });
  assert.is(skip.status, 416);
  assert.is(skip.headers.get('range'), '0-7');
  const st = await fetch(loc);
  assert.is(st.status, 204);
  assert.is(st.headers.get('range'), '0-7');
  const p2 = await fetch(loc, { method: 'PATCH', body: B(data.subarray(8, 16)), headers: { 'content-range': '8-15' } });
  assert.is(p2.status, 202);
  const put = await fetch(`${loc}?digest=${sha(data)}`, { method: 'PUT', body: B(data.subarray(16)) });
  assert.is(put.status, 201);
  assert.is(put.headers.get('location'), `/v2/me/app/blobs/${sha(data)}`);
  const get = await fetch(`${url}/v2/me/app/blobs/${sha(data)}`);
  assert.equal(Buffer.from(await get.arrayBuffer()), data);
  const gone = await fetch(loc);
  assert.is(gone.status, 404);
  assert.is(await errCode(gone), 'BLOB_UPLOAD_UNKNOWN');
});

s('a chunked upload that does not hash to its digest is DIGEST_INVALID', async ({ url, content }) => {
  const start = await fetch(`${url}/v2/me/app/blobs/uploads/`, { method: 'POST' });
  const loc = new URL(start.headers.get('location')!, url).toString();
  await fetch(loc, { method: 'PATCH', body: 'abc' });
  const lie = sha('abd');
  const put = await fetch(`${loc}?digest=${lie}`, { method: 'PUT' });
  assert.is(put.status, 400);
  assert.is(await errCode(put), 'DIGEST_INVALID');
  assert.not.ok(await content.has(lie as never));
});

s('cross-repository mount: 201 when the source has the blob, 202 (an upload) otherwise', async ({ url }) => {
  const d = await pushBlob(url, 'a/src', Buffer.from('shared layer'));
  const ok = await fetch(`${url}/v2/b/dst/blobs/uploads/?mount=${d}&from=a/src`, { method: 'POST' });
  assert.is(ok.status, 201);
  assert.is(ok.headers.get('docker-content-digest'), d);
  assert.is((await fetch(`${url}/v2/b/dst/blobs/${d}`, { method: 'HEAD' })).status, 200);
  const miss = await fetch(`${url}/v2/c/dst/blobs/uploads/?mount=${d}&from=nowhere`, { method: 'POST' });
  assert.is(miss.status, 202);
  assert.match(miss.headers.get('location')!, /^\/v2\/c\/dst\/blobs\/uploads\//);
});

s('manifests: missing blob refused; bytes and media type preserved; by tag and digest; delete', async ({ url }) => {
  const orphan = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha('nope'), size: 4 }, layers: [] }));
  const refused = await fetch(`${url}/v2/me/app/manifests/v0`, { method: 'PUT', body: B(orphan), headers: { 'content-type': OCI_MANIFEST } });
  assert.is(refused.status, 400);
  assert.is(await errCode(refused), 'MANIFEST_BLOB_UNKNOWN');
  const img = await pushImage(url, 'me/app', 'v1');
  for (const ref of ['v1', img.digest]) {
    const get = await fetch(`${url}/v2/me/app/manifests/${ref}`, { headers: { accept: OCI_MANIFEST } });
    assert.is(get.status, 200);
    assert.is(get.headers.get('content-type'), OCI_MANIFEST);
    assert.is(get.headers.get('docker-content-digest'), img.digest);
    assert.equal(Buffer.from(await get.arrayBuffer()), img.body);
    const head = await fetch(`${url}/v2/me/app/manifests/${ref}`, { method: 'HEAD' });
    assert.is(head.status, 200);
    assert.is(head.headers.get('content-length'), String(img.body.length));
  }
  const wrong = await fetch(`${url}/v2/me/app/manifests/${sha('other')}`, { method: 'PUT', body: B(img.body), headers: { 'content-type': OCI_MANIFEST } });
  assert.is(wrong.status, 400);
  assert.is(await errCode(wrong), 'DIGEST_INVALID');
  const badType = await fetch(`${url}/v2/me/app/manifests/v2`, { method: 'PUT', body: B(img.body), headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' } });
  assert.is(badType.status, 400);
  assert.is(await errCode(badType), 'MANIFEST_INVALID');
  // delete by tag keeps the manifest; delete by digest removes it and its tags
  await pushImage(url, 'me/app', 'v2');
  assert.is((await fetch(`${url}/v2/me/app/manifests/v2`, { method: 'DELETE' })).status, 202);
  assert.is((await fetch(`${url}/v2/me/app/manifests/v2`)).status, 404);
  assert.is((await fetch(`${url}/v2/me/app/manifests/${img.digest}`, { method: 'DELETE' })).status, 202);
  const gone = await fetch(`${url}/v2/me/app/manifests/v1`);
  assert.is(gone.status, 404);
  assert.is(await errCode(gone), 'MANIFEST_UNKNOWN');
  assert.is((await fetch(`${url}/v2/me/app/blobs/${img.layer}`, { method: 'DELETE' })).status, 202);
  assert.is((await fetch(`${url}/v2/me/app/blobs/${img.layer}`, { method: 'HEAD' })).status, 404);
});

s('an index is accepted only once the manifests it lists are there', async ({ url }) => {
  const img = await pushImage(url, 'me/multi', 'amd64');
  const index = (digests: string[]): Buffer => Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: digests.map((d) => ({ mediaType: OCI_MANIFEST, digest: d, size: img.body.length, platform: { os: 'linux', architecture: 'amd64' } })),
  }));
  const bad = await fetch(`${url}/v2/me/multi/manifests/latest`, { method: 'PUT', body: B(index([sha('missing')])), headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' } });
  assert.is(bad.status, 400);
  assert.is(await errCode(bad), 'MANIFEST_BLOB_UNKNOWN');
  const good = await fetch(`${url}/v2/me/multi/manifests/latest`, { method: 'PUT', body: B(index([img.digest])), headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' } });
  assert.is(good.status, 201);
});

s('tags/list is sorted and paginates with n/last and a Link header; _catalog too', async ({ url }) => {
  for (const t of ['b', 'c', 'a', 'd']) await pushImage(url, 'me/tags', t);
  await pushImage(url, 'other/repo', 'x');
  const all = await fetch(`${url}/v2/me/tags/tags/list`);
  assert.equal(await all.json(), { name: 'me/tags', tags: ['a', 'b', 'c', 'd'] });
  assert.is(all.headers.get('link'), null);
  const p1 = await fetch(`${url}/v2/me/tags/tags/list?n=2`);
  assert.equal((await p1.json() as { tags: string[] }).tags, ['a', 'b']);
  assert.is(p1.headers.get('link'), '</v2/me/tags/tags/list?n=2&last=b>; rel="next"');
  const p2 = await fetch(`${url}/v2/me/tags/tags/list?n=2&last=b`);
  assert.equal((await p2.json() as { tags: string[] }).tags, ['c', 'd']);
  assert.is(p2.headers.get('link'), null);
  const cat = await fetch(`${url}/v2/_catalog?n=1`);
  assert.equal(await cat.json(), { repositories: ['me/tags'] });
  assert.match(cat.headers.get('link')!, /last=me%2Ftags/);
  const cat2 = await fetch(`${url}/v2/_catalog?n=1&last=me/tags`);
  assert.equal(await cat2.json(), { repositories: ['other/repo'] });
});

s('referrers: manifests with a subject are listed, OCI-Subject answered, artifactType filters', async ({ url }) => {
  const img = await pushImage(url, 'me/ref', 'v1');
  const subject = { mediaType: OCI_MANIFEST, digest: img.digest, size: img.body.length };
  const empty = await fetch(`${url}/v2/me/ref/referrers/${img.digest}`);
  assert.is(empty.status, 200);
  assert.is(empty.headers.get('content-type'), 'application/vnd.oci.image.index.v1+json');
  assert.equal((await empty.json() as { manifests: unknown[] }).manifests, []);
  const emptyCfg = await pushBlob(url, 'me/ref', Buffer.from('{}'));
  const sigBody = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sig',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyCfg, size: 2 }, layers: [], subject,
    annotations: { 'org.example': 'yes' },
  }));
  const put = await fetch(`${url}/v2/me/ref/manifests/${sha(sigBody)}`, { method: 'PUT', body: B(sigBody), headers: { 'content-type': OCI_MANIFEST } });
  assert.is(put.status, 201);
  assert.is(put.headers.get('oci-subject'), img.digest);
  const list = await fetch(`${url}/v2/me/ref/referrers/${img.digest}`);
  const idx = await list.json() as { manifests: { digest: string; artifactType: string; annotations: Record<string, string> }[] };
  assert.is(idx.manifests.length, 1);
  assert.is(idx.manifests[0]!.digest, sha(sigBody));
  assert.is(idx.manifests[0]!.artifactType, 'application/vnd.example.sig');
  assert.is(idx.manifests[0]!.annotations['org.example'], 'yes');
  const filtered = await fetch(`${url}/v2/me/ref/referrers/${img.digest}?artifactType=application/vnd.other`);
  assert.is(filtered.headers.get('oci-filters-applied'), 'artifactType');
  assert.equal((await filtered.json() as { manifests: unknown[] }).manifests, []);
});

s('registry tags are not local image tags', async ({ url, root }) => {
  await pushImage(url, 'me/app', 'v1');
  const index = await readdir(join(root, 'oci'));
  assert.not.ok(index.includes('index.json'), 'a push to the embedded registry does not touch the image store index');
});

s.run();

// ---

const exp = suite<Ctx>('registry upload expiry', {} as Ctx);
exp.before.each(async (ctx) => { ctx.root = await tmpdir('sbx-reg-'); await open(ctx, { uploadTtlMs: 150 }); });
exp.after.each(async (ctx) => { await ctx.reg.close(); await rmrf(ctx.root); (ctx as Partial<Ctx>).root = undefined; });

exp('an abandoned upload session expires and leaves nothing behind', async ({ url, root }) => {
  const start = await fetch(`${url}/v2/me/app/blobs/uploads/`, { method: 'POST' });
  const loc = new URL(start.headers.get('location')!, url).toString();
  await fetch(loc, { method: 'PATCH', body: 'partial' });
  assert.is((await readdir(join(root, 'ingest'))).length, 1);
  // The sweep forgets the session, then removes its partial blob.
  await eventually('the abandoned upload swept', async () => (await readdir(join(root, 'ingest'))).length === 0, 5000);
  const res = await fetch(loc, { method: 'PATCH', body: 'more' });
  assert.is(res.status, 404);
  assert.is(await errCode(res), 'BLOB_UPLOAD_UNKNOWN');
  assert.is((await readdir(join(root, 'ingest'))).length, 0);
});

exp.run();

// ---

const auth = suite<Ctx>('registry htpasswd auth', {} as Ctx);
auth.before.each(async (ctx) => {
  ctx.root = await tmpdir('sbx-reg-');
  const file = join(ctx.root, 'htpasswd');
  await writeFile(file, `me:${bcrypt.hashSync('secret', 5).replace(/^\$2b\$/, '$2y$')}\n`);
  await open(ctx, { htpasswd: file });
});
auth.after.each(async (ctx) => { await ctx.reg.close(); await rmrf(ctx.root); (ctx as Partial<Ctx>).root = undefined; });

auth('without or with wrong credentials: 401 UNAUTHORIZED with a Basic challenge', async ({ url }) => {
  const none = await fetch(`${url}/v2/`);
  assert.is(none.status, 401);
  assert.match(none.headers.get('www-authenticate')!, /^Basic realm=/);
  assert.is(await errCode(none), 'UNAUTHORIZED');
  const wrong = await fetch(`${url}/v2/`, { headers: { authorization: `Basic ${Buffer.from('me:nope').toString('base64')}` } });
  assert.is(wrong.status, 401);
  const ok = await fetch(`${url}/v2/`, { headers: { authorization: `Basic ${Buffer.from('me:secret').toString('base64')}` } });
  assert.is(ok.status, 200);
});

auth.run();
