/**
 * evaluate(instr, state): one instruction of a stage → one Step for the executor, with docker's
 * semantics (moby daemon/builder/dockerfile/dispatchers.go for the config and the history text,
 * buildkit dockerfile2llb for RUN mounts/heredocs and COPY destinations).
 *
 * Expansion happens exactly where docker does it (instructions/commands.go Expand): ADD, COPY
 * (sources, dest, --chown, --chmod, --from), ENV, EXPOSE (word-split), LABEL, STOPSIGNAL, USER,
 * VOLUME, WORKDIR, ARG defaults, RUN --mount values. RUN, CMD, ENTRYPOINT, HEALTHCHECK, SHELL and
 * ONBUILD are never expanded by the builder (the shell does it at run time). The variables are
 * the stage's ARGs with values, overridden by its ENV (reference.md "Using ARG variables").
 */
import { posix } from 'node:path';
import { SbxError, formatGoDuration, type ContainerConfig } from '../../protocol/index.js';
import { addExposed, addLabels, addVolumes, healthcheck, setCommand, setEnv, setStopSignal, setWorkdir, withShell, type Bad } from './dispatch.js';
import { envVars, expand, expandWords } from './expand.js';
import { fail } from './lexer.js';
import type { CopyInstr, HealthcheckInstr, Instruction, RunInstr, StageState, Step } from './types.js';

/** Predefined ARGs (reference.md "Predefined ARGs"): usable in RUN without ARG, kept out of history. */
export const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

const NOP = '/bin/sh -c #(nop) ';

export function initialState(config: ContainerConfig | undefined, globals: Record<string, string | undefined>, buildArgs: Record<string, string>, escape: '\\' | '`' = '\\'): StageState {
  return { config: structuredClone(config ?? {}), args: {}, buildArgs, globals, escape };
}

/** The variables an instruction expands with: ARGs that have a value, then ENV over them. */
export function stageVars(state: StageState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(state.args)) if (v !== undefined) out[k] = v;
  return { ...out, ...envVars(state.config.Env) };
}

