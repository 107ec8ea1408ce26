import { Images, Layers } from '../../protocol/index.js';
import { familiar } from '../images/load-formats.js';
import { history, inspect, sized, sizedAll, summarize } from '../images/describe.js';
import { layerFiles } from '../images/layers.js';
import { removeImage } from '../images/remove.js';
import { listStoredImages, resolveImage } from '../images/resolve.js';
import { REPO_DIGESTS_ANNOTATION, moveTag, normalizeTag, parseRepoDigests } from '../images/store.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

export function registerImages(api: ApiServer, s: Services): void {
  api.router.on(Images.list, async (req) => {
    let all = await listStoredImages(s);
    if (req.reference) {
      const r = await resolveImage(s, req.reference).catch(() => undefined);
      all = r ? all.filter((i) => i.target.digest === r.target.digest) : [];
    }
    return (await sizedAll(s.layerSizes, all)).map((i) => summarize(i, i.names, i.repoDigests)).sort((a, b) => b.created.localeCompare(a.created));
  });

  api.router.on(Images.inspect, async (req) => {
    const r = await resolveImage(s, req.ref);
    const tags = (await s.images.list()).filter((t) => t.target.digest === r.target.digest);
    const last = tags.map((t) => t.taggedAt).sort().pop() ?? '';
    const untagged = (await s.images.listUntagged()).filter((u) => u.digest === r.target.digest);
    const repoDigests = new Set([...tags.flatMap((t) => t.repoDigests), ...untagged.flatMap((u) => parseRepoDigests(u.annotations?.[REPO_DIGESTS_ANNOTATION]))]);
    return inspect(await sized(s.layerSizes, r), tags.map((t) => t.name), last, [...repoDigests].sort());
  });

  api.router.on(Images.history, async (req) => history(await sized(s.layerSizes, await resolveImage(s, req.ref))));

  api.router.on(Layers.list, async (req) => layerFiles(s.content, await sized(s.layerSizes, await resolveImage(s, req.ref))));

  api.router.on(Images.tag, async (req) => {
    const target = normalizeTag(req.target);
    const r = await resolveImage(s, req.source);
    await s.images.update((tags, untagged) => { moveTag(tags, untagged, target, r.target); });
    s.events.emit('image', 'tag', r.configDigest, { name: familiar(target) });
    const tags = (await s.images.list()).filter((t) => t.target.digest === r.target.digest);
    return summarize(await sized(s.layerSizes, r), tags.map((t) => t.name), [...new Set(tags.flatMap((t) => t.repoDigests))].sort());
  });

  api.router.on(Images.remove, async (req) => removeImage(s, req.ref, req.force ?? false));

  // import, load and save (and the tar and Dockerfile code under them) load on first use: an idle
  // sbxd need not hold them
  api.router.on(Images.import, async (req, ctx) => (await import('../images/import.js')).importImage(s, req, ctx.body, ctx.signal));

  api.router.on(Images.load, async (_req, ctx) => (await import('../images/load.js')).loadArchive(s, ctx.body, ctx.signal));

  api.router.on(Images.save, async (req, ctx) => {
    const { saveImages } = await import('../images/save.js');
    ctx.download(await saveImages(s, req.refs, req.format ?? 'docker'), 'application/x-tar');
  });
}
