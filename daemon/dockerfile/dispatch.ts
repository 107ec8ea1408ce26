/**
 * The config dispatchers shared by `sbx commit -c`/`import -c` (config-changes.ts) and `sbx build`
 * (evaluate.ts): how CMD/ENTRYPOINT/ENV/EXPOSE/LABEL/USER/WORKDIR/VOLUME/HEALTHCHECK/STOPSIGNAL
 * change a ContainerConfig (moby daemon/builder/dockerfile/dispatchers.go). Each takes values that
 * are already split (and, for build, expanded) and mutates the config it is given; errors come
 * from the caller's `bad` so they name the change or the Dockerfile line.
 */
import { posix } from 'node:path';
import type { ContainerConfig, HealthConfig } from '../../protocol/index.js';
import type { SbxError } from '../../protocol/index.js';
import { parseGoDuration } from '../../protocol/index.js';

export type Bad = (why: string) => SbxError;

/** The shell form of CMD/ENTRYPOINT/RUN: [...Shell, text], Shell defaulting to /bin/sh -c. */
export function withShell(shell: readonly string[] | undefined, text: string): string[] {
  return [...(shell?.length ? shell : ['/bin/sh', '-c']), text];
}

/** ENV: an existing key is replaced in place, a new one appended (dispatchers.go dispatchEnv). */
export function setEnv(c: ContainerConfig, pairs: readonly (readonly [string, string])[]): void {
  const env = [...(c.Env ?? [])];
  for (const [k, v] of pairs) {
    const i = env.findIndex((e) => (e.indexOf('=') < 0 ? e : e.slice(0, e.indexOf('='))) === k);
    if (i >= 0) env[i] = `${k}=${v}`; else env.push(`${k}=${v}`);
  }
  c.Env = env;
}

export function addLabels(c: ContainerConfig, pairs: readonly (readonly [string, string])[]): void {
  const labels = { ...(c.Labels ?? {}) };
  for (const [k, v] of pairs) labels[k] = v;
  c.Labels = labels;
}

/** EXPOSE 80 53/udp 8000-8002: default tcp, a range expands, the set is a union. Returns the keys added. */
export function addExposed(c: ContainerConfig, specs: readonly string[], bad: Bad): string[] {
  if (specs.length === 0) throw bad('EXPOSE requires at least one argument');
  const ports = { ...(c.ExposedPorts ?? {}) };
  const added: string[] = [];
  for (const spec of specs) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
    if (!m) throw bad(`invalid port "${spec}" (expected PORT[-PORT][/tcp|udp|sctp])`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    const proto = (m[3] ?? 'tcp').toLowerCase();
    if (lo < 1 || hi > 65535 || hi < lo) throw bad(`invalid port range "${spec}"`);
    for (let p = lo; p <= hi; p++) { ports[`${p}/${proto}`] = {}; added.push(`${p}/${proto}`); }
  }
  c.ExposedPorts = ports;
  return added;
}

/** WORKDIR: relative to the previous one, normalised. Returns the new directory. */
export function setWorkdir(c: ContainerConfig, dir: string, bad: Bad): string {
  if (!dir) throw bad('WORKDIR requires exactly one argument');
  c.WorkingDir = posix.normalize(dir.startsWith('/') ? dir : posix.join('/', c.WorkingDir || '/', dir));
  return c.WorkingDir;
}

export function addVolumes(c: ContainerConfig, list: readonly string[], bad: Bad): void {
  if (list.length === 0) throw bad('VOLUME requires at least one argument');
  const vols = { ...(c.Volumes ?? {}) };
  for (const v of list) {
    if (!v.trim()) throw bad('VOLUME specified can not be an empty string');
    vols[v] = {};
  }
  c.Volumes = vols;
}

export function setStopSignal(c: ContainerConfig, sig: string, bad: Bad): void {
  if (!/^(SIG)?[A-Z][A-Z0-9+-]*$|^\d+$/.test(sig)) throw bad(`invalid signal "${sig}"`);
  c.StopSignal = sig;
}

/** CMD/ENTRYPOINT: ENTRYPOINT resets Cmd unless a CMD came earlier (in the change set / the stage). */
export function setCommand(c: ContainerConfig, which: 'CMD' | 'ENTRYPOINT', argv: string[], cmdSet: boolean): void {
  if (which === 'CMD') { c.Cmd = argv; return; }
  c.Entrypoint = argv;
  if (!cmdSet) c.Cmd = null;
}

/** A Go duration ("30s", "1m30s", "500ms") in nanoseconds; negative ones are malformed here. */
export function parseDuration(s: string): number | undefined {
  const ns = parseGoDuration(s);
  return ns === undefined || ns < 0 ? undefined : ns;
}

/** A JSON array of strings, or undefined when the text is not JSON (then it is the shell form). */
export function jsonArray(args: string, bad: Bad): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  let v: unknown;
  try { v = JSON.parse(args); } catch { return undefined; }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad('exec form must be a JSON array of strings');
  return v as string[];
}

/** HEALTHCHECK [--interval= --timeout= --start-period= --start-interval= --retries=] CMD … | NONE */
export function healthcheck(args: string, bad: Bad): HealthConfig {
  if (/^none$/i.test(args)) return { Test: ['NONE'] };
  let rest = args;
  const h: HealthConfig = {};
  for (;;) {
    const m = /^--([a-z-]+)=(\S*)\s*/.exec(rest);
    if (!m) break;
    rest = rest.slice(m[0].length);
    const [, flag, value] = m as unknown as [string, string, string];
    if (flag === 'retries') {
      if (!/^\d+$/.test(value)) throw bad(`invalid --retries "${value}"`);
      h.Retries = Number(value);
      continue;
    }
    const key = ({ interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval' } as const)[flag as 'interval'];
    if (!key) throw bad(`unknown HEALTHCHECK flag --${flag}`);
    const ns = parseDuration(value);
    if (ns === undefined) throw bad(`invalid duration for --${flag}: "${value}"`);
    if (ns !== 0 && ns < 1e6) throw bad(`--${flag} cannot be less than 1ms`);
    (h as Record<string, number>)[key] = ns;
  }
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  if (!m || m[1]!.toUpperCase() !== 'CMD') throw bad('HEALTHCHECK expects CMD or NONE');
  const cmd = m[2]!.trim();
  const exec = jsonArray(cmd, bad);
  if (exec) {
    if (exec.length === 0) throw bad('HEALTHCHECK CMD requires a command');
    h.Test = ['CMD', ...exec];
  } else {
    if (!cmd) throw bad('HEALTHCHECK CMD requires a command');
    h.Test = ['CMD-SHELL', cmd];
  }
  return h;
}