export function evaluate(instr: Instruction, state: StageState): Step {
  const bad: Bad = (why) => fail(instr.src, why);
  const vars = stageVars(state);
  const x = (word: string): string => {
    try { return expand(word, vars, state.escape); } catch (e) { throw rethrow(instr, e); }
  };
  const c: ContainerConfig = structuredClone(state.config);
  const config = (text: string, extra: Partial<Extract<Step, { kind: 'config' }>> = {}): Step =>
    ({ kind: 'config', config: c, createdBy: NOP + ' ' + text, emptyLayer: true, ...extra });
  switch (instr.kind) {
    case 'FROM':
      throw bad('FROM is planned, not evaluated');
    case 'ENV': case 'LABEL': {
      const pairs = instr.pairs.map(([k, v]) => [x(k), x(v)] as [string, string]);
      for (const [k] of pairs) if (!k) throw bad(`${instr.kind} names can not be blank`);
      if (instr.kind === 'ENV') setEnv(c, pairs); else addLabels(c, pairs);
      return config(`${instr.kind} ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    }
    case 'ARG': {
      const args = { ...state.args };
      for (const { key, value } of instr.vars) {
        const scope = { ...stageVars({ ...state, args }) };
        args[key] = Object.hasOwn(state.buildArgs, key) ? state.buildArgs[key]
          : value !== undefined ? (() => { try { return expand(value, scope, state.escape); } catch (e) { throw rethrow(instr, e); } })()
          : state.globals[key];
      }
      const text = instr.vars.map(({ key, value }) => value === undefined ? key : `${key}=${value}`).join(' ');
      return { kind: 'arg', args, createdBy: `${NOP} ARG ${text}`, emptyLayer: true };
    }
    case 'WORKDIR': {
      const dir = x(instr.path);
      const abs = setWorkdir(c, dir, bad);
      // dispatchers.go dispatchWorkdir: the history names the resolved directory
      return { kind: 'config', config: c, createdBy: `${NOP}WORKDIR ${abs}`, emptyLayer: true, mkdir: abs };
    }
    case 'USER': {
      const user = x(instr.user);
      if (!user) throw bad('USER requires exactly one argument');
      c.User = user;
      return config(`USER ${user}`);
    }
    case 'EXPOSE': {
      const ports = instr.ports.flatMap((p) => { try { return expandWords(p, vars, state.escape); } catch (e) { throw rethrow(instr, e); } });
      addExposed(c, ports, bad);
      return config(`EXPOSE ${ports.join(' ')}`);
    }
    case 'VOLUME': {
      const paths = instr.paths.map(x);
      addVolumes(c, paths, bad);
      return config(`VOLUME [${paths.join(' ')}]`);
    }
    case 'STOPSIGNAL': {
      const sig = x(instr.signal);
      setStopSignal(c, sig, bad);
      return config(`STOPSIGNAL ${sig}`);
    }
    case 'CMD': case 'ENTRYPOINT': {
      const argv = 'exec' in instr.command ? instr.command.exec : withShell(c.Shell, instr.command.shell);
      setCommand(c, instr.kind, argv, !!state.cmdSet);
      return config(`${instr.kind} ${goQuoteList(argv)}`, instr.kind === 'CMD' ? { cmdSet: true } : {});
    }
    case 'HEALTHCHECK': {
      c.Healthcheck = healthcheck(healthArgs(instr), bad);
      const h = c.Healthcheck;
      const test = h.Test ?? [];
      return config(`HEALTHCHECK &{[${test.join(' ')}] ${goDuration(h.Interval)} ${goDuration(h.Timeout)} ${goDuration(h.StartPeriod)} ${goDuration(h.StartInterval)} ${h.Retries ?? 0}}`);
    }
    case 'SHELL':
      c.Shell = [...instr.shell];
      return config(`SHELL [${instr.shell.join(' ')}]`);
    case 'ONBUILD':
      c.OnBuild = [...(c.OnBuild ?? []), instr.trigger];
      return config(`ONBUILD ${instr.trigger}`);
    case 'MAINTAINER':
      return config(`MAINTAINER ${instr.maintainer}`, { author: instr.maintainer });
    case 'RUN':
      return run(instr, state, x);
    case 'COPY': case 'ADD':
      return copy(instr, state, x, bad);
  }
}

function run(instr: RunInstr, state: StageState, x: (w: string) => string): Step {
  const c = state.config;
  let argv: string[];
  let files: { path: string; content: string; mode: number }[] | undefined;
  if ('exec' in instr.command) argv = instr.command.exec;
  else {
    let text = instr.command.shell;
    const docs = instr.heredocs;
    // dockerfile2llb dispatchRun: `RUN <<EOF` alone runs the body as the script; otherwise the
    // heredocs are put back after the command for the shell to read.
    const simple = docs.length === 1 && /^\d*<<-?["']?[^\s<"']+["']?$/.test(text.trim());
    if (simple && docs[0]!.content.startsWith('#!')) {
      files = [{ path: `/dev/pipes/${docs[0]!.name}`, content: docs[0]!.content, mode: 0o755 }];
      argv = [files[0]!.path];
    } else {
      if (simple) text = docs[0]!.content;
      else for (const h of docs) text += '\n' + h.content + h.name;
      argv = withShell(c.Shell, text);
    }
  }
  const env = envVars(c.Env);
  // build args reach the process env unless ENV overrides them; declared ones are written into
  // the history as `|N K=V …` (dispatchers.go prependEnvOnCmd), the predefined proxies are not
  const declared = Object.entries(state.args).filter(([k, v]) => v !== undefined && !(k in env)) as [string, string][];
  declared.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const proxies = PROXY_ARGS.filter((k) => Object.hasOwn(state.buildArgs, k) && !(k in env) && !(k in state.args)).map((k) => `${k}=${state.buildArgs[k]}`);
  const prefix = declared.length ? `|${declared.length} ${declared.map(([k, v]) => `${k}=${v}`).join(' ')} ` : '';
  const createdBy = prefix + argv.join(' ');
  const mounts = instr.mounts.map((m) => ({
    ...m, target: x(m.target),
    ...(m.source !== undefined ? { source: x(m.source) } : {}),
    ...(m.from !== undefined ? { from: x(m.from) } : {}),
    ...(m.id !== undefined ? { id: x(m.id) } : {}),
  }));
  const network = instr.network ?? 'default';
  const user = c.User ?? '';
  const workdir = c.WorkingDir || '/';
  const fullEnv = [...(c.Env ?? []), ...declared.map(([k, v]) => `${k}=${v}`), ...proxies];
  return {
    kind: 'run', argv, env: fullEnv, user, workdir, mounts, network, heredocs: instr.heredocs, createdBy, ...(files ? { files } : {}),
    cacheText: JSON.stringify({ createdBy, env: fullEnv, user, workdir, mounts, network, files }),
  };
}

function copy(instr: CopyInstr, state: StageState, x: (w: string) => string, bad: Bad): Step {
  const add = instr.kind === 'ADD';
  const docNames = new Set(instr.heredocs.map((h) => h.name));
  const isDoc = (s: string): boolean => { const m = /^\d*<<-?["']?([^"']+)["']?$/.exec(s); return !!m && docNames.has(m[1]!); };
  const sources = instr.sources.filter((s) => !isDoc(s)).map(x);
  for (const s of sources) if (/^https?:\/\//.test(s) && !add) throw bad(`COPY does not support URLs as a source (${s}); use ADD`);
  const vars = stageVars(state);
  const heredocs = instr.heredocs.map((h) => (h.expand ? { ...h, content: expand(h.content, vars, state.escape) } : h));
  const destText = x(instr.dest);
  const workdir = state.config.WorkingDir || '/';
  let dest = destText.startsWith('/') ? posix.normalize(destText) : posix.join('/', workdir, destText);
  // buildkit convert_copy: a destination written with a trailing slash, or `.`, is a directory
  if ((destText.endsWith('/') || destText === '.' || destText === '' || destText.endsWith('/.')) && !dest.endsWith('/')) dest += '/';
  const chown = instr.chown !== undefined ? x(instr.chown) : undefined;
  const chmod = instr.chmod !== undefined ? x(instr.chmod) : undefined;
  if (chmod !== undefined && !/^[0-7]{3,4}$/.test(chmod)) throw bad(`invalid chmod parameter "${chmod}": expected an octal mode like 0755`);
  const from = instr.from !== undefined ? x(instr.from) : undefined;
  const checksum = instr.checksum !== undefined ? x(instr.checksum) : undefined;
  if (checksum !== undefined && !add) throw bad('--checksum is only for ADD');
  if (sources.length + heredocs.length > 1 && !dest.endsWith('/')) {
    throw bad(`When using ${instr.kind} with more than one source file, the destination must be a directory and end with a /`);
  }
  const flags = [from !== undefined && `--from=${from}`, chown !== undefined && `--chown=${chown}`, chmod !== undefined && `--chmod=${chmod}`,
    instr.link && '--link', instr.parents && '--parents', checksum !== undefined && `--checksum=${checksum}`, ...instr.exclude.map((e) => `--exclude=${x(e)}`)].filter(Boolean);
  const cacheText = [instr.kind, ...flags, ...sources, ...heredocs.map((h) => `<<${h.name}:${JSON.stringify(h.content)}`), destText].join(' ');
  return {
    kind: 'copy', add, sources, dest, destText, ...(from !== undefined ? { from } : {}), ...(chown !== undefined ? { chown } : {}),
    ...(chmod !== undefined ? { chmod } : {}), link: instr.link, parents: instr.parents, exclude: instr.exclude.map(x), heredocs,
    ...(checksum !== undefined ? { checksum } : {}), cacheText,
  };
}

/**
 * The classic builder's COPY/ADD history text (dispatchers.go performCopy + withCmdCommentString):
 * `/bin/sh -c #(nop) COPY [--chown=u:g ]file:<hex> in <dest> ` (trailing blank included); kind is
 * file (one file), dir (one directory) or multi (several sources).
 */
export function copyCreatedBy(step: Extract<Step, { kind: 'copy' }>, sum: { kind: 'file' | 'dir' | 'multi'; hex: string }): string {
  const chown = step.chown !== undefined ? `--chown=${step.chown} ` : '';
  return `${NOP}${step.add ? 'ADD' : 'COPY'} ${chown}${sum.kind}:${sum.hex.replace(/^sha256:/, '')} in ${step.destText} `;
}

function healthArgs(instr: HealthcheckInstr): string {
  const flags = Object.entries(instr.flags).map(([k, v]) => (v === true ? `--${k}` : `--${k}=${v}`));
  return [...flags, instr.args].join(' ');
}

/** Go's %q of a []string: `["a" "b c"]`. */
function goQuoteList(argv: readonly string[]): string {
  return `[${argv.map((a) => JSON.stringify(a)).join(' ')}]`;
}

/** Go's time.Duration String() (protocol/units.ts). */
export const goDuration = formatGoDuration;

function rethrow(instr: Instruction, e: unknown): unknown {
  if (e instanceof SbxError && !e.message.startsWith(`${instr.src.file}:`)) return fail(instr.src, e.message);
  return e;
}
