/**
 * plan(): which stages a build needs and in which order (buildkit dockerfile2llb: only the target's
 * dependency graph is built, unlike the classic builder and buildah, which build every stage up to
 * the target). Global ARGs (before the first FROM) are evaluated here: they are what FROM lines
 * and `--from` values expand with; inside a stage they are visible only after `ARG NAME`.
 */
import { SbxError } from '../../protocol/index.js';
import { PROXY_ARGS } from './evaluate.js';
import { expand } from './expand.js';
import { fail } from './lexer.js';
import { parseTrigger } from './parse.js';
import type { BuildPlan, Dockerfile, Instruction, PlannedStage, SourceRange } from './types.js';

export interface PlanOptions {
  /** A stage name (case-insensitive); the last stage when absent. */
  target?: string;
  buildArgs?: Record<string, string>;
  /** The host platform sbx builds for; gives BUILDPLATFORM/TARGETPLATFORM & co. Default linux/amd64. */
  platform?: { os: string; architecture: string; variant?: string };
}

/**
 * buildkit's automatic platform ARGs: in the global scope (usable in FROM without ARG); a stage
 * sees them after a bare `ARG TARGETARCH`. sbx builds for the host only, so BUILD* = TARGET*.
 */
export function platformArgs(p: { os: string; architecture: string; variant?: string }): Record<string, string> {
  const platform = `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
  const out: Record<string, string> = {};
  for (const pre of ['BUILD', 'TARGET']) {
    Object.assign(out, { [`${pre}PLATFORM`]: platform, [`${pre}OS`]: p.os, [`${pre}ARCH`]: p.architecture, [`${pre}VARIANT`]: p.variant ?? '' });
  }
  return out;
}

export function plan(df: Dockerfile, opts: PlanOptions = {}): BuildPlan {
  const buildArgs = opts.buildArgs ?? {};
  const esc = df.directives.escape;
  const host = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const automatic = platformArgs(host);
  const globals: Record<string, string | undefined> = { ...automatic };
  const defined = (): Record<string, string> => Object.fromEntries(Object.entries(globals).filter(([, v]) => v !== undefined)) as Record<string, string>;
  const x = (word: string, src: SourceRange): string => {
    try { return expand(word, defined(), esc); } catch (e) { throw e instanceof SbxError ? fail(src, e.message) : e; }
  };
  for (const a of df.globalArgs) {
    for (const { key, value } of a.vars) {
      globals[key] = Object.hasOwn(buildArgs, key) ? buildArgs[key] : value !== undefined ? x(value, a.src) : automatic[key];
    }
  }
  const byName = new Map(df.stages.filter((s) => s.name).map((s) => [s.name!, s.index]));

  const planned: PlannedStage[] = df.stages.map((stage) => {
    const image = x(stage.from.image, stage.from.src);
    if (!image) throw fail(stage.from.src, `base name (${stage.from.image}) should not be blank`);
    const baseIdx = byName.get(image.toLowerCase());
    const base: PlannedStage['base'] = baseIdx !== undefined && baseIdx < stage.index ? { stage: baseIdx } : { image };
    let platform: string | undefined;
    if (stage.from.platform !== undefined) {
      platform = x(stage.from.platform, stage.from.src);
      const want = platform.split('/');
      if (want[0] !== host.os || (want[1] !== undefined && want[1] !== host.architecture) || (want[2] !== undefined && want[2] !== (host.variant ?? ''))) {
        throw new SbxError('not_implemented', `${stage.from.src.file}:${stage.from.src.line}: FROM --platform=${platform}: sbx builds for the host platform only (${automatic.TARGETPLATFORM})`);
      }
    }
    const froms: PlannedStage['froms'] = {};
    const deps = new Set<number>('stage' in base ? [base.stage] : []);
    for (const i of stage.instructions) {
      for (const raw of fromRefs(i)) {
        const v = x(raw, i.src);
        let ref: { stage: number } | { image: string };
        if (/^\d+$/.test(v)) {
          const n = Number(v);
          if (n >= df.stages.length) throw fail(i.src, `invalid stage index ${n}: the Dockerfile has ${df.stages.length} stage(s)`);
          ref = { stage: n };
        } else {
          const n = byName.get(v.toLowerCase());
          ref = n !== undefined ? { stage: n } : { image: v };
        }
        froms[raw] = ref;
        froms[v] = ref;
        if ('stage' in ref) deps.add(ref.stage);
      }
    }
    return { stage, base, deps: [...deps], froms, globals: { ...globals }, ...(platform !== undefined ? { platform } : {}) };
  });

  let target = df.stages.length - 1;
  if (opts.target !== undefined) {
    const n = byName.get(opts.target.toLowerCase());
    if (n === undefined) throw new SbxError('invalid_argument', `target stage "${opts.target}" could not be found`);
    target = n;
  }

  // depth-first from the target: dependencies first; meeting a stage still on the path is a cycle
  const order: number[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (n: number, via?: SourceRange): void => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') {
      const s = df.stages[n]!;
      throw fail(via ?? s.from.src, `circular dependency detected on stage: ${s.name ?? n}`);
    }
    state.set(n, 'visiting');
    const p = planned[n]!;
    for (const d of p.deps) visit(d, refSite(p, d) ?? p.stage.from.src);
    state.set(n, 'done');
    order.push(n);
  };
  visit(target);

  const declared = new Set(df.globalArgs.flatMap((a) => a.vars.map((v) => v.key)));
  for (const n of order) for (const i of df.stages[n]!.instructions) if (i.kind === 'ARG') for (const v of i.vars) declared.add(v.key);
  const unused = Object.keys(buildArgs).filter((k) => !declared.has(k) && !PROXY_ARGS.includes(k) && !k.startsWith('BUILDKIT_')).sort();
  const warnings = unused.length ? [`[Warning] One or more build-args [${unused.join(' ')}] were not consumed`] : [];
  return { stages: order.map((n) => planned[n]!), warnings };
}

/** A base image's ONBUILD triggers as instructions, placed at the FROM line that inherits them. */
export function onbuildInstructions(triggers: readonly string[] | undefined, src: SourceRange, escape: '\\' | '`' = '\\'): Instruction[] {
  return (triggers ?? []).map((t) => parseTrigger(t, src, escape));
}

function fromRefs(i: Instruction): string[] {
  if ((i.kind === 'COPY' || i.kind === 'ADD') && i.from !== undefined) return [i.from];
  if (i.kind === 'RUN') return i.mounts.filter((m) => m.from !== undefined).map((m) => m.from!);
  return [];
}

/** The line of the instruction in p that makes it depend on stage d (for the cycle message). */
function refSite(p: PlannedStage, d: number): SourceRange | undefined {
  if ('stage' in p.base && p.base.stage === d) return p.stage.from.src;
  for (const i of p.stage.instructions) {
    if (fromRefs(i).some((r) => { const f = p.froms[r]; return f !== undefined && 'stage' in f && f.stage === d; })) return i.src;
  }
  return undefined;
}
