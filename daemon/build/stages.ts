/**
 * Which stages a build needs, in order: the executor's planner until daemon/dockerfile/plan.ts
 * (the front's, with ONBUILD and the full ARG rules) lands; same BuildPlan shape, so the switch
 * is one import. FROM is expanded with the global ARGs (--build-arg over their defaults); a stage
 * is needed when the target builds on it or copies/mounts from it; an unknown --target, a stage
 * used before it is defined (a cycle), are errors naming the line.
 */
import { SbxError } from '../../protocol/index.js';
import { expand } from '../dockerfile/expand.js';
import { fail } from '../dockerfile/lexer.js';
import type { BuildPlan, Dockerfile, PlannedStage, Stage } from '../dockerfile/types.js';

export function planStages(df: Dockerfile, o: { target?: string; buildArgs: Record<string, string> }): BuildPlan {
  if (df.stages.length === 0) throw new SbxError('invalid_argument', 'Dockerfile: no FROM instruction (the file is empty?)');
  const globals: Record<string, string | undefined> = {};
  const used = new Set<string>();
  for (const a of df.globalArgs) for (const v of a.vars) {
    globals[v.key] = Object.hasOwn(o.buildArgs, v.key) ? o.buildArgs[v.key] : v.value !== undefined ? expand(v.value, defined(globals), df.directives.escape) : undefined;
    used.add(v.key);
  }
  const byName = new Map<string, Stage>();
  for (const s of df.stages) if (s.name) byName.set(s.name.toLowerCase(), s);
  const lookup = (ref: string, before: number): Stage | undefined => {
    const s = byName.get(ref.toLowerCase()) ?? (/^\d+$/.test(ref) ? df.stages[Number(ref)] : undefined);
    return s && s.index < before ? s : undefined;
  };
  const planned = new Map<number, PlannedStage>();
  const plan = (s: Stage): PlannedStage => {
    const done = planned.get(s.index);
    if (done) return done;
    const image = expand(s.from.image, defined(globals), df.directives.escape);
    const deps: number[] = [];
    const froms: PlannedStage['froms'] = {};
    const baseStage = lookup(image, s.index);
    if (byName.has(image.toLowerCase()) && !baseStage) throw fail(s.from.src, `stage ${image} is used before it is defined (a cycle?)`);
    if (baseStage) deps.push(baseStage.index);
    for (const i of s.instructions) {
      const refs: string[] = [];
      if (i.kind === 'COPY' || i.kind === 'ADD') { if (i.from !== undefined) refs.push(i.from); }
      if (i.kind === 'RUN') for (const m of i.mounts) if (m.from !== undefined) refs.push(m.from);
      for (const ref of refs) {
        const st = lookup(ref, s.index);
        if (st) { froms[ref] = { stage: st.index }; deps.push(st.index); continue; }
        if (byName.has(ref.toLowerCase()) || /^\d+$/.test(ref)) throw fail(i.src, `stage ${ref} is not defined before this instruction (a cycle or a typo)`);
        froms[ref] = { image: ref };
      }
      if (i.kind === 'ARG') for (const v of i.vars) used.add(v.key);
    }
    const p: PlannedStage = { stage: s, base: baseStage ? { stage: baseStage.index } : { image }, deps: [...new Set(deps)], froms, globals };
    planned.set(s.index, p);
    return p;
  };
  let target = df.stages[df.stages.length - 1]!;
  if (o.target !== undefined) {
    const t = byName.get(o.target.toLowerCase());
    if (!t) throw new SbxError('invalid_argument', `failed to reach build target ${o.target} in Dockerfile`);
    target = t;
  }
  const order: PlannedStage[] = [];
  const visit = (s: Stage): void => {
    if (order.some((p) => p.stage.index === s.index)) return;
    const p = plan(s);
    for (const d of p.deps) visit(df.stages[d]!);
    order.push(p);
  };
  visit(target);
  const unused = Object.keys(o.buildArgs).filter((k) => !used.has(k) && !PREDEFINED.has(k)).sort();
  const warnings = unused.length ? [`[Warning] One or more build-args [${unused.join(' ')}] were not consumed`] : [];
  return { stages: order, warnings };
}

const PREDEFINED = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

function defined(v: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = x;
  return out;
}
