/** Stored images → the DTOs `sbx images`, `sbx image inspect` and `sbx history` show (docker's shapes). */
import {
  familiarName, familiarString, parseReference,
  type HistoryEntry, type HistoryRow, type ImageInspect, type ImageSummary,
} from '../../protocol/index.js';
import type { LayerSizes } from './layer-sizes.js';
import type { LoadedImage } from './resolve.js';

/** An image with each of its layers' unpacked sizes (what docker counts, however a layer is stored). */
export type Sized<T extends LoadedImage = LoadedImage> = T & { layerSizes: number[] };

export async function sized<T extends LoadedImage>(sizes: Pick<LayerSizes, 'ofAll'>, img: T): Promise<Sized<T>> {
  return { ...img, layerSizes: await sizes.ofAll(img.manifest.layers) };
}

export const sizedAll = <T extends LoadedImage>(sizes: Pick<LayerSizes, 'ofAll'>, imgs: T[]): Promise<Sized<T>[]> =>
  Promise.all(imgs.map((i) => sized(sizes, i)));

function familiar(name: string): string {
  try { return familiarString(parseReference(name)); } catch { return name; }
}

/**
 * docker's RepoDigests: "busybox@sha256:…" for each registry repository the image was pulled
 * from or pushed to, with the registry's manifest digest; none for an image only built here.
 */
function familiarRepoDigests(recorded: string[]): string[] {
  return recorded.map((r) => {
    const at = r.indexOf('@');
    try { return `${familiarName(parseReference(r.slice(0, at)))}${r.slice(at)}`; } catch { return r; }
  }).sort();
}

/** Sum of the layers' unpacked sizes (docker's image Size). */
export function imageSize(img: Sized): number {
  return img.layerSizes.reduce((n, l) => n + l, 0);
}

export function summarize(img: Sized, names: string[], repoDigests: string[] = []): ImageSummary {
  return {
    id: img.configDigest,
    digest: img.target.digest,
    repoTags: names.map(familiar).sort(),
    repoDigests: familiarRepoDigests(repoDigests),
    created: img.config.created ?? '',
    size: imageSize(img),
  };
}

export function inspect(img: Sized, names: string[], lastTagTime = '', repoDigests: string[] = []): ImageInspect {
  const history = img.config.history ?? [];
  const last = history.length ? history[history.length - 1]! : undefined;
  return {
    Id: img.configDigest,
    RepoTags: names.map(familiar).sort(),
    RepoDigests: familiarRepoDigests(repoDigests),
    Parent: '',
    Comment: last?.comment ?? '',
    Created: img.config.created ?? '',
    DockerVersion: '',
    Author: img.config.author ?? '',
    // docker shows its container.Config struct: every field, zero when the image has none
    Config: {
      Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false,
      StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
      ...img.config.config,
    },
    Architecture: img.config.architecture,
    ...(img.config.variant ? { Variant: img.config.variant } : {}),
    Os: img.config.os,
    Size: imageSize(img),
    RootFS: { Type: 'layers', Layers: [...img.config.rootfs.diff_ids] },
    Metadata: { LastTagTime: lastTagTime },
    Descriptor: { mediaType: img.target.mediaType, digest: img.target.digest, size: img.target.size },
  };
}

/**
 * docker history: one row per history entry, newest first; non-empty entries take the next
 * layer's size; the top row carries the image ID, the others "<missing>". An image without
 * history gets one row per layer.
 */
export function history(img: Sized): HistoryRow[] {
  const layers = img.manifest.layers;
  const entries: HistoryEntry[] = img.config.history?.length
    ? img.config.history
    : layers.map(() => ({ created: img.config.created ?? '', created_by: '', comment: '' }));
  let li = 0;
  const rows: HistoryRow[] = entries.map((h) => {
    const empty = h.empty_layer === true;
    const size = empty ? 0 : (img.layerSizes[li++] ?? 0);
    return { id: '<missing>', created: h.created ?? '', createdBy: h.created_by ?? '', size, comment: h.comment ?? '', emptyLayer: empty };
  });
  rows.reverse();
  if (rows.length) rows[0]!.id = img.configDigest;
  return rows;
}
