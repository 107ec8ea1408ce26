/**
 * buildImage: a context and a Dockerfile → an image, as a chain of steps (docker's classic
 * builder's shape: every instruction after FROM is one history entry, a layer only where files
 * change).
 *
 * Contract
 * - Parses (daemon/dockerfile/parse.ts), plans the stages the target needs (stages.ts), then runs
 *   each stage's instructions in order through evaluate() → executeStep() (steps.ts), emitting
 *   BuildEvents: start, cached | output… done, warnings (unused --build-arg), error with the line.
 * - FROM and COPY --from=IMAGE images come from base.ts: pulled when missing here or with --pull.
 *   A base image's ONBUILD triggers run right after it, inside the FROM step (their output and
 *   CACHED as the step's output lines), and the stage's config drops them (docker).
 * - Stages run as soon as the stages they need are done (independent stages in parallel). The
 *   first failing stage stops the others; the build returns (or throws that first error) only
 *   once every stage has stopped, so nothing is still running when the caller cleans up.
 * - Holds the cache's inUse lock shared throughout (a builder prune waits for it).
 * - Tags are set at the very end, in one index update; a failed or cancelled build tags
 *   nothing. Its containers (run.ts) and temp dirs (under the caller's `tmp`) are removed.
 * - --label adds labels to the final image's config (no history entry, as BuildKit).
 * Errors: SbxError; instruction errors are invalid_argument `Dockerfile:LINE: …`.
 */
import { SbxError, type BuildEvent, type BuildResult, type ContainerConfig } from '../../protocol/index.js';
import { evaluate, initialState } from '../dockerfile/evaluate.js';
import { fail } from '../dockerfile/lexer.js';
import type { IgnoreMatcher } from '../dockerfile/context.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { onbuildInstructions, plan as planStages } from '../dockerfile/plan.js';
import type { Instruction, PlannedStage } from '../dockerfile/types.js';
import type { RemoteDeps } from '../images/remote.js';
import type { LoadedImage } from '../images/resolve.js';
import { keepUntagged, moveTag, normalizeTag } from '../images/store.js';
import { writeImage } from '../images/write.js';
import { baseImages } from './base.js';
import { executeStep, type StepDeps } from './steps.js';

export interface BuildOptions {
  dockerfile: { text: string; name: string };
  contextDir: string;
  ignore?: IgnoreMatcher;
  /** Private scratch directory for this build. */
  tmp: string;
  tags: string[];
  target?: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  noCache: boolean;
  pull: boolean;
  sourceDateEpoch?: number;
  signal?: AbortSignal;
  emit: (e: BuildEvent) => void;
}

export type BuildDeps = StepDeps & RemoteDeps;

export async function buildImage(deps: BuildDeps, o: BuildOptions): Promise<BuildResult> {
  return deps.cache.inUse.withShared(() => build(deps, o));
}

