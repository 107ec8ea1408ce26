/**
 * The images a build starts from (FROM) or copies out of (COPY --from=IMAGE): resolved in the
 * local store, pulled (images/pull.ts, no HTTP) when missing there, and pulled even when present
 * with `--pull`, as docker does.
 *
 * Contract
 * - baseImages(deps, o) → resolve(ref, src, step): the image `ref` names; `scratch` is the empty
 *   image and is never pulled. Each reference is resolved (and pulled) once per build: two stages
 *   FROM the same missing image share one pull.
 * - A pull's status lines ("latest: Pulling from library/busybox", "<layer>: Pull complete", …) are
 *   passed to `o.log(step, line)` so the step's progress shows the pull; byte counts are not.
 * - Errors name the Dockerfile line: a reference that is malformed, or missing here and not
 *   pullable, is `FILE:LINE: REF: …` with the registry's reason.
 */
import { SbxError, parseReference, type ProgressEvent } from '../../protocol/index.js';
import { fail } from '../dockerfile/lexer.js';
import type { SourceRange } from '../dockerfile/types.js';
import { pullImage } from '../images/pull.js';
import type { RemoteDeps } from '../images/remote.js';
import { resolveImage, type LoadedImage } from '../images/resolve.js';
import { scratchImage } from './image.js';

export interface BaseOptions {
  /** --pull: pull every image reference even when it is present. */
  pull: boolean;
  signal?: AbortSignal;
  /** A line of pull progress for the step that asked for `ref`. */
  log: (step: number, line: string) => void;
}

export type ResolveBase = (ref: string, src: SourceRange, step: number) => Promise<LoadedImage>;

export function baseImages(deps: RemoteDeps, o: BaseOptions): ResolveBase {
  const seen = new Map<string, Promise<LoadedImage>>();
  const local = (ref: string): Promise<LoadedImage | undefined> => resolveImage(deps, ref).catch((e: unknown) => {
    if (e instanceof SbxError && e.code === 'not_found') return undefined;
    throw e;
  });
  const pull = async (ref: string, src: SourceRange, step: number): Promise<LoadedImage> => {
    let parsed;
    try { parsed = parseReference(ref); } catch (e) { throw fail(src, `${ref}: ${e instanceof Error ? e.message : String(e)}`); }
    const onProgress = (e: ProgressEvent): void => {
      if (e.type === 'log') o.log(step, e.message);
      else if (e.type === 'progress' && e.current === undefined) o.log(step, `${e.id}: ${e.status}`);
    };
    const pulled = await pullImage(deps, parsed, { onProgress, ...(o.signal ? { signal: o.signal } : {}) }).catch((e: unknown) => {
      if (o.signal?.aborted) throw e;
      const why = e instanceof SbxError ? e.message : String(e);
      throw new SbxError(e instanceof SbxError && e.code !== 'internal' ? e.code : 'unavailable', `${src.file}:${src.line}: ${ref}: failed to pull: ${why}`);
    });
    return resolveImage(deps, pulled.id);
  };
  const resolve = async (ref: string, src: SourceRange, step: number): Promise<LoadedImage> => {
    // an image ID names a local image; there is nothing to pull it by
    if (!o.pull || /^(sha256:)?[a-f0-9]{64}$/.test(ref)) {
      const here = await local(ref);
      if (here) return here;
    }
    return pull(ref, src, step);
  };
  return (ref, src, step) => {
    if (ref === 'scratch') return Promise.resolve(scratchImage());
    let p = seen.get(ref);
    if (!p) {
      p = resolve(ref, src, step);
      seen.set(ref, p);
    }
    return p;
  };
}
