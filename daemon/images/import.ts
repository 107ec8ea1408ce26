/**
 * `sbx import`: a root file system → a one-layer image, with docker import's semantics: the
 * config is empty but for what `-c` changes set, one history entry ("Imported from -" unless
 * `-m`), no tag unless a reference is given. Sources: a tar or tar.gz body, a directory on the
 * daemon's host (`path`), or the host's busybox-static (`busybox`). The layer is stored
 * uncompressed (application/vnd.oci.image.layer.v1.tar), so its digest is its diffID.
 *
 * Nothing becomes visible until it is all there: the layer is checked as a tar while it is
 * written (malformed, truncated or path-escaping archives fail and leave no blob), config and
 * manifest follow, and the tag comes last, all under gcLock shared.
 */
import { rm, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { Readable } from 'node:stream';
import {
  MediaType, SbxError, type ContainerConfig, type Descriptor, type Digest, type ImageConfig, type ImageSummary, type ImportRequest,
} from '../../protocol/index.js';
import { decompress, tarChecker } from '../archive/check.js';
import { packToStore } from '../archive/pack.js';
import type { ImageDeps } from './deps.js';
import { BUSYBOX_ENV, busyboxRootfs } from './busybox.js';
import { applyChanges, parseChanges } from '../dockerfile/config-changes.js';
import { sized, summarize } from './describe.js';
import { scratchDir } from './gc.js';
import { hostPlatform, loadImage } from './resolve.js';
import { keepUntagged, moveTag, normalizeTag } from './store.js';
import { writeImage } from './write.js';

export async function importImage(s: ImageDeps, req: ImportRequest, body: Readable, signal?: AbortSignal): Promise<ImageSummary> {
  const changes = req.changes ?? [];
  parseChanges(changes); // validate before any work
  if (req.reference !== undefined) normalizeTag(req.reference);
  const sources = [req.busybox ? 'busybox' : '', req.path ? 'path' : ''].filter(Boolean);
  if (sources.length > 1) throw new SbxError('invalid_argument', 'import: give one source (a tar body, a directory, or --busybox)');
  const platform = hostPlatform();

  return s.gcLock.withShared(async () => {
    let layer: { descriptor: Descriptor; diffId: Digest };
    let base: ContainerConfig = {};
    let createdBy = '';
    let comment = req.message || 'Imported from -';
    if (req.busybox) {
      const dir = await scratchDir(s.config.root, 'import-');
      try {
        const { source, epoch } = await busyboxRootfs(dir);
        layer = await packToStore(s.content, dir, { sourceDateEpoch: epoch, ...(signal ? { signal } : {}) });
        base = { Env: [...BUSYBOX_ENV], Cmd: ['sh'] };
        createdBy = 'sbx import --busybox';
        if (!req.message) comment = `Imported from ${source} (busybox-static)`;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    } else if (req.path) {
      const dir = req.path;
      if (!isAbsolute(dir)) throw new SbxError('invalid_argument', `import ${dir}: the directory must be an absolute path`);
      const st = await stat(dir).catch(() => undefined);
      if (!st?.isDirectory()) throw new SbxError('not_found', `import ${dir}: no such directory on the daemon's host`);
      layer = await packToStore(s.content, dir, signal ? { signal } : {});
    } else {
      layer = await storeTarBody(s, body, signal);
    }
    const now = new Date().toISOString();
    const config: ImageConfig = {
      created: now,
      architecture: platform.architecture,
      os: platform.os,
      config: applyChanges(base, changes),
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: now, ...(createdBy ? { created_by: createdBy } : {}), comment }],
    };
    const { manifest } = await writeImage(s.content, [layer.descriptor], config);
    const names: string[] = [];
    await s.images.update((tags, untagged) => {
      if (req.reference !== undefined) names.push(moveTag(tags, untagged, req.reference, manifest).name);
      else keepUntagged(tags, untagged, manifest);
    });
    const img = await loadImage(s.content, manifest, manifest.digest, platform);
    s.events?.emit('image', 'import', img.configDigest, { name: img.configDigest });
    const all = (await s.images.list()).filter((t) => t.target.digest === manifest.digest).map((t) => t.name);
    return summarize(await sized(s.layerSizes, img), all);
  });
}

async function storeTarBody(s: ImageDeps, body: Readable, signal?: AbortSignal): Promise<{ descriptor: Descriptor; diffId: Digest }> {
  const { stream, empty } = await decompress(body as AsyncIterable<Buffer>, 'import');
  if (empty) throw new SbxError('invalid_argument', 'import: empty input (give a tar or tar.gz, a directory, or --busybox)');
  const checker = tarChecker('import');
  // The consumer (content.write) sees errors through iteration; these keep late ones from escaping.
  stream.on('error', (e) => checker.destroy(e));
  checker.on('error', () => undefined);
  const info = await s.content.write(stream.pipe(checker), {}, signal).catch((e: unknown) => {
    throw e instanceof SbxError ? e : new SbxError('invalid_argument', `import: ${(e as Error).message}`, { cause: e });
  });
  return { descriptor: { mediaType: MediaType.ociLayer, digest: info.digest, size: info.size }, diffId: info.digest };
}
