/**
 * `--change` / `-c` instructions (docker commit/import): Dockerfile lines that edit an image's
 * runtime config, parsed and applied with docker's rules (moby daemon/builder/dockerfile
 * BuildFromConfig + dispatchers + commit merge; see reference/commit-semantics.md §1.3).
 *
 *   CMD / ENTRYPOINT   exec form (a JSON array of strings) or shell form → [...Shell, "cmd"]
 *                      (Shell defaults to ["/bin/sh", "-c"]); ENTRYPOINT resets Cmd unless a CMD
 *                      came earlier in the same change set
 *   ENV k=v k2="v 2"   or legacy `ENV k v…`; an existing key is replaced in place, else appended
 *   EXPOSE 80 53/udp 8000-8002   default tcp; union
 *   LABEL k=v …        union, new values win
 *   ONBUILD <instr>    stored raw (ONBUILD ONBUILD / FROM / MAINTAINER are refused)
 *   USER, WORKDIR      set (WORKDIR relative to the previous one, normalised)
 *   VOLUME /a /b | ["/a"]   union
 *   HEALTHCHECK [--interval= --timeout= --start-period= --start-interval= --retries=] CMD … | NONE
 *   STOPSIGNAL SIGTERM | 15
 *
 * The config semantics themselves live in dispatch.ts and are shared with `sbx build`
 * (evaluate.ts); this file is the commit front end: change strings, no variable expansion.
 *
 * Contract: applyChanges() never mutates its input. Every malformed, unknown or refused line
 * (RUN, COPY, ADD, FROM, ARG, SHELL, MAINTAINER, …) throws SbxError invalid_argument whose
 * message names the line: `change "RUN make": RUN is not a valid change command`.
 */
import { SbxError, type ContainerConfig, type HealthConfig } from '../../protocol/index.js';
import { addExposed, addLabels, addVolumes, healthcheck, jsonArray, setCommand, setEnv, setStopSignal, setWorkdir, withShell } from './dispatch.js';

export { parseDuration } from './dispatch.js';

export const CHANGE_INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR', 'HEALTHCHECK', 'STOPSIGNAL'] as const;
export type ChangeInstruction = typeof CHANGE_INSTRUCTIONS[number];

const DOCKERFILE_ONLY = ['RUN', 'COPY', 'ADD', 'FROM', 'ARG', 'SHELL', 'MAINTAINER'];

export interface ParsedChange { instruction: ChangeInstruction; args: string; line: string }

function bad(line: string, why: string): SbxError {
  return new SbxError('invalid_argument', `change "${line}": ${why}`);
}

