/**
 * docker's image routes: json (list), {name}/json (inspect), {name}/history, {name}/tag,
 * DELETE {name}. Each calls the image services /v1 uses and shapes docker's answer.
 * Image names may hold slashes (`127.0.0.1:5000/me/site`): the routes take the rest of the path.
 */
import { SbxError } from '../../../protocol/index.js';
import { familiar } from '../../images/load-formats.js';
import { history, inspect, sized, sizedAll, summarize } from '../../images/describe.js';
import { removeImage } from '../../images/remove.js';
import { listStoredImages, resolveImage } from '../../images/resolve.js';
import { moveTag, normalizeTag, parseRepoDigests, REPO_DIGESTS_ANNOTATION } from '../../images/store.js';
import type { Services } from '../../services.js';
import { qbool, type DockerRouter } from './http.js';

const secs = (iso: string): number => Math.floor((Date.parse(iso) || 0) / 1000);

export function registerDockerImages(r: DockerRouter, s: Services): void {
  r.on('GET', '/images/json', async ({ query }) => {
    // `docker images NAME` sends {"reference":{"NAME":true}}: images with a tag or digest NAME matches
    // (docker's path.Match on the familiar name, with or without the tag), showing only those
    const filters = JSON.parse(query.get('filters') || '{}') as Record<string, string[] | Record<string, boolean>>;
    const patterns: RegExp[] = [];
    for (const [k, v] of Object.entries(filters)) {
      if (k !== 'reference') throw new SbxError('invalid_argument', `images: filter ${JSON.stringify(k)} is not supported by sbx`);
      patterns.push(...(Array.isArray(v) ? v : Object.keys(v)).map(glob));
    }
    const matches = (tag: string): boolean => patterns.some((p) => p.test(tag) || p.test(tag.replace(/:[^:/]*$/, '')));
    const rows = (await sizedAll(s.layerSizes, await listStoredImages(s))).map((i) => summarize(i, i.names, i.repoDigests))
      .map((i) => (patterns.length ? { ...i, repoTags: i.repoTags.filter(matches), repoDigests: i.repoDigests.filter((d) => matches(d.replace(/@.*$/, ''))) } : i))
      .filter((i) => !patterns.length || i.repoTags.length || i.repoDigests.length)
      .sort((a, b) => b.created.localeCompare(a.created));
    return {
      json: rows.map((i) => ({
        Id: i.id, ParentId: '', RepoTags: i.repoTags.length ? i.repoTags : ['<none>:<none>'], RepoDigests: i.repoDigests,
        Created: secs(i.created), Size: i.size, VirtualSize: i.size, SharedSize: -1, Labels: {}, Containers: -1,
      })),
    };
  });

  // image names may hold slashes: these match on the suffix of the path (http.ts tries them as prefixes)
  r.onImage('GET', 'json', async (name) => {
    const img = await resolveImage(s, name);
    const tags = (await s.images.list()).filter((t) => t.target.digest === img.target.digest);
    const last = tags.map((t) => t.taggedAt).sort().pop() ?? '';
    const untagged = (await s.images.listUntagged()).filter((u) => u.digest === img.target.digest);
    const repoDigests = new Set([...tags.flatMap((t) => t.repoDigests), ...untagged.flatMap((u) => parseRepoDigests(u.annotations?.[REPO_DIGESTS_ANNOTATION]))]);
    const json = inspect(await sized(s.layerSizes, img), tags.map((t) => t.name), last, [...repoDigests].sort());
    // API v1.41 still answers the build container's ID and config and VirtualSize; sbx keeps no
    // build container, so its config is the image's own (what docker's classic builder left there)
    return { json: { ...json, Container: '', ContainerConfig: json.Config, VirtualSize: json.Size } };
  });

  r.onImage('GET', 'history', async (name) => ({
    json: history(await sized(s.layerSizes, await resolveImage(s, name))).map((h) => ({
      Id: h.id, Created: secs(h.created), CreatedBy: h.createdBy, Tags: null, Size: h.size, Comment: h.comment,
    })),
  }));

  r.onImage('POST', 'tag', async (name, query) => {
    const repo = query.get('repo');
    if (!repo) throw new SbxError('invalid_argument', 'tag: repository name must be given');
    const img = await resolveImage(s, name);
    const target = normalizeTag(query.get('tag') ? `${repo}:${query.get('tag')}` : repo);
    await s.images.update((tags, untagged) => { moveTag(tags, untagged, target, img.target); });
    s.events.emit('image', 'tag', img.configDigest, { name: familiar(target) });
    return { status: 201 };
  });

  r.onImage('DELETE', '', async (name, query) => {
    if (qbool(query, 'noprune')) throw new SbxError('invalid_argument', 'remove image: noprune is not supported by sbx');
    const res = await removeImage(s, name, qbool(query, 'force'));
    return { json: [...res.untagged.map((u) => ({ Untagged: u })), ...res.deleted.map((d) => ({ Deleted: d }))] };
  });
}

/** docker's path.Match pattern (`*`, `?`, `[...]`) as an anchored regular expression. */
function glob(pattern: string): RegExp {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}
