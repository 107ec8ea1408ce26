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
 * Contract: applyChanges() never mutates its input. Every malformed, unknown or refused line
 * (RUN, COPY, ADD, FROM, ARG, SHELL, MAINTAINER, …) throws SbxError invalid_argument whose
 * message names the line: `change "RUN make": RUN is not a valid change command`.
 */
import { posix } from 'node:path';
import { SbxError, type ContainerConfig, type HealthConfig } from '../../protocol/index.js';

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
    switch (ch.instruction) {
      case 'CMD':
        c.Cmd = commandForm(line, args, c.Shell, 'CMD');
        cmdSet = true;
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = commandForm(line, args, c.Shell, 'ENTRYPOINT', true);
        if (!cmdSet) c.Cmd = null;
        break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of pairs(line, args, 'ENV')) {
          const i = env.findIndex((e) => e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')) === k);
          if (i >= 0) env[i] = `${k}=${v}`; else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        if (!args) throw bad(line, 'EXPOSE requires at least one argument');
        for (const p of words(line, args)) for (const k of exposed(line, p)) ports[k] = {};
        c.ExposedPorts = ports;
        break;
      }
      case 'LABEL': {
        const labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of pairs(line, args, 'LABEL')) labels[k] = v;
        c.Labels = labels;
        break;
      }
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
      case 'WORKDIR': {
        if (!args) throw bad(line, 'WORKDIR requires exactly one argument');
        const dir = unquote(args);
        c.WorkingDir = posix.normalize(dir.startsWith('/') ? dir : posix.join('/', c.WorkingDir || '/', dir));
        break;
      }
      case 'VOLUME': {
        const vols = { ...(c.Volumes ?? {}) };
        const list = args.startsWith('[') ? jsonArray(line, args) ?? words(line, args) : words(line, args);
        if (list.length === 0) throw bad(line, 'VOLUME requires at least one argument');
        for (const v of list) {
          if (!v.trim()) throw bad(line, 'VOLUME specified can not be an empty string');
          vols[v] = {};
        }
        c.Volumes = vols;
        break;
      }
      case 'HEALTHCHECK':
        c.Healthcheck = healthcheck(line, args, c.Shell, c.Healthcheck);
        break;
      case 'STOPSIGNAL':
        if (!/^(SIG)?[A-Z][A-Z0-9+-]*$|^\d+$/.test(args)) throw bad(line, `invalid signal "${args}"`);
        c.StopSignal = args;
        break;
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

function jsonArray(line: string, args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  let v: unknown;
  try { v = JSON.parse(args); } catch { return undefined; } // docker: not JSON → shell form
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(line, 'exec form must be a JSON array of strings');
  return v as string[];
}

function commandForm(line: string, args: string, shell: string[] | undefined, what: string, allowEmpty = false): string[] {
  const exec = jsonArray(line, args);
  if (exec) return exec;
  if (!args) {
    if (allowEmpty) return shell?.length ? [...shell, ''] : ['/bin/sh', '-c', ''];
    throw bad(line, `${what} requires at least one argument`);
  }
  return [...(shell?.length ? shell : ['/bin/sh', '-c']), args];
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

function exposed(line: string, spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw bad(line, `invalid port "${spec}" (expected PORT[-PORT][/tcp|udp|sctp])`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (lo < 1 || hi > 65535 || hi < lo) throw bad(line, `invalid port range "${spec}"`);
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration ("30s", "1m30s", "500ms") in nanoseconds. */
export function parseDuration(s: string): number | undefined {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    i = re.lastIndex;
  }
  return s.length ? Math.round(total) : undefined;
}

function healthcheck(line: string, args: string, shell: string[] | undefined, _prev?: HealthConfig): HealthConfig {
  if (/^none$/i.test(args)) return { Test: ['NONE'] };
  let rest = args;
  const h: HealthConfig = {};
  for (;;) {
    const m = /^--([a-z-]+)=(\S*)\s*/.exec(rest);
    if (!m) break;
    rest = rest.slice(m[0].length);
    const [, flag, value] = m as unknown as [string, string, string];
    if (flag === 'retries') {
      if (!/^\d+$/.test(value)) throw bad(line, `invalid --retries "${value}"`);
      h.Retries = Number(value);
      continue;
    }
    const key = ({ interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval' } as const)[flag as 'interval'];
    if (!key) throw bad(line, `unknown HEALTHCHECK flag --${flag}`);
    const ns = parseDuration(value);
    if (ns === undefined) throw bad(line, `invalid duration for --${flag}: "${value}"`);
    if (ns !== 0 && ns < 1e6) throw bad(line, `--${flag} cannot be less than 1ms`);
    (h as Record<string, number>)[key] = ns;
  }
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  if (!m || m[1]!.toUpperCase() !== 'CMD') throw bad(line, 'HEALTHCHECK expects CMD or NONE');
  const cmd = m[2]!.trim();
  const exec = jsonArray(line, cmd);
  if (exec) {
    if (exec.length === 0) throw bad(line, 'HEALTHCHECK CMD requires a command');
    h.Test = ['CMD', ...exec];
  } else {
    if (!cmd) throw bad(line, 'HEALTHCHECK CMD requires a command');
    void shell;
    h.Test = ['CMD-SHELL', cmd];
  }
  return h;
}
