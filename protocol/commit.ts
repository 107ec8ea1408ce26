/** Commit: a container's changes → a new image (`sbx commit`, docker's POST /commit). */
import { route } from './api.js';
import type { Digest } from './oci.js';
import { arrayOf, bool, int, opt, str, type Fields } from './validate.js';

export interface CommitRequest {
  /** The container: name, ID or unique ID prefix. */
  id: string;
  /** REPO[:TAG] for the new image; none → an untagged image. */
  reference?: string;
  /** History author and image author (-a). */
  author?: string;
  /** History comment (-m). */
  message?: string;
  /** Dockerfile instructions applied to the config (-c): CMD ENTRYPOINT ENV EXPOSE LABEL ONBUILD USER VOLUME WORKDIR HEALTHCHECK STOPSIGNAL. */
  changes?: string[];
  /** Freeze a running container while its layer is read (default true, as docker). */
  pause?: boolean;
  /** One layer with the image's layers and the changes folded together. */
  squash?: boolean;
  /** Paths left out of the layer (dockerignore globs rooted at "/"). */
  exclude?: string[];
  /** Clamp file mtimes and created times to this (SOURCE_DATE_EPOCH), for reproducible digests. */
  sourceDateEpoch?: number;
}

export const commitFields: Fields<CommitRequest> = {
  id: str,
  reference: opt(str),
  author: opt(str),
  message: opt(str),
  changes: opt(arrayOf(str)),
  pause: opt(bool),
  squash: opt(bool),
  exclude: opt(arrayOf(str)),
  sourceDateEpoch: opt(int),
};

export interface CommitResponse {
  /** The new image ID (config digest), as docker prints it. */
  Id: Digest;
  /** The manifest digest. */
  Digest: Digest;
  /** The tag given, normalised ("docker.io/library/mysite:1"). */
  Name?: string;
  /** The new layer's diffID and size; absent when the container had no changes (empty_layer). */
  Layer?: { DiffID: Digest; Size: number };
}

export const Commit = {
  commit: route<CommitRequest, CommitResponse>('POST', '/v1/containers/:id/commit', 'json', commitFields),
} as const;
