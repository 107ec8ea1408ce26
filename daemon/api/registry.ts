/** pull, push, login, logout: the registry client behind the API. */
import { join } from 'node:path';
import { Transform, pipeline } from 'node:stream';
import {
  Registry, SbxError, familiarString, formatReference, parseReference,
} from '../../protocol/index.js';
import { localDestination, localSource } from '../images/local-transfer.js';
import { resolveImage } from '../images/resolve.js';
import { addRepoDigest, keepUntagged } from '../images/store.js';
import { copyImage, parsePlatform } from '../images/transfer.js';
import { CredentialStore } from '../registry/auth.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

function checkHost(host: string): string {
  if (!/^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9a-fA-F:]+\](?::\d{1,5})?$/.test(host)) {
    throw new SbxError('invalid_argument', `registry "${host}": expected HOST[:PORT]`);
  }
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

export function registerRegistry(api: ApiServer, s: Services): void {
  const credentials = new CredentialStore(join(s.config.root, 'auth.json'));

  api.router.on(Registry.pull, async (req, ctx) => {
    const ref = parseReference(req.reference);
    const platform = req.platform ? parsePlatform(req.platform) : undefined;
    const tagged = ref.tag ? formatReference({ registry: ref.registry, repository: ref.repository, tag: ref.tag }) : undefined;
    ctx.emit({ type: 'log', message: `${ref.tag ?? ref.digest}: Pulling from ${familiarString({ registry: ref.registry, repository: ref.repository })}` });
    const before = tagged ? await s.images.get(tagged).then((i) => i.target.digest, () => undefined) : undefined;
    const src = s.registry.source(ref, { insecure: req.insecure === true });
    const dst = localDestination(s, tagged);
    const result = await s.gcLock.withShared(async () => {
      const r = await copyImage(src, dst, { ...(platform ? { platform } : {}), signal: ctx.signal, onProgress: ctx.emit, direction: 'pull' });
      await s.images.update((tags, untagged) => {
        // Pulled by digest only: keep it as an untagged image that `name@digest` resolves to.
        if (!tagged) keepUntagged(tags, untagged, { mediaType: r.manifest.mediaType, digest: r.manifest.digest, size: r.manifest.size });
        // docker records the digest the registry gave (the index's, for a multi-platform image).
        addRepoDigest(tags, untagged, r.manifest.digest, `${ref.registry}/${ref.repository}`, r.resolved.digest);
      });
      return r;
    });
    return { reference: formatReference(ref), digest: result.manifest.digest, id: result.config.digest, changed: before !== result.manifest.digest };
  });

  api.router.on(Registry.push, async (req, ctx) => {
    const ref = parseReference(req.reference);
    if (ref.digest) throw new SbxError('invalid_argument', `push ${req.reference}: push a tag, not a digest`);
    const name = formatReference(ref);
    const image = await resolveImage(s, name).catch((e: unknown) => {
      if (e instanceof SbxError && e.code === 'not_found') throw new SbxError('not_found', `push ${familiarString(ref)}: an image does not exist locally with the tag ${familiarString(ref)}`);
      throw e;
    });
    ctx.emit({ type: 'log', message: `The push refers to repository [${familiarString({ registry: ref.registry, repository: ref.repository })}]` });
    // Other local names on the same registry may already hold these layers: mount from them.
    const mountFrom = [...new Set((await s.images.list())
      .map((i) => parseReference(i.name))
      .filter((r) => r.registry === ref.registry && r.repository !== ref.repository)
      .map((r) => r.repository))].slice(0, 3);
    const dst = s.registry.destination(ref, { mountFrom, insecure: req.insecure === true });
    // A layer compressed for this push is uploaded while it is compressed (not after).
    const sent = new Set<string>();
    const src = localSource(s, name, {
      compress: true, cacheDir: join(s.config.root, 'cache', 'gzip'), target: image.descriptor, sent,
      ...(dst.putStream ? {
        sink: (body, done, layer) => {
          const id = layer.digest.slice('sha256:'.length, 'sha256:'.length + 12);
          ctx.emit({ type: 'progress', id, status: 'Pushing', current: 0 });
          let n = 0;
          const counted = pipeline(body, new Transform({ transform(c: Buffer, _e, cb) { n += c.length; cb(null, c); } }), () => {});
          const tick = setInterval(() => ctx.emit({ type: 'progress', id, status: 'Pushing', current: n }), 200);
          return dst.putStream!(counted, done, ctx.signal).finally(() => clearInterval(tick));
        },
      } : {}),
    });
    const r = await s.gcLock.withShared(() => copyImage(src, dst, { signal: ctx.signal, onProgress: ctx.emit, direction: 'push', sent }));
    await s.images.update((tags, untagged) => addRepoDigest(tags, untagged, image.target.digest, `${ref.registry}/${ref.repository}`, r.manifest.digest));
    return { reference: name, digest: r.manifest.digest, size: r.manifest.size };
  });

  api.router.on(Registry.login, async (req, ctx) => {
    const registry = checkHost(req.registry);
    if (!req.username) throw new SbxError('invalid_argument', `login to ${registry}: a user name is required`);
    if (!req.password) throw new SbxError('invalid_argument', `login to ${registry}: a password is required`);
    const creds = { username: req.username, password: req.password };
    await s.registry.checkLogin(registry, creds, { insecure: req.insecure === true, signal: ctx.signal });
    await credentials.set(registry, creds);
    return { registry };
  });

  api.router.on(Registry.logout, async (req) => {
    const registry = checkHost(req.registry);
    return { removed: await credentials.delete(registry) };
  });
}
