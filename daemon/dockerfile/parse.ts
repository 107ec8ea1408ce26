/**
 * parseDockerfile: lexed lines → typed instructions grouped into stages (moby/buildkit
 * frontend/dockerfile/instructions/parse.go). Syntax only: nothing is expanded here, so values
 * keep their quotes and `$VAR`s; every error names `FILE:LINE`.
 */
import { fail, lex, shellWords, type LexedLine } from './lexer.js';
import type { ArgInstr, CommandForm, Dockerfile, FromInstr, Instruction, RunMount, Stage } from './types.js';

const ALLOWED_FLAGS: Record<string, string[]> = {
  FROM: ['platform'],
  RUN: ['mount', 'network', 'security'],
  COPY: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'],
  ADD: ['chown', 'chmod', 'link', 'checksum', 'keep-git-dir', 'exclude'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};
const KEYWORDS = ['FROM', 'RUN', 'COPY', 'ADD', 'ENV', 'ARG', 'WORKDIR', 'CMD', 'ENTRYPOINT', 'EXPOSE', 'LABEL', 'USER', 'VOLUME', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'ONBUILD', 'MAINTAINER'];
const STAGE_NAME_RE = /^[a-z][a-z0-9-_.]*$/;

export function parseDockerfile(text: string, file = 'Dockerfile'): Dockerfile {
  const { directives, lines } = lex(text, file);
  const globalArgs: ArgInstr[] = [];
  const stages: Stage[] = [];
  for (const l of lines) {
    const instr = parseInstruction(l, directives.escape);
    if (instr.kind === 'FROM') {
      if (instr.name && stages.some((s) => s.name === instr.name)) throw fail(l.src, `duplicate stage name "${instr.name}"`);
      stages.push({ index: stages.length, ...(instr.name ? { name: instr.name } : {}), from: instr, instructions: [] });
    } else if (stages.length === 0) {
      if (instr.kind !== 'ARG') throw fail(l.src, `no build stage in current context (${instr.kind} before the first FROM)`);
      globalArgs.push(instr);
    } else stages[stages.length - 1]!.instructions.push(instr);
  }
  if (stages.length === 0) throw fail({ file, line: Math.max(1, lines.length ? lines[lines.length - 1]!.src.endLine : 1) }, 'file with no instructions (no FROM)');
  return { directives, globalArgs, stages };
}

/** One trigger of a base image's ONBUILD (a single instruction line) → an instruction at `src`. */
export function parseTrigger(trigger: string, src: { file: string; line: number }, escape: '\\' | '`' = '\\'): Instruction {
  const { lines } = lex(trigger, src.file);
  if (lines.length !== 1) throw fail(src, `ONBUILD trigger "${trigger}" is not one instruction`);
  const l = lines[0]!;
  l.src = { file: src.file, line: src.line, endLine: src.line };
  const instr = parseInstruction(l, escape);
  if (instr.kind === 'FROM' || instr.kind === 'ONBUILD' || instr.kind === 'MAINTAINER') throw fail(src, `${instr.kind} isn't allowed as an ONBUILD trigger`);
  return instr;
}

function parseInstruction(l: LexedLine, escape: string): Instruction {
  const { keyword, rest, src } = l;
  if (!KEYWORDS.includes(keyword)) {
    const near = KEYWORDS.find((k) => k.startsWith(keyword.slice(0, 3)) || keyword.startsWith(k));
    throw fail(src, `unknown instruction: ${keyword}${near ? ` (did you mean ${near}?)` : ''}`);
  }
  const allowed = ALLOWED_FLAGS[keyword] ?? [];
  for (const f of Object.keys(l.flags)) if (!allowed.includes(f)) throw fail(src, `unknown flag: --${f}`);
  const base = { src, original: l.original, flags: l.flags, args: rest, heredocs: l.heredocs };
  const need = (ok: boolean, why: string): void => { if (!ok) throw fail(src, why); };
  const str = (name: string): string | undefined => { const v = l.flags[name]; return typeof v === 'string' ? v : undefined; };
  const bool = (name: string): boolean => {
    const v = l.flags[name];
    if (v === undefined || v === true || v === 'true') return v !== undefined;
    if (v === 'false') return false;
    throw fail(src, `expecting boolean value for flag ${name}, not: ${v}`);
  };
  switch (keyword) {
    case 'FROM': {
      const w = rest.split(/\s+/).filter(Boolean);
      need(w.length === 1 || (w.length === 3 && w[1]!.toUpperCase() === 'AS'), 'FROM requires either one or three arguments');
      const instr: FromInstr = { kind: 'FROM', ...base, image: w[0]! };
      if (w[2]) {
        const name = w[2].toLowerCase();
        need(STAGE_NAME_RE.test(name), `invalid name for build stage: "${w[2]}", name can't start with a number or contain symbols`);
        instr.name = name;
      }
      if (str('platform')) instr.platform = str('platform')!;
      return instr;
    }
    case 'RUN': {
      const network = str('network') ?? 'default';
      need(['default', 'none', 'host'].includes(network), `unsupported network mode "${network}"`);
      const security = str('security');
      need(security === undefined || security === 'sandbox' || security === 'insecure', `unsupported security mode "${security}"`);
      return {
        kind: 'RUN', ...base, command: commandForm(rest, src, 'RUN'),
        mounts: (l.multi.mount ?? []).map((m) => parseMount(m, src)),
        network: network as 'default', ...(security ? { security: security as 'sandbox' } : {}),
      };
    }
    case 'COPY': case 'ADD': {
      const list = maybeJSONList(rest, src) ?? rest.split(/\s+/).filter(Boolean);
      need(list.length >= 2, `${keyword} requires at least two arguments, but only one was provided. Destination could not be determined`);
      return {
        kind: keyword, ...base, sources: list.slice(0, -1), dest: list[list.length - 1]!,
        ...(str('from') !== undefined ? { from: str('from')! } : {}),
        ...(str('chown') !== undefined ? { chown: str('chown')! } : {}),
        ...(str('chmod') !== undefined ? { chmod: str('chmod')! } : {}),
        ...(str('checksum') !== undefined ? { checksum: str('checksum')! } : {}),
        link: bool('link'), parents: bool('parents'), keepGitDir: bool('keep-git-dir'), exclude: l.multi.exclude ?? [],
      };
    }
    case 'ENV': case 'LABEL':
      return { kind: keyword, ...base, pairs: nameValues(rest, src, keyword, escape) };
    case 'ARG': {
      need(rest !== '', 'ARG requires at least one argument');
      const vars = shellWords(rest, escape).map((w) => {
        const eq = w.indexOf('=');
        need(eq !== 0, 'ARG names can not be blank');
        return eq < 0 ? { key: w } : { key: w.slice(0, eq), value: w.slice(eq + 1) };
      });
      return { kind: 'ARG', ...base, vars };
    }
    case 'WORKDIR':
      need(rest !== '', 'WORKDIR requires exactly one argument');
      return { kind: 'WORKDIR', ...base, path: rest };
    case 'CMD': case 'ENTRYPOINT':
      return { kind: keyword, ...base, command: commandForm(rest, src, keyword) };
    case 'EXPOSE':
      need(rest !== '', 'EXPOSE requires at least one argument');
      return { kind: 'EXPOSE', ...base, ports: rest.split(/\s+/) };
    case 'USER':
      need(rest !== '', 'USER requires exactly one argument');
      return { kind: 'USER', ...base, user: rest };
    case 'VOLUME': {
      const paths = maybeJSONList(rest, src) ?? rest.split(/\s+/).filter(Boolean);
      need(paths.length > 0, 'VOLUME requires at least one argument');
      for (const p of paths) need(p.trim() !== '', 'VOLUME specified can not be an empty string');
      return { kind: 'VOLUME', ...base, paths };
    }
    case 'STOPSIGNAL':
      need(rest !== '' && !/\s/.test(rest), 'STOPSIGNAL requires exactly one argument');
      return { kind: 'STOPSIGNAL', ...base, signal: rest };
    case 'HEALTHCHECK':
      need(rest !== '', 'HEALTHCHECK requires at least one argument');
      return { kind: 'HEALTHCHECK', ...base };
    case 'SHELL': {
      const shell = maybeJSONList(rest, src);
      need(shell !== undefined, 'SHELL requires the arguments to be in JSON form');
      need(shell!.length > 0, 'SHELL requires at least one argument');
      return { kind: 'SHELL', ...base, shell: shell! };
    }
    case 'ONBUILD': {
      need(rest !== '', 'ONBUILD requires at least one argument');
      const first = rest.split(/\s+/)[0]!.toUpperCase();
      need(first !== 'ONBUILD', 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      need(first !== 'FROM' && first !== 'MAINTAINER', `${first} isn't allowed as an ONBUILD trigger`);
      parseTrigger(rest, src, escape as '\\'); // the trigger must itself be a valid instruction
      return { kind: 'ONBUILD', ...base, trigger: rest };
    }
    default: // MAINTAINER
      need(rest !== '', 'MAINTAINER requires exactly one argument');
      return { kind: 'MAINTAINER', ...base, maintainer: rest };
  }
}

/**
 * line_parsers.go parseJSON/parseMaybeJSON: text starting with `[` that parses as JSON is the exec
 * form and must be an array of strings; text that is not JSON at all is the shell form.
 */
function maybeJSONList(rest: string, src: { file: string; line: number }): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  let v: unknown;
  try { v = JSON.parse(rest); } catch { return undefined; }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw fail(src, `when using JSON array syntax, arrays must be comprised of strings only: ${rest}`);
  return v as string[];
}

function commandForm(rest: string, src: { file: string; line: number }, what: string): CommandForm {
  const exec = maybeJSONList(rest, src);
  if (exec) return { exec };
  if (rest === '' && what === 'RUN') throw fail(src, 'RUN requires at least one argument');
  return { shell: rest };
}

/** line_parsers.go parseNameVal: `k=v k2="v 2"` (quotes kept) or the legacy `k v…` (one pair). */
function nameValues(rest: string, src: { file: string; line: number }, what: string, escape: string): [string, string][] {
  if (rest === '') throw fail(src, `${what} requires at least one argument`);
  const words = shellWords(rest, escape);
  if (!words[0]!.includes('=')) {
    const parts = rest.split(/\s+/);
    if (parts.length < 2) throw fail(src, `${what} must have two arguments`);
    return [[parts[0]!, rest.slice(parts[0]!.length).trim()]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) throw fail(src, `Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    if (eq === 0) throw fail(src, `${what} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** instructions/commands_runmount.go: `type=cache,target=/x,id=…,sharing=…,from=…,source=…,ro`. */
function parseMount(spec: string, src: { file: string; line: number }): RunMount {
  const m: Partial<RunMount> & { readonly: boolean } = { type: 'bind', readonly: true };
  let rw: boolean | undefined;
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    const num = (): number => { if (!/^\d+$/.test(val ?? '')) throw fail(src, `invalid value for ${key}: ${val}`); return Number(val); };
    switch (key) {
      case 'type':
        if (!['bind', 'cache', 'tmpfs', 'secret', 'ssh'].includes(val ?? '')) throw fail(src, `unsupported mount type "${val}"`);
        m.type = val as RunMount['type'];
        break;
      case 'target': case 'dst': case 'destination': m.target = val ?? ''; break;
      case 'source': case 'src': m.source = val ?? ''; break;
      case 'from': m.from = val ?? ''; break;
      case 'id': m.id = val ?? ''; break;
      case 'sharing':
        if (!['shared', 'private', 'locked'].includes(val ?? '')) throw fail(src, `unsupported sharing value "${val}"`);
        m.sharing = val as 'shared';
        break;
      case 'ro': case 'readonly': rw = val === 'false'; break;
      case 'rw': case 'readwrite': rw = val !== 'false'; break;
      case 'mode': if (!/^[0-7]+$/.test(val ?? '')) throw fail(src, `invalid mode ${val}`); m.mode = parseInt(val!, 8); break;
      case 'uid': m.uid = num(); break;
      case 'gid': m.gid = num(); break;
      case 'size': m.size = num(); break;
      case 'required': m.required = val !== 'false'; break;
      default: throw fail(src, `unexpected key '${key}' in '${field}'`);
    }
  }
  // a cache or tmpfs mount is writable unless said otherwise; a bind is read-only unless rw
  m.readonly = rw === undefined ? m.type === 'bind' : !rw;
  if (m.type === 'cache' && m.sharing === undefined) m.sharing = 'shared';
  if (!m.target && m.type !== 'secret' && m.type !== 'ssh') throw fail(src, 'mount requires a target (target=/path)');
  return m as RunMount;
}
