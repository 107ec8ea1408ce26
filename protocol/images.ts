/** Images: the local store's verbs (list, inspect, history, tag, rmi, import, load, save). */
import { route } from './api.js';
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
  /** Sum of the layers' stored sizes (uncompressed for what sbx writes; as loaded or pulled otherwise). */
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
  Author: string;
  Config: ContainerConfig;
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

/** `loaded`: the tags written ("busybox:latest"); `ids`: image IDs of images loaded without a tag. */
export interface LoadResult { loaded: string[]; ids: string[] }

export const Images = {
  list: route<{ all?: boolean; reference?: string }, ImageSummary[]>('GET', '/v1/images'),
  inspect: route<{ ref: string }, ImageInspect>('GET', '/v1/images/:ref/json'),
  history: route<{ ref: string }, HistoryRow[]>('GET', '/v1/images/:ref/history'),
  tag: route<{ source: string; target: string }, ImageSummary>('POST', '/v1/images/tag'),
  remove: route<{ ref: string; force?: boolean }, { untagged: string[]; deleted: string[] }>('DELETE', '/v1/images/:ref'),
  /** Body: a root file system as tar / tar.gz (or empty with busybox=true). */
  import: route<ImportRequest, ImageSummary>('POST', '/v1/images/import', 'upload'),
  /** Body: an OCI archive or a `docker save` archive. */
  load: route<Record<string, never>, LoadResult>('POST', '/v1/images/load', 'upload'),
  /** Response: an archive of the named images. */
  save: route<{ refs: string[]; format?: 'oci' | 'docker' }, void>('GET', '/v1/images/save', 'download'),
} as const;