/** Split change strings into instruction lines (joining `\` continuations, dropping blanks and # comments). */
export function parseChanges(changes: readonly string[]): ParsedChange[] {
  const out: ParsedChange[] = [];
  for (const change of changes) {
    if (typeof change !== 'string') throw new SbxError('invalid_argument', 'change: expected a string');
    const logical: string[] = [];
    let cur = '';
    for (const raw of change.split(/\r?\n/)) {
      if (cur === '' && /^\s*#/.test(raw)) continue;
      if (/\\\s*$/.test(raw)) { cur += raw.replace(/\\\s*$/, ''); continue; }
      logical.push(cur + raw);
      cur = '';
    }
    if (cur) logical.push(cur);
    for (const l of logical) {
      const line = l.trim();
      if (!line) continue;
      const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(line)!;
      const word = m[1]!.toUpperCase();
      const args = (m[2] ?? '').trim();
      if (DOCKERFILE_ONLY.includes(word)) throw bad(line, `${word} is not a valid change command`);
      if (!(CHANGE_INSTRUCTIONS as readonly string[]).includes(word)) throw bad(line, `unknown instruction: ${m[1]}`);
      out.push({ instruction: word as ChangeInstruction, args, line });
    }
  }
  return out;
}

/** Apply change lines to `base` as docker commit/import do. Returns a new config. */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const parsed = parseChanges(changes);
  const c: ContainerConfig = structuredClone(base ?? {});
  let cmdSet = false;
  for (const ch of parsed) {
    const { line, args } = ch;
    const b = (why: string): SbxError => bad(line, why);
    switch (ch.instruction) {
      case 'CMD':
        setCommand(c, 'CMD', commandForm(line, args, c.Shell, 'CMD'), cmdSet);
        cmdSet = true;
        break;
      case 'ENTRYPOINT':
        setCommand(c, 'ENTRYPOINT', commandForm(line, args, c.Shell, 'ENTRYPOINT', true), cmdSet);
        break;
      case 'ENV': setEnv(c, pairs(line, args, 'ENV')); break;
      case 'EXPOSE': addExposed(c, args ? words(line, args) : [], b); break;
      case 'LABEL': addLabels(c, pairs(line, args, 'LABEL')); break;
      case 'ONBUILD': {
        if (!args) throw bad(line, 'ONBUILD requires at least one argument');
        const first = args.split(/\s+/)[0]!.toUpperCase();
        if (first === 'ONBUILD') throw bad(line, 'chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        if (first === 'FROM' || first === 'MAINTAINER') throw bad(line, `${first} isn't allowed as an ONBUILD trigger`);
        c.OnBuild = [...(c.OnBuild ?? []), args];
        break;
      }
      case 'USER':
        if (!args) throw bad(line, 'USER requires exactly one argument');
        c.User = args;
        break;
      case 'WORKDIR': setWorkdir(c, args ? unquote(args) : '', b); break;
      case 'VOLUME':
        addVolumes(c, args.startsWith('[') ? jsonArray(args, b) ?? words(line, args) : words(line, args), b);
        break;
      case 'HEALTHCHECK': c.Healthcheck = healthcheck(args, b); break;
      case 'STOPSIGNAL': setStopSignal(c, args, b); break;
    }
  }
  return mergeCommit(c, base ?? {});
}

/** docker's merge(userConf, imageConf) (daemon/commit.go): fill what the changes left empty. */
function mergeCommit(user: ContainerConfig, image: ContainerConfig): ContainerConfig {
  if (!user.User) { if (image.User) user.User = image.User; }
  if (image.ExposedPorts) user.ExposedPorts = { ...image.ExposedPorts, ...(user.ExposedPorts ?? {}) };
  if (image.Env?.length) {
    const env = [...(user.Env ?? [])];
    const keys = new Set(env.map((e) => e.split('=')[0]));
    for (const e of image.Env) if (!keys.has(e.split('=')[0])) env.push(e);
    user.Env = env;
  }
  if (image.Labels) user.Labels = { ...image.Labels, ...(user.Labels ?? {}) };
  if (!user.Entrypoint || user.Entrypoint.length === 0) {
    if (!user.Cmd || user.Cmd.length === 0) { if (image.Cmd !== undefined) user.Cmd = image.Cmd; }
    if (user.Entrypoint === undefined || user.Entrypoint === null) { if (image.Entrypoint !== undefined) user.Entrypoint = image.Entrypoint; }
  }
  if (!user.WorkingDir && image.WorkingDir) user.WorkingDir = image.WorkingDir;
  if (image.Volumes) user.Volumes = { ...image.Volumes, ...(user.Volumes ?? {}) };
  if (!user.StopSignal && image.StopSignal) user.StopSignal = image.StopSignal;
  if (image.Healthcheck) {
    const h: HealthConfig = { ...(user.Healthcheck ?? {}) };
    for (const k of ['Test', 'Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
      const v = h[k as keyof HealthConfig];
      if (v === undefined || (Array.isArray(v) ? v.length === 0 : v === 0)) {
        const iv = (image.Healthcheck as Record<string, unknown>)[k];
        if (iv !== undefined) (h as Record<string, unknown>)[k] = iv;
      }
    }
    user.Healthcheck = h;
  }
  return user;
}

// --- parsing helpers ---------------------------------------------------------------------------

function commandForm(line: string, args: string, shell: string[] | undefined, what: string, allowEmpty = false): string[] {
  const exec = jsonArray(args, (why) => bad(line, why));
  if (exec) return exec;
  if (!args && !allowEmpty) throw bad(line, `${what} requires at least one argument`);
  return withShell(shell, args);
}

/** Shell-like words: whitespace-separated, '…' and "…" quoting, backslash escapes. */
function words(line: string, s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let q: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (q) {
      if (ch === q) { q = undefined; continue; }
      if (ch === '\\' && q === '"' && i + 1 < s.length) { cur += s[++i]; continue; }
      cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") { q = ch; inWord = true; continue; }
    if (ch === '\\' && i + 1 < s.length) { cur += s[++i]; inWord = true; continue; }
    if (/\s/.test(ch)) { if (inWord) { out.push(cur); cur = ''; inWord = false; } continue; }
    cur += ch;
    inWord = true;
  }
  if (q) throw bad(line, `unterminated ${q === '"' ? 'double' : 'single'} quote`);
  if (inWord) out.push(cur);
  return out;
}

function unquote(s: string): string {
  const w = words(s, s);
  return w.length === 1 ? w[0]! : s;
}

/** ENV/LABEL arguments: `k=v k2="v 2"` or the legacy single pair `k v…`. */
function pairs(line: string, args: string, what: string): [string, string][] {
  if (!args) throw bad(line, `${what} requires at least one argument`);
  const first = /^([^\s=]+)(\s+|=|$)/.exec(args);
  if (first && first[2] !== '=') {
    // legacy form: the first word is the key, the rest of the line (unquoted) the value
    const rest = args.slice(first[0].length);
    if (!rest) throw bad(line, `${what} must have two arguments`);
    return [[first[1]!, words(line, rest).join(' ')]];
  }
  const out: [string, string][] = [];
  for (const w of words(line, args)) {
    const eq = w.indexOf('=');
    if (eq <= 0) throw bad(line, `${what} names can not be blank` + (eq < 0 ? ` (expected KEY=VALUE, got "${w}")` : ''));
    out.push([w.slice(0, eq), w.slice(eq + 1)]);
  }
  return out;
}