async function build(deps: BuildDeps, o: BuildOptions): Promise<BuildResult> {
  const tags = o.tags.map((t) => normalizeTag(t));
  const df = parseDockerfile(o.dockerfile.text, o.dockerfile.name);
  const plan = planStages(df, { ...(o.target !== undefined ? { target: o.target } : {}), buildArgs: o.buildArgs });
  for (const w of plan.warnings) o.emit({ kind: 'warning', message: w });
  const total = plan.stages.reduce((n, p) => n + 1 + p.stage.instructions.length, 0);
  let next = 1;
  const numbers = new Map<number, number>();
  for (const p of plan.stages) { numbers.set(p.stage.index, next); next += 1 + p.stage.instructions.length; }
  let cachedSteps = 0;
  const results = new Map<number, Promise<LoadedImage>>();

  // the build's own signal: the caller's, and the first failing stage stops the others
  const stop = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
  const baseImage = baseImages(deps, {
    pull: o.pull, signal,
    log: (step, line) => o.emit({ kind: 'output', step, stream: 'stdout', data: `${line}\n` }),
  });

  const runStage = async (p: PlannedStage): Promise<LoadedImage> => {
    for (const d of p.deps) await results.get(d);
    const s = p.stage;
    const label = s.name ?? String(s.index);
    let n = numbers.get(s.index)!;
    const src = (i: Instruction) => ({ file: i.src.file, line: i.src.line, endLine: i.src.endLine });
    o.emit({ kind: 'start', step: n, total, stage: label, text: s.from.original, src: src(s.from) });
    const tFrom = Date.now();
    let image = 'stage' in p.base ? await results.get(p.base.stage)! : await baseImage(p.base.image, s.from.src, n);
    let state = initialState(image.config.config, p.globals, o.buildArgs, df.directives.escape);
    // the base's ONBUILD triggers run first, inside the FROM step; the child does not inherit them
    const triggers = onbuildInstructions(state.config.OnBuild, s.from.src, df.directives.escape);
    delete state.config.OnBuild;
    const one = async (instr: Instruction, step_n: number): Promise<boolean> => {
      signal.throwIfAborted();
      const step = evaluate(instr, state);
      const config: ContainerConfig = step.kind === 'config' ? step.config : state.config;
      const r = await executeStep(deps, step, {
        parent: image, config, noCache: o.noCache, tmp: o.tmp, contextDir: o.contextDir, src: instr.src,
        ...(o.ignore ? { ignore: o.ignore } : {}),
        ...(o.sourceDateEpoch !== undefined ? { sourceDateEpoch: o.sourceDateEpoch } : {}),
        signal,
        fromImage: async (ref) => {
          const f = p.froms[ref];
          if (f && 'stage' in f) return results.get(f.stage)!;
          return baseImage(ref, instr.src, step_n);
        },
        onOutput: (stream, data) => o.emit({ kind: 'output', step: step_n, stream, data }),
        fail: (why) => fail(instr.src, why),
      });
      image = r.image;
      if (step.kind === 'config') state = { ...state, config: step.config, ...(step.cmdSet ? { cmdSet: true } : {}) };
      if (step.kind === 'arg') state = { ...state, args: step.args };
      if (r.cached) cachedSteps++;
      return r.cached;
    };
    for (const t of triggers) {
      o.emit({ kind: 'output', step: n, stream: 'stdout', data: `ONBUILD ${t.original}\n` });
      if (await one(t, n)) o.emit({ kind: 'output', step: n, stream: 'stdout', data: 'CACHED\n' });
    }
    o.emit({ kind: 'done', step: n, image: image.configDigest, ms: Date.now() - tFrom });
    for (const instr of s.instructions) {
      n++;
      const t0 = Date.now();
      o.emit({ kind: 'start', step: n, total, stage: label, text: instr.original, src: src(instr) });
      if (await one(instr, n)) o.emit({ kind: 'cached', step: n, image: image.configDigest });
      else o.emit({ kind: 'done', step: n, image: image.configDigest, ms: Date.now() - t0 });
    }
    return image;
  };

  for (const p of plan.stages) {
    const r = runStage(p);
    r.catch((e: unknown) => stop.abort(e)); // awaited below or by a dependent
    results.set(p.stage.index, r);
  }
  // a failure in any stage fails the build, once every stage has stopped (its containers, mounts
  // and temp dirs gone); the first failure is the one reported, not the stops it caused
  await Promise.allSettled(results.values());
  o.signal?.throwIfAborted();
  if (stop.signal.aborted) throw stop.signal.reason;
  let final = await results.get(plan.stages[plan.stages.length - 1]!.stage.index)!;
  if (Object.keys(o.labels).length) final = await withLabels(deps, final, o.labels);
  o.signal?.throwIfAborted();
  if (tags.length) {
    await deps.images.update((t, untagged) => { for (const name of tags) moveTag(t, untagged, name, final.target); });
  }
  return { Id: final.configDigest, Tags: tags, Cached: cachedSteps, Steps: total };
}

async function withLabels(deps: StepDeps, image: LoadedImage, labels: Record<string, string>): Promise<LoadedImage> {
  const config = { ...image.config, config: { ...image.config.config, Labels: { ...(image.config.config?.Labels ?? {}), ...labels } } };
  return deps.gcLock.withShared(async () => {
    const { manifest, configDigest } = await writeImage(deps.content, image.manifest.layers, config);
    await deps.images.update((tags, untagged) => keepUntagged(tags, untagged, manifest));
    return { ...image, target: manifest, descriptor: manifest, config, configDigest };
  });
}
