/** Images: the local store's verbs (list, inspect, history, tag, rmi, import, load, save). */
import { route, type NoInput } from './api.js';
import { arrayOf, bool, oneOf, opt, str, type Fields } from './validate.js';
import type { ContainerConfig, Digest } from './oci.js';

export interface ImageSummary {
  /** Image ID = config digest, as docker shows it. */
  id: Digest;
  /** The local manifest's digest (the store's descriptor); not docker's DIGEST column, which is from repoDigests. */
  digest: Digest;
  /** Familiar "repo:tag" names; empty for a dangling image. */
  repoTags: string[];
  /** "repo@sha256:…" for each repository the image was pushed to or pulled from. */
  repoDigests: string[];
  created: string;
  /** Sum of the layers' unpacked sizes (docker's Size), however they are stored. */
  size: number;
}

/** docker image inspect, field for field where docker has the field. */
export interface ImageInspect {
  Id: Digest;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  /** Always "" (sbx is not docker). */
  DockerVersion: string;
  Author: string;
  /** The image's config with docker's zero values for the fields it lacks (docker's container.Config). */
  Config: Record<string, unknown>;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  RootFS: { Type: 'layers'; Layers: Digest[] };
  Metadata: { LastTagTime: string };
  Descriptor: { mediaType: string; digest: Digest; size: number };
}

/** One row of `sbx history`, newest first, as docker prints it. */
export interface HistoryRow {
  /** Image ID for the top row, "<missing>" below it (docker's convention for non-local parents). */
  id: string;
  created: string;
  createdBy: string;
  size: number;
  comment: string;
  emptyLayer: boolean;
}

export interface ImportRequest {
  /** Target reference; omitted → a dangling image. */
  reference?: string;
  /** Dockerfile-style changes applied to the config (CMD, ENV, …), as `sbx commit -c`. */
  changes?: string[];
  message?: string;
  /** Build the root file system from the host's busybox-static instead of the request body. */
  busybox?: boolean;
  /** A directory on the daemon's host to import instead of the request body (local daemons only). */
  path?: string;
  platform?: string;
}

export const importFields: Fields<ImportRequest> = {
  reference: opt(str),
  changes: opt(arrayOf(str)),
  message: opt(str),
  busybox: opt(bool),
  path: opt(str),
  platform: opt(str),
};

/** `loaded`: the tags written ("busybox:latest"); `ids`: image IDs of images loaded without a tag. */
export interface LoadResult { loaded: string[]; ids: string[] }

export const Images = {
  list: route<{ all?: boolean; reference?: string }, ImageSummary[]>('GET', '/v1/images', 'json', { all: opt(bool), reference: opt(str) }),
  inspect: route<{ ref: string }, ImageInspect>('GET', '/v1/images/:ref/json', 'json', { ref: str }),
  history: route<{ ref: string }, HistoryRow[]>('GET', '/v1/images/:ref/history', 'json', { ref: str }),
  tag: route<{ source: string; target: string }, ImageSummary>('POST', '/v1/images/tag', 'json', { source: str, target: str }),
  remove: route<{ ref: string; force?: boolean }, { untagged: string[]; deleted: string[] }>('DELETE', '/v1/images/:ref', 'json',
    { ref: str, force: opt(bool) }),
  /** Body: a root file system as tar / tar.gz (or empty with busybox=true). */
  import: route<ImportRequest, ImageSummary>('POST', '/v1/images/import', 'upload', importFields),
  /** Body: an OCI archive or a `docker save` archive. */
  load: route<NoInput, LoadResult>('POST', '/v1/images/load', 'upload', {}),
  /** Response: an archive of the named images. */
  save: route<{ refs: string[]; format?: 'oci' | 'docker' }, void>('GET', '/v1/images/save', 'download',
    { refs: arrayOf(str), format: opt(oneOf('oci', 'docker')) }),
} as const;
