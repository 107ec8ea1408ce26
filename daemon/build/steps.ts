/**
 * One step of a stage → the image after it, served from the cache when its key is known.
 * Keys (cache.ts stepKey): parent image ID + the step's text (config steps: createdBy; RUN:
 * cacheText, i.e. command, env, user, workdir, mounts, network; COPY/ADD: cacheText) + for COPY/ADD
 * the checksum of what would be copied, for WORKDIR whether it makes a directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest, SbxError } from '../../protocol/index.js';
import { packToStore } from '../archive/pack.js';
import { copyCreatedBy } from '../dockerfile/evaluate.js';
import type { IgnoreMatcher } from '../dockerfile/context.js';
import type { SourceRange, Step } from '../dockerfile/types.js';
import { loadImage, resolveImage, type LoadedImage } from '../images/resolve.js';
import { download, isUrl, type Downloaded } from './add.js';
import { stepKey, type BuildCache } from './cache.js';
import { stageCopy, stageMkdir } from './copy.js';
import { appendStep, type StepImageDeps } from './image.js';
import { mountStubs, planMounts, removeStubs, withMounts, type MountDeps } from './mounts.js';
import { runStep, type RunDeps } from './run.js';
import { imageView, resolveOwner, withMountedImage, type TreeDeps } from './tree.js';

export interface StepDeps extends StepImageDeps, RunDeps, TreeDeps, MountDeps { cache: BuildCache }

export interface StepContext {
  parent: LoadedImage;
  /** The stage's config after the step (config steps: step.config). */
  config: import('../../protocol/index.js').ContainerConfig;
  noCache: boolean;
  sourceDateEpoch?: number;
  signal?: AbortSignal;
  /** Private scratch directory of this build (not the context). */
  tmp: string;
  contextDir: string;
  /** The context's .dockerignore (COPY from the context leaves out what it excludes). */
  ignore?: IgnoreMatcher;
  /** The instruction's place, for the front's errors. */
  src: SourceRange;
  /** COPY --from: the image a stage produced or an image reference, resolved. */
  fromImage: (ref: string) => Promise<LoadedImage>;
  onOutput: (stream: 'stdout' | 'stderr', data: string) => void;
  fail: (why: string) => SbxError;
}

export interface StepResult { image: LoadedImage; cached: boolean }

async function cached(deps: StepDeps, c: StepContext, key: string): Promise<LoadedImage | undefined> {
  return c.noCache ? undefined : deps.cache.get(key);
}

async function remember(deps: StepDeps, key: string, image: LoadedImage): Promise<StepResult> {
  await deps.cache.put(key, image);
  return { image, cached: false };
}

export async function executeStep(deps: StepDeps, step: Step, c: StepContext): Promise<StepResult> {
  const sde = c.sourceDateEpoch !== undefined ? { sourceDateEpoch: c.sourceDateEpoch } : {};
  if (step.kind === 'config' || step.kind === 'arg') {
    const mkdir = step.kind === 'config' && step.mkdir && step.mkdir !== '/' && !(await (await imageView(deps, c.parent)).lstat(step.mkdir)) ? step.mkdir : undefined;
    const key = stepKey(c.parent.configDigest, step.createdBy, mkdir ? `mkdir ${mkdir}` : '');
    const hit = await cached(deps, c, key);
    if (hit) return { image: hit, cached: true };
    let layer;
    if (mkdir) {
      layer = await withStage(c.tmp, async (dir) => {
        await stageMkdir({ uid: 0, gid: 0, image: await imageView(deps, c.parent), stageDir: dir, fail: c.fail }, mkdir);
        return packToStore(deps.content, dir, sde);
      });
    }
    const author = step.kind === 'config' ? step.author : undefined;
    return remember(deps, key, await appendStep(deps, c.parent, { config: c.config, createdBy: step.createdBy, ...(layer ? { layer } : {}), ...(author ? { author } : {}), ...sde }));
  }
  if (step.kind === 'run') {
    const mc = { contextDir: c.contextDir, tmp: c.tmp, workdir: step.workdir, src: c.src, fromImage: c.fromImage, fail: c.fail, ...(c.ignore ? { ignore: c.ignore } : {}) };
    const plan = await planMounts(step.mounts, mc);
    const key = stepKey(c.parent.configDigest, step.cacheText, plan.key);
    const hit = await cached(deps, c, key);
    if (hit) return { image: hit, cached: true };
    const stubs = plan.mounts.length ? await mountStubs(await imageView(deps, c.parent), plan) : undefined;
    const r = await withMounts(deps, plan, mc, (mounts) => runStep(deps, c.parent, step, {
      config: c.config, onOutput: c.onOutput, fail: c.fail, ...sde, ...(c.signal ? { signal: c.signal } : {}),
      ...(mounts.length ? { mounts } : {}), ...(stubs ? { beforeCommit: (upper: string) => removeStubs(upper, stubs) } : {}),
    }));
    return remember(deps, key, await loadImage(deps.content, r.manifest, r.manifest.digest));
  }
  // COPY / ADD: stage first (the checksum is part of the key), pack only on a miss.
  const urls = step.add ? step.sources.filter(isUrl) : [];
  const local = step.sources.filter((s) => !urls.includes(s));
  if (step.checksum !== undefined && (local.length || urls.length !== 1)) throw c.fail(`checksum can't be specified for non-HTTP(S) sources (ADD --checksum=${step.checksum})`);
  return withStage(c.tmp, async (dir) => withStage(c.tmp, async (dl) => {
    const fetched: Downloaded[] = [];
    for (const [i, url] of urls.entries()) {
      fetched.push(await download(url, dl, { index: i, fail: c.fail, ...(step.checksum !== undefined ? { checksum: step.checksum } : {}), ...(c.signal ? { signal: c.signal } : {}) }));
    }
    const view = await imageView(deps, c.parent);
    const owner = await resolveOwner(view, step.chown, c.fail);
    const copy = (srcRoot: string, fromStage: boolean) => stageCopy({
      srcRoot, sources: local, dest: step.dest, ...owner, heredocs: step.heredocs, image: view, stageDir: dir, fail: c.fail,
      urls: fetched, extract: step.add && !fromStage, ...(c.signal ? { signal: c.signal } : {}),
      ...(step.chmod !== undefined ? { chmod: step.chmod } : {}), ...(step.chown !== undefined ? { chown: step.chown } : {}),
      fromStage, src: c.src, what: step.add ? 'ADD' : 'COPY', ...(!fromStage && c.ignore ? { ignore: c.ignore } : {}),
    });
    const sum = step.from !== undefined
      ? await withMountedImage(deps, await c.fromImage(step.from), c.tmp, (root) => copy(root, true))
      : await copy(c.contextDir, false);
    const key = stepKey(c.parent.configDigest, step.cacheText, `${sum.kind}:${sum.hex}`);
    const hit = await cached(deps, c, key);
    if (hit) return { image: hit, cached: true };
    const layer = await packToStore(deps.content, dir, sde);
    const createdBy = copyCreatedBy(step, sum);
    return remember(deps, key, await appendStep(deps, c.parent, { config: c.config, createdBy, layer, ...sde }));
  }));
}

async function withStage<T>(tmp: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmp, 'stage-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export type { Digest };
