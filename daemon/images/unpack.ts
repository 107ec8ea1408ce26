/**
 * Unpack: an image's layers → committed snapshots named by chainID, so every image (and every
 * container) that shares a prefix of layers shares the unpacked directories.
 *
 * Contract
 * - For each layer bottom-up: an existing snapshot named by its chainID is reused as is;
 *   otherwise the layer is applied into a throwaway active snapshot `extract-<random> <chainID>`,
 *   its diffID checked against the image config's rootfs.diff_ids (and the blob's digest against
 *   the manifest, by the content store), then committed as the chainID. A failure or a crash
 *   leaves only extract-* snapshots, which recover() (run at startup) removes.
 * - Concurrent unpacks of the same chainID run one at a time; the second finds it done.
 * - Idempotent: unpacking an unpacked image changes nothing.
 *
 * Errors: invalid_argument (layers and diff_ids disagree, an unknown layer media type or a hostile
 * layer), not_found (a layer blob missing from the store), digest_mismatch, not_implemented (zstd).
 */
import { createHash, randomBytes } from 'node:crypto';
import { SbxError, isDigest, type Digest, type ImageConfig, type Manifest } from '../../protocol/index.js';
import { applyLayer } from '../archive/apply.js';
import type { ContentStore } from '../content/store.js';
import { EXTRACT_PREFIX, type Snapshotter } from '../snapshots/snapshotter.js';
import { KeyedMutex, SharedLock } from '../util/lock.js';
import type { Differ } from '../snapshots/differ.js';
import { EMPTY_VIEW, type FsView } from '../snapshots/view.js';
import { listStoredImages, resolveImage, type ImageStores } from './resolve.js';
import type { ImageStore } from './store.js';
import type { Logger } from '../util/log.js';
import type { LayerSizes } from './layer-sizes.js';
import { isUncompressedLayer } from './transfer.js';

export interface Unpacked {
  /** chainID of the top layer = the committed snapshot to prepare containers on; undefined without layers. */
  chainId?: Digest;
  /** chainIDs bottom-up, one per layer. */
  chainIds: Digest[];
  diffIds: Digest[];
}

export interface Unpacker {
  /** Make every layer of the image a committed snapshot. */
  unpack(image: { manifest: Manifest; config: ImageConfig }, opts?: { signal?: AbortSignal }): Promise<Unpacked>;
  /**
   * Take active snapshot `key` (unmounted, over the snapshot of chainID's parent layer, holding
   * exactly what the layer `diffId` holds: Differ.settle) as the layer's snapshot `chainId`, so
   * nothing unpacks that layer again. false when `chainId` exists already (`key` is left as it
   * was: remove it as usual). Runs under the same per-chainID lock as unpack, and never while a
   * prune runs. The snapshot keeps `key`'s labels (a container's: sbx.container, where it was
   * made) besides sbx.layer.diffid.
   */
  adopt(key: string, chainId: Digest, diffId: Digest): Promise<boolean>;
  /** Remove the extract-* snapshots a crash left behind. */
  recover(): Promise<void>;
  /**
   * Remove layer snapshots (chainID names) not in `keep` that nothing is built on (no container,
   * no other layer), repeatedly, top-down. Returns the removed chainIDs. See pruneLayers().
   */
  prune(keep: Iterable<Digest>): Promise<Digest[]>;
}

/** OCI chainIDs: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

/** The layer media types unpack accepts (load refuses others up front). */
export const LAYER_MEDIA_TYPE = /^application\/vnd\.(oci\.image\.layer\.(nondistributable\.)?v1\.tar(\+gzip|\+zstd)?|docker\.image\.rootfs\.(foreign\.)?diff\.tar(\.gzip)?)$/;

export interface UnpackerDeps {
  content: ContentStore;
  snapshotter: Snapshotter;
  log: Logger;
  /** Where a compressed layer's unpacked size is recorded (applying it counts the bytes). */
  sizes?: Pick<LayerSizes, 'record'>;
}

