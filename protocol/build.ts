/**
 * Build: a Dockerfile and a context → an image (`sbx build`, docker's POST /build).
 *
 * POST /v1/build is an 'upload-progress' route: the request body is the build context as a tar
 * stream (plain; the Dockerfile inside it at `dockerfile`, default "Dockerfile"), every field in
 * the query; the response is NDJSON: `{type:'build', event}` lines (BuildEvent, below) as the
 * build goes, then one `{type:'result', value: BuildResult}` or `{type:'error', error}` line.
 * A client that goes away stops the build (its containers, mounts and temp files are removed).
 */
import { route } from './api.js';
import type { Digest } from './oci.js';
import { arrayOf, bool, int, opt, str, type Fields } from './validate.js';

export interface BuildRequest {
  /** REPO[:TAG] names set when (and only when) the whole build succeeded (-t, repeatable). */
  tags?: string[];
  /** The Dockerfile's path inside the context (-f); default "Dockerfile". */
  dockerfile?: string;
  /** Build up to this stage (name or index) instead of the last one (--target). */
  target?: string;
  /** KEY=VALUE (--build-arg); a bare KEY means "declared but empty" is not sent: the CLI fills it from its env. */
  buildArgs?: string[];
  /** Skip the cache for every step (--no-cache). */
  noCache?: boolean;
  /** Pull FROM images even when present (--pull). */
  pull?: boolean;
  /** KEY=VALUE labels set on the final image (--label). */
  labels?: string[];
  /** Clamp created times and file mtimes to this (SOURCE_DATE_EPOCH), for reproducible image IDs. */
  sourceDateEpoch?: number;
}

export const buildFields: Fields<BuildRequest> = {
  tags: opt(arrayOf(str)),
  dockerfile: opt(str),
  target: opt(str),
  buildArgs: opt(arrayOf(str)),
  noCache: opt(bool),
  pull: opt(bool),
  labels: opt(arrayOf(str)),
  sourceDateEpoch: opt(int),
};

/** Where an instruction is: the Dockerfile's name in the context and its 1-based lines. */
export interface BuildSource { file: string; line: number; endLine?: number }

/**
 * One progress event. `step` numbers the instructions of the build in order (1-based, across the
 * stages built); `stage` is the stage's name or index. Times are milliseconds.
 * - start: a step begins (text: the instruction as written, e.g. `COPY app.js .`).
 * - cached: the step was served by the cache (image: the cached image ID); no done follows.
 * - output: a line (or part of one) the step's process wrote.
 * - done: the step finished (image: its result image ID, ms: how long it took).
 * - warning: something docker warns about (an unused --build-arg, …), with the line when known.
 * - error: the step failed; the error line of the stream follows with the message.
 */
export type BuildEvent =
  | { kind: 'start'; step: number; total: number; stage: string; text: string; src: BuildSource }
  | { kind: 'cached'; step: number; image: Digest }
  | { kind: 'output'; step: number; stream: 'stdout' | 'stderr'; data: string }
  | { kind: 'done'; step: number; image: Digest; ms: number }
  | { kind: 'warning'; message: string; src?: BuildSource }
  | { kind: 'error'; step?: number; message: string; src?: BuildSource };

export interface BuildResult {
  /** The image ID (config digest). */
  Id: Digest;
  /** The tags set, normalised ("docker.io/library/web-ping:latest"). */
  Tags: string[];
  /** Steps served from the cache, and all steps. */
  Cached: number;
  Steps: number;
}

/**
 * `sbx builder prune` (docker's BuildCachePruneReport): the IDs of the build cache records removed
 * and the bytes that freed in the daemon root.
 */
export interface BuilderPruneResult { deleted: string[]; reclaimed: number }

export interface BuilderPruneRequest {
  /** Every unused record (-a), not only the dangling ones (those no tagged image was built from). */
  all?: boolean;
}

export const Build = {
  build: route<BuildRequest, BuildResult>('POST', '/v1/build', 'upload-progress', buildFields),
  prune: route<BuilderPruneRequest, BuilderPruneResult>('POST', '/v1/build/prune', 'json', { all: opt(bool) }),
} as const;