export function createUnpacker(deps: UnpackerDeps): Unpacker {
  const locks = new KeyedMutex();
  const { content, snapshotter: sn, log } = deps;
  // Unpacks hold it shared, prune exclusive: a prune never removes a layer an unpack builds on.
  const gc = new SharedLock();

  async function unpackLayer(chainId: Digest, parent: Digest | undefined, layer: Manifest['layers'][number], diffId: Digest, signal?: AbortSignal): Promise<void> {
    await locks.run(chainId, async () => {
      if (await exists(sn, chainId)) return;
      const key = `${EXTRACT_PREFIX}${randomBytes(8).toString('hex')} ${chainId}`;
      await sn.prepare(key, parent, { 'sbx.layer.diffid': diffId });
      try {
        const { upper, whiteouts, lowers } = await sn.dirs(key);
        const blob = await content.read(layer.digest).catch((e) => {
          throw SbxError.wrap(e, `unpack layer ${layer.digest}`, 'not_found');
        });
        const started = Date.now();
        const applied = await applyLayer(upper, blob, { whiteouts, lowers, diffId, ...(signal ? { signal } : {}) })
          .catch((e) => { blob.destroy(); throw e; });
        if (!isUncompressedLayer(layer.mediaType)) await deps.sizes?.record(layer.digest, applied.size);
        await sn.commit(chainId, key, { 'sbx.layer.diffid': diffId });
        log.debug('unpacked layer', { chainId, diffId, ms: Date.now() - started });
      } catch (e) {
        await sn.remove(key).catch(() => undefined);
        if (e instanceof SbxError && e.code === 'already_exists') return;
        throw e instanceof SbxError ? new SbxError(e.code, `unpack layer ${layer.digest}: ${e.message}`, { cause: e }) : SbxError.wrap(e, `unpack layer ${layer.digest}`);
      }
    });
  }

  return {
    unpack(image, opts = {}) {
      return gc.withShared(() => unpackImage(image, opts));
    },

    adopt(key, chainId, diffId) {
      return gc.withShared(() => locks.run(chainId, async () => {
        if (await exists(sn, chainId)) return false;
        try {
          await sn.commit(chainId, key, { 'sbx.layer.diffid': diffId });
        } catch (e) {
          if (e instanceof SbxError && e.code === 'already_exists') return false;
          throw e;
        }
        log.debug('kept layer snapshot', { chainId, diffId });
        return true;
      }));
    },

    async recover() {
      for (const s of await sn.list()) {
        if (s.key.startsWith(EXTRACT_PREFIX) && s.kind !== 'committed') {
          await sn.remove(s.key).catch((e) => log.warn('remove leftover extraction', { key: s.key, error: String(e) }));
        }
      }
    },

    prune(keep) {
      const wanted = new Set<string>(keep);
      return gc.withExclusive(async () => {
        const removed: Digest[] = [];
        for (let again = true; again; ) {
          again = false;
          const all = await sn.list();
          const parents = new Set(all.map((i) => i.parent).filter((p) => p !== undefined));
          for (const i of all) {
            if (i.kind !== 'committed' || !isDigest(i.key) || wanted.has(i.key) || parents.has(i.key)) continue;
            await locks.run(i.key, () => sn.remove(i.key));
            removed.push(i.key);
            again = true;
          }
        }
        if (removed.length) log.info('removed unused layer snapshots', { count: removed.length });
        return removed;
      });
    },
  };

  async function unpackImage({ manifest, config }: { manifest: Manifest; config: ImageConfig }, opts: { signal?: AbortSignal }): Promise<Unpacked> {
    const diffIds = config?.rootfs?.diff_ids;
    if (!Array.isArray(diffIds) || !diffIds.every(isDigest)) throw new SbxError('invalid_argument', 'unpack image: config rootfs.diff_ids is not a list of sha256 digests');
    if (!Array.isArray(manifest?.layers) || manifest.layers.length !== diffIds.length) {
      throw new SbxError('invalid_argument', `unpack image: the manifest has ${manifest?.layers?.length} layers but the config ${diffIds.length} diff_ids`);
    }
    for (const l of manifest.layers) {
      if (!LAYER_MEDIA_TYPE.test(l.mediaType)) throw new SbxError('invalid_argument', `unpack layer ${l.digest}: unsupported media type ${l.mediaType}`);
      if (l.mediaType.endsWith('+zstd')) throw new SbxError('not_implemented', `unpack layer ${l.digest}: zstd-compressed layers are not supported`);
    }
    const chain = chainIds(diffIds);
    for (let i = 0; i < chain.length; i++) {
      opts.signal?.throwIfAborted();
      await unpackLayer(chain[i]!, chain[i - 1], manifest.layers[i]!, diffIds[i]!, opts.signal);
    }
    const out: Unpacked = { chainIds: chain, diffIds: [...diffIds] };
    if (chain.length) out.chainId = chain[chain.length - 1]!;
    return out;
  }
}

/**
 * The whole tree of an image, unpacked if needed (an image without layers: the empty tree).
 * @throws not_found (no such image), plus unpack's errors
 */
export async function imageTree(s: ImageStores & { unpacker: Unpacker; snapshotter: Snapshotter; differ: Differ }, ref: string): Promise<FsView> {
  const { chainId } = await s.unpacker.unpack(await resolveImage(s, ref));
  return chainId ? s.differ.treeOf(await s.snapshotter.dirs(chainId)) : EMPTY_VIEW;
}

/** Prune the layer snapshots no stored image (tagged or dangling) uses. For `rmi`, `image prune`. */
export async function pruneLayers(s: { content: ContentStore; images: ImageStore; unpacker: Unpacker }): Promise<Digest[]> {
  const keep = (await listStoredImages(s)).flatMap((i) => chainIds(i.config.rootfs?.diff_ids ?? []));
  return s.unpacker.prune(keep);
}

async function exists(sn: Snapshotter, name: string): Promise<boolean> {
  try {
    return (await sn.stat(name)).kind === 'committed';
  } catch (e) {
    if (e instanceof SbxError && e.code === 'not_found') return false;
    throw e;
  }
}
